import textwrap
import time
from pathlib import Path

import pytest

from glue_inventory.analysis.code_rules import RULE_IDS, run_code_rules
from glue_inventory.analysis.code_rules_common import SEVERITIES

SCRIPTS = Path(__file__).parent / "scripts"

GLUE_PREAMBLE = """\
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
"""


def rules_for(snippet: str) -> list[dict]:
    return run_code_rules(GLUE_PREAMBLE + textwrap.dedent(snippet))


def lines_of(snippet: str, rule_id: str) -> list[int]:
    offset = GLUE_PREAMBLE.count("\n")
    return [f["line"] - offset for f in rules_for(snippet) if f["rule_id"] == rule_id]


CASES = [
    # collect-on-large-data
    ("collect-on-large-data", 'df = spark.read.parquet("s3://b/x")\nrows = df.collect()', [2]),
    ("collect-on-large-data", 'pdf = spark.table("sales.orders").toPandas()', [1]),
    ("collect-on-large-data", "def f(df):\n    return df.select('a').collect()", [2]),
    ("collect-on-large-data", 'df = spark.read.parquet("p")\nrows = df.limit(10).collect()', []),
    ("collect-on-large-data", 'df = spark.read.parquet("p")\nfew = df.limit(5)\nrows = few.collect()', []),
    ("collect-on-large-data", "rows = spark.sparkContext.parallelize([1, 2, 3]).collect()", []),
    ("collect-on-large-data", "data = [(1, 'a')]\nrows = spark.createDataFrame(data).collect()", []),
    ("collect-on-large-data", 'm = spark.sql("SELECT max(ts) FROM t").collect()[0][0]', []),
    ("collect-on-large-data", 'm = spark.sql("SELECT a, count(*) FROM t GROUP BY a").collect()', [1]),
    ("collect-on-large-data", 'total = spark.table("t").agg(F.sum("x")).collect()', []),
    ("collect-on-large-data", 'per_key = spark.table("t").groupBy("k").agg(F.sum("x")).collect()', [1]),
    ("collect-on-large-data", "import gc\ngc.collect()", []),
    # single-partition-write
    ("single-partition-write", 'spark.table("t").repartition(1).write.mode("overwrite").csv("s3://b/o")', [1]),
    ("single-partition-write", 'df = spark.table("t")\nout = df.coalesce(1)\nout.write.mode("append").json("p")', [2]),
    (
        "single-partition-write",
        """\
        from awsglue.dynamicframe import DynamicFrame
        df = spark.table("t")
        single = DynamicFrame.fromDF(df.coalesce(1), glueContext, "single")
        glueContext.write_dynamic_frame.from_options(frame=single, connection_type="s3",
            connection_options={"path": "s3://b/o"}, format="csv")
        """,
        [3],
    ),
    ("single-partition-write", 'df = spark.table("t").coalesce(1)\nprint(df.count())', []),
    ("single-partition-write", 'spark.table("t").repartition(200).write.mode("overwrite").parquet("p")', []),
    ("single-partition-write", 'spark.table("t").coalesce(8).write.mode("overwrite").parquet("p")', []),
    # job-init-without-commit / job-commit-without-init
    ("job-init-without-commit", 'args = getResolvedOptions(sys.argv, ["JOB_NAME"])\njob = Job(glueContext)\n'
     'job.init(args["JOB_NAME"], args)', [3]),
    ("job-init-without-commit", 'job = Job(glueContext)\njob.init("j", {})\njob.commit()', []),
    ("job-commit-without-init", "job = Job(glueContext)\njob.commit()", [2]),
    ("job-commit-without-init", "import psycopg2\nconn = psycopg2.connect(dsn)\nconn.commit()", []),
    ("job-commit-without-init", 'job = Job(glueContext)\njob.init("j", {})\njob.commit()', []),
    # hardcoded-credentials
    ("hardcoded-credentials", 'password = "hunter2"', [1]),
    ("hardcoded-credentials", 'DB_PASSWORD = "***REDACTED***"', [1]),
    ("hardcoded-credentials", 'opts = {"url": "jdbc:postgresql://h/db", "user": "etl", "password": "pw"}', [1]),
    ("hardcoded-credentials", 'df = spark.read.jdbc(url, "t", properties={"user": "u", "password": "p1"})', [1]),
    ("hardcoded-credentials", 'conn = connect(host="h", password="hunter2")', [1]),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect(host, "user", "pw")', [2]),
    ("hardcoded-credentials", 'import pymysql\nconn = pymysql.connect("db", "root", "toor", "sales")', [2]),
    ("hardcoded-credentials", 'import cx_Oracle\nconn = cx_Oracle.connect("scott", "tiger", "db:1521/x")', [2]),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect("host=h user=u password=pw")', [2]),
    ("hardcoded-credentials", 'from sqlalchemy import create_engine\ne = create_engine("postgresql://u:p@h/db")', [2]),
    ("hardcoded-credentials", 'import boto3\ns3 = boto3.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",\n'
     '    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")', [2, 3]),
    ("hardcoded-credentials", 'url = "jdbc:mysql://h:3306/db?user=etl&password=hunter2"', [1]),
    ("hardcoded-credentials", 'password = os.environ["DB_PASSWORD"]', []),
    ("hardcoded-credentials", 'password = ""', []),
    ("hardcoded-credentials", 'PASSWORD_ENV = "DB_PASSWORD"', []),
    ("hardcoded-credentials", 'secret_name = "prod/etl/db"', []),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect(host=h, user=u, password=pw)', []),
    ("hardcoded-credentials", 'url = f"jdbc:mysql://{host}/db?user={user}&password={pw}"', []),
    ("hardcoded-credentials", 'print("password rotated")', []),
    # sql-from-strings
    ("sql-from-strings", 'table = sys.argv[1]\nspark.sql(f"SELECT * FROM {table}")', [2]),
    ("sql-from-strings", 'd = "2024-01-01"\nspark.sql("SELECT * FROM t WHERE d = \'" + d + "\'")', [2]),
    ("sql-from-strings", 'spark.sql("SELECT * FROM {}".format(name))', [1]),
    ("sql-from-strings", 'spark.sql("SELECT * FROM t WHERE id = %s" % ident)', [1]),
    ("sql-from-strings", 'q = f"DELETE FROM t WHERE id = {i}"\ncur.execute(q)', [2]),
    ("sql-from-strings", 'athena.start_query_execution(QueryString=f"SELECT * FROM {t}", WorkGroup="w")', [1]),
    ("sql-from-strings", 'spark.sql("select 1")', []),
    ("sql-from-strings", 'spark.sql("SELECT * FROM t WHERE d = :d", args={"d": d})', []),
    ("sql-from-strings", 'cur.execute("SELECT * FROM t WHERE id = %s", (ident,))', []),
    ("sql-from-strings", 'Q = "SELECT a " + "FROM t"\nspark.sql(Q)', []),
    # secret-argument-logged
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\n'
     'print("pw is", args["db_password"])', [2]),
    ("secret-argument-logged", 'import logging\nargs = getResolvedOptions(sys.argv, ["api_token"])\n'
     'token = args["api_token"]\nlogging.info(f"using {token}")', [4]),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\nprint(args)', [2]),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\n'
     'logger = glueContext.get_logger()\nlogger.info("job " + args["JOB_NAME"])', []),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])\nprint(args)', []),
    # runtime-code-execution
    ("runtime-code-execution", 'import subprocess\nsubprocess.run(["pip", "install", "pandas"], check=True)', [2]),
    ("runtime-code-execution", 'import os\nos.system("pip install requests==2.31")', [2]),
    ("runtime-code-execution", "from subprocess import check_output\nout = check_output(['ls'])", [2]),
    ("runtime-code-execution", 'result = eval("1 + 1")', [1]),
    ("runtime-code-execution", 'exec(code)', [1]),
    ("runtime-code-execution", 'import pandas as pd\npdf = pd.DataFrame({"a": [1]})\npdf.eval("a + 1")', []),
    ("runtime-code-execution", 'import os\npath = os.path.join("a", "b")', []),
    # bare-except
    ("bare-except", "try:\n    x = 1\nexcept:\n    pass", [3]),
    ("bare-except", "try:\n    x = 1\nexcept ValueError:\n    raise", []),
    # python-udf
    ("python-udf", 'lower_udf = F.udf(lambda s: s.lower())', [1]),
    ("python-udf", 'from pyspark.sql.functions import udf\n@udf("string")\ndef clean(s):\n    return s.strip()', [2]),
    ("python-udf", 'from pyspark.sql.functions import udf\n@udf\ndef clean(s):\n    return s.strip()', [3]),
    ("python-udf", 'spark.udf.register("up", lambda s: s.upper())', [1]),
    ("python-udf", 'df = spark.table("t").withColumn("l", F.lower("name"))', []),
    ("python-udf", 'from pyspark.sql.functions import pandas_udf\n@pandas_udf("double")\ndef f(s):\n    return s', []),
    # cache-not-released
    ("cache-not-released", 'df = spark.table("t").cache()\nprint(df.count())', [1]),
    ("cache-not-released", 'df = spark.table("t")\ndf.persist()\nprint(df.count())', [2]),
    ("cache-not-released", 'df = spark.table("t").cache()\nprint(df.count())\ndf.unpersist()', []),
    ("cache-not-released", "import functools\n@functools.cache\ndef f():\n    return 1", []),
    # write-errorifexists
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o")', [1]),
    ("write-errorifexists", 'spark.table("t").write.format("delta").save("s3://b/o")', [1]),
    ("write-errorifexists", 'spark.table("t").write.partitionBy("d").saveAsTable("db.t")', [1]),
    ("write-errorifexists", 'spark.table("t").write.insertInto("db.t")', [1]),
    ("write-errorifexists", 'w = spark.table("t").write.format("csv")\nw.save("p")', [2]),
    ("write-errorifexists", 'spark.table("t").write.mode("overwrite").parquet("s3://b/o")', []),
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o", mode="append")', []),
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o", "overwrite")', []),
    ("write-errorifexists", 'w = spark.table("t").write.mode("append")\nw.saveAsTable("db.t")', []),
    ("write-errorifexists", 'spark.table("t").writeStream.format("console").start()', []),
    ("write-errorifexists", 'with open("f", "w") as fh:\n    fh.write("x")', []),
]


