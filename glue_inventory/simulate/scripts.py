"""Job scripts rendered from `templates/`, clean or with planted problems named by rule id."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

# Which planted rules fit which job type; python2-syntax and scala-script replace the whole script.
RULES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "glueetl": ("collect-on-large-data", "single-partition-write", "job-init-without-commit",
                "hardcoded-credentials", "sql-from-strings", "runtime-code-execution", "bare-except",
                "secret-argument-logged"),
    "gluestreaming": ("job-init-without-commit", "bare-except", "hardcoded-credentials"),
    "pythonshell": ("hardcoded-credentials", "runtime-code-execution", "bare-except", "secret-argument-logged"),
    "glueray": ("bare-except", "runtime-code-execution"),
}
WHOLE_SCRIPT_RULES = ("python2-syntax", "scala-script")

# Module-level code planted before the write; `$secret` is a per-job planted credential.
_SNIPPETS: dict[str, str] = {
    "collect-on-large-data": (
        'rows = df.collect()\nlogger.info(f"collected {len(rows)} rows")\n'
        'by_country = df.toPandas().groupby("country")["amount"].sum()\n'
    ),
    "single-partition-write": 'df.coalesce(1).write.mode("overwrite").csv(args["target_path"] + "/export/")\n',
    "hardcoded-credentials": (
        'DB_PASSWORD = "$secret"\n'
        'conn = pymysql.connect("reporting-db.internal", "etl_user", "$secret", "reporting")\n'
        "conn.close()\n"
    ),
    "sql-from-strings": (
        'run_date = args["target_path"].rstrip("/").rsplit("/", 1)[-1]\n'
        'recent = spark.sql(f"SELECT * FROM $table WHERE event_date >= \'{run_date}\'")\n'
        'legacy = spark.sql("SELECT * FROM $table WHERE country = \'" + run_date + "\'")\n'
    ),
    "runtime-code-execution": (
        'subprocess.check_call([sys.executable, "-m", "pip", "install", "openpyxl==3.1.2"])\n'
        'threshold = eval(args["threshold_expr"])\n'
    ),
    "bare-except": (
        "try:\n    checkpoint = boto3_session_marker()\nexcept:\n    checkpoint = None\n"
    ),
    "secret-argument-logged": 'logger.info("connecting to the warehouse with password %s", args["db_password"])\n',
}
_IMPORTS = {
    "hardcoded-credentials": "import pymysql\n",
    "runtime-code-execution": "import subprocess\n",
    "bare-except": "from glue_helpers import boto3_session_marker\n",
}
_EXTRA_ARGS = {
    "runtime-code-execution": ', "threshold_expr"',
    "secret-argument-logged": ', "db_password"',
}


@dataclass(frozen=True)
class Script:
    key: str  # S3 key under the scripts bucket
    text: str
    rules: frozenset[str]


@cache
def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates").joinpath(name).read_text(encoding="utf-8"))


def render_script(job_type: str, rules: frozenset[str], *, slug: str, table: str, database: str,
                  bucket: str, secret: str) -> Script:
    """The script of a job of `job_type` carrying exactly the planted `rules`."""
    values = {"database": database, "table": table, "bucket": bucket, "job_slug": slug}
    if "scala-script" in rules:
        return Script(f"scripts/{slug}.scala", _template("glueetl.scala.tmpl").substitute(values), rules)
    if "python2-syntax" in rules:
        return Script(f"scripts/{slug}.py", _template("glueetl_python2.py.tmpl").substitute(values), rules)
    unknown = rules - set(RULES_BY_TYPE[job_type])
    if unknown:
        raise ValueError(f"rules {sorted(unknown)} cannot be planted in a {job_type} script")
    ordered = [rule for rule in _SNIPPETS if rule in rules]
    problems = "".join(Template(_SNIPPETS[rule]).substitute(table=table, secret=secret) for rule in ordered)
    values.update(
        imports="".join(_IMPORTS.get(rule, "") for rule in ordered),
        extra_args="".join(_EXTRA_ARGS.get(rule, "") for rule in ordered),
        problems=problems,
        commit="" if "job-init-without-commit" in rules else "job.commit()",
    )
    text = _template(f"{job_type}.py.tmpl").substitute(values)
    return Script(f"scripts/{slug}.py", text, rules)