@pytest.mark.parametrize(("rule_id", "snippet", "expected_lines"), CASES)
def test_rule(rule_id, snippet, expected_lines):
    assert lines_of(snippet, rule_id) == expected_lines


def test_every_rule_has_a_positive_case():
    positive = {rule for rule, _, lines in CASES if lines}
    assert positive >= set(RULE_IDS) - {"python2-syntax", "syntax-error", "too-deeply-nested", "rule-error"}


def test_finding_schema():
    findings = rules_for('password = "x"\ntry:\n    pass\nexcept:\n    pass\n')
    assert findings
    for item in findings:
        assert set(item) == {"rule_id", "severity", "line", "message", "source"}
        assert item["severity"] in SEVERITIES
        assert item["source"] == "ast"
        assert isinstance(item["line"], int)


def test_findings_never_quote_the_secret_value():
    findings = rules_for('db_password = "hunter2"\nconn = connect(host="h", password="toor42")')
    assert len(findings) == 2
    assert not any("hunter2" in f["message"] or "toor42" in f["message"] for f in findings)


PYTHON2 = """\
import sys
def main(argv):
    print "starting", argv
    try:
        run()
    except ValueError, e:
        print >>sys.stderr, e
"""


def test_python2_script_is_a_finding_with_the_error_line():
    findings = run_code_rules(PYTHON2)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("python2-syntax", 3)]
    assert "print statement on line 3" in findings[0]["message"]


@pytest.mark.parametrize(
    ("source", "line"),
    [("x = (1,\ny = 2\n", 1), ("def f(:\n    pass\n", 1), ("a = 1\nif a\n    b = 2\n", 2), ("\tx = 1\n", 1)],
)
def test_syntax_errors_are_findings(source, line):
    findings = run_code_rules(source)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("syntax-error", line)]


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 500 + "1" + ")" * 500,
        "x = " + "[" * 300 + "]" * 300,
        "x = " + "1 + " * 50_000 + "1",
        "x = " + "-" * 100_000 + "1",
        "x = a" + ".b" * 100_000,
        "f(" * 150 + ")" * 150,
        "def f():\n" + "".join("    " * i + "if x:\n" for i in range(1, 99)) + "    " * 99 + "pass\n",
    ],
)
def test_deep_nesting_is_a_finding_not_a_crash(source):
    start = time.monotonic()
    findings = run_code_rules(source)
    assert time.monotonic() - start < 10
    assert {f["rule_id"] for f in findings} <= {"too-deeply-nested", "syntax-error"}
    assert findings


def test_hundred_thousand_lines_in_bounded_time():
    source = "".join(f"value_{i} = compute({i}, 'name_{i}')\n" for i in range(100_000))
    source += "rows = spark.table('t').collect()\n"
    start = time.monotonic()
    findings = run_code_rules(source)
    assert time.monotonic() - start < 60
    assert [(f["rule_id"], f["line"]) for f in findings] == [("collect-on-large-data", 100_001)]


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("clean_*.py")), ids=lambda p: p.stem)
def test_clean_glue_scripts_have_no_findings(path):
    assert run_code_rules(path.read_text()) == []
