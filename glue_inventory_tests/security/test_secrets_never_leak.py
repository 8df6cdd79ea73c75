"""Secrets planted in a fleet never leave: not in a table, a report, a Dagster event, a log line or an LLM prompt.

The simulator plants passwords, GitHub tokens and AWS secret keys in DefaultArguments, script
literals and failed runs' error messages (`JobTruth.secrets`); one extra job adds other shapes
(credentials in URLs and JSON, Bearer tokens, a private key). The whole pipeline runs on Postgres,
deep analysis included for every job holding a secret, with the AI review on a local
OpenAI-compatible server; then every place the pipeline writes to is searched.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._serdes import serialize_value

from glue_inventory.analysis.code.secrets import REDACTED
from glue_inventory.aws.clients import platform_sessions
from glue_inventory.config import PlatformConfig
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.services.inventory import list_platform
from glue_inventory.simulate import SimJob, build_fleet, start_simulator
from glue_inventory.simulate.runs import SimJobRun
from glue_inventory.simulate.scripts import Script
from glue_inventory.storage.db import engine_for, make_engine
from glue_inventory.storage.tables import analysis_runs, data_jobs, job_artifacts, job_runs
from glue_inventory_tests.llm_server import LLMServer

ACCOUNT = "710987654321"
REVIEW = {"summary": "Reviewed.", "overall_risk": "high", "recommendations": [
    {"title": "Move credentials to Secrets Manager", "category": "security", "severity": "critical",
     "est_monthly_savings_usd": 0.0, "effort": "low", "evidence_lines": [1]}]}

# Extra shapes the simulator does not plant; each value is unique so a hit names its source.
URL_PASSWORD = "Url-Pw-7QmZ2xLp9K"
JSON_API_KEY = "sk_live_51HcXyZq8Rt4Vb2NmKp0Wd7Ys"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldGwtcnVubmVyIn0.Qm9ndXNTaWduYXR1cmVYeXo"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"
ERROR_PASSWORD = "Err-Pw-4TgH8sWq2N"
TAG_PASSWORD = "Tag-Pw-9XkL2mQ7vB"
EXTRA_SECRETS = (URL_PASSWORD, JSON_API_KEY, BEARER, AWS_SECRET, PRIVATE_KEY_BODY, ERROR_PASSWORD)


def _extra_job(base: SimJob) -> SimJob:
    """A failing Spark job whose arguments, script and error messages hold the extra shapes."""
    arguments = {**base.default_arguments,
                 "--source_url": f"postgresql://etl:{URL_PASSWORD}@warehouse.internal:5432/sales",
                 "--service_config": json.dumps({"endpoint": "https://api.internal", "api_key": JSON_API_KEY})}
    script = base.script.text + "\n".join([
        "",
        f'HEADERS = {{"Authorization": "Bearer {BEARER}"}}',
        f'session = boto3.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="{AWS_SECRET}")',
        f'SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----"""',
        f"# old connection: postgresql://etl:{URL_PASSWORD}@warehouse.internal/sales",
        "",
    ])
    messages = [f"java.sql.SQLException: FATAL: login failed; url=jdbc:postgresql://db:5432/x?user=etl&password="
                f"{ERROR_PASSWORD}",
                f"HTTP 401 from https://api.internal: request had Authorization: Bearer {BEARER}",
                f"botocore error with aws_secret_access_key={AWS_SECRET}"]
    runs = [SimJobRun(run.job_name.replace(base.name, "leaky_extra_shapes"), run.key ^ (1 << 62), run.started,
                      run.execution_time, "FAILED" if index % 2 == 0 else run.state, run.config, run.attempt,
                      run.dpu_seconds, messages[index % 3] if index % 2 == 0 else run.error_message)
            for index, run in enumerate(base.runs)]
    return replace(base, name="leaky_extra_shapes", default_arguments=arguments, runs=runs,
                   command={**base.command, "ScriptLocation": base.script_location.replace(base.name,
                                                                                            "leaky_extra_shapes")},
                   script=Script(base.script.key, script, base.script.rules),
                   secrets=frozenset({*base.secrets, *EXTRA_SECRETS}))


def _fragments(secret: str) -> set[str]:
    """The secret, its URL-encoded form and its middle half: a partial mask must not leave most of it."""
    forms = {secret, quote(secret, safe="")}
    if len(secret) >= 12:
        forms.add(secret[len(secret) // 4: len(secret) - len(secret) // 4])
    return forms


class Leaks:
    def __init__(self, secrets: set[str]) -> None:
        self.forms = {form: secret for secret in secrets for form in _fragments(secret)}
        self.found: dict[str, set[str]] = {}

    def check(self, where: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        hits = {secret for form, secret in self.forms.items() if form in text}
        if hits:
            self.found.setdefault(where, set()).update(hits)


@pytest.fixture
def leaky_fleet(postgres_url, tmp_path, monkeypatch):
    fleet = build_fleet(33, 13, datetime.now(UTC), account_id=ACCOUNT)  # the 33 archetypes: every planted secret
    with start_simulator(fleet) as sim, LLMServer(answer=json.dumps(REVIEW)) as llm:
        base = next(j for j in fleet.jobs if j.profile.leaky_errors and j.command["Name"] == "glueetl")
        sim.add_job(_extra_job(base))
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("GLUE_INVENTORY_LLM_MODEL", raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", postgres_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        config = tmp_path / "config.yaml"
        config.write_text("platforms:\n  - name: sim\n    regions: [us-east-1, eu-west-1]\n")
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        yield sim, llm


def _planted(sim) -> dict[str, set[str]]:
    """Where each secret really is in the simulated AWS account, so the search cannot pass vacuously."""
    places: dict[str, set[str]] = {"arguments": set(), "script": set(), "run errors": set()}
    for job in sim.fleet.jobs:
        for secret in job.secrets:
            if any(secret in value for value in job.default_arguments.values()):
                places["arguments"].add(secret)
            if secret in job.script.text and not job.profile.script_missing:
                places["script"].add(secret)
            if any(run.error_message and secret in run.error_message for run in job.runs):
                places["run errors"].add(secret)
    return places


def _table_rows(url: str) -> dict[str, list[str]]:
    """Every row of every table in the database (whatever the migrations created), as text."""
    engine = engine_for(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    rows: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows[table.name] = [json.dumps(list(row), default=str, ensure_ascii=False)
                                for row in conn.execute(sa.select(table))]
    return rows


def test_planted_secrets_never_leave(leaky_fleet, postgres_url, tmp_path, capfd, caplog):
    sim, llm = leaky_fleet
    truth = sim.truth(datetime.now(UTC))
    secrets = {secret for job in truth.values() for secret in job.secrets}
    planted = _planted(sim)
    assert all(planted.values()), planted
    secret_keys = sorted(encode_partition_key(*key.split("/", 2)) for key, job in truth.items() if job.secrets)
    home = tmp_path / "dagster_home"
    home.mkdir()

    with dg.DagsterInstance.local_temp(str(home)) as instance:
        run_pipeline(instance, log=lambda _: None)
        for key in secret_keys:
            materialize(instance, DEEP_ASSET_KEYS, partition_key=key)
        materialize(instance, ["executive_report"])
        runs = instance.get_runs()
        events = [(run.run_id, entry) for run in runs for entry in instance.all_logs(run.run_id)]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)

    control = Leaks(secrets)
    control.check("simulated account", json.dumps([[*j.default_arguments.values(), j.script.text,
                                                    *(r.error_message or "" for r in j.runs)] for j in sim.fleet.jobs]))
    assert control.found["simulated account"] == secrets  # the search does find every secret where it is planted

    leaks = Leaks(secrets)
    tables = _table_rows(postgres_url)
    for table, rows in tables.items():
        for row in rows:
            leaks.check(f"table {table}", row)
    reports = [path for path in (tmp_path / "reports").rglob("*") if path.is_file()]
    for path in reports:
        leaks.check(f"report {path.relative_to(tmp_path)}", path.read_bytes())
    for run_id, entry in events:
        leaks.check(f"event log of run {run_id}", serialize_value(entry))
    for path in Path(home).rglob("*"):
        if path.is_file():
            leaks.check(f"dagster home {path.relative_to(home)}", path.read_bytes())
    for index, body in enumerate(llm.requests):
        leaks.check(f"LLM request {index}", json.dumps(body, ensure_ascii=False))
    captured = capfd.readouterr()
    leaks.check("stdout", captured.out)
    leaks.check("stderr", captured.err)
    leaks.check("log records", caplog.text)
    assert leaks.found == {}

    # The search covered what it should: secret jobs analysed in depth and reviewed, redacted evidence stored.
    assert len(llm.requests) >= len(secret_keys) and len(reports) > len(secret_keys)
    assert any(REDACTED in json.dumps(body) for body in llm.requests), "no prompt carried a redacted script"
    assert sum(len(rows) for rows in tables.values()) > 0 and events
    with engine_for(postgres_url).connect() as conn:
        deep = conn.execute(sa.select(data_jobs.c.partition_key, analysis_runs.c.ai_analysis)
                            .join(analysis_runs, analysis_runs.c.data_job_id == data_jobs.c.id)
                            .where(analysis_runs.c.analysis_type == "deep")).all()
        errors = conn.execute(sa.select(job_runs.c.error_message)
                              .where(job_runs.c.error_message.contains(REDACTED))).scalars().all()
        scripts = conn.execute(sa.select(job_artifacts.c.content).where(job_artifacts.c.asset == "job_script")
                               ).scalars().all()
    assert {key for key, _ in deep} >= set(secret_keys)
    assert all(ai["status"] == "ok" for key, ai in deep if key in secret_keys)
    assert errors, "no redacted error message was stored: the run-error secrets were never exercised"
    assert any(REDACTED in (script.get("text") or "") for script in scripts)



def test_secret_looking_tag_values_are_not_kept(monkeypatch):
    """A secret put in a tag (`db_password=…`) would reach `data_jobs.tags` and the inventory reports."""
    fleet = build_fleet(1, 3, datetime.now(UTC), account_id="720987654321")
    fleet.jobs = [replace(fleet.jobs[0], tags={**fleet.jobs[0].tags, "db_password": TAG_PASSWORD})]
    with start_simulator(fleet) as sim:
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        session, = platform_sessions([PlatformConfig(name="sim", regions=["us-east-1"])])
        listing = list_platform(session)
    assert listing.jobs and listing.jobs[0]["tags"].get("db_password")
    assert TAG_PASSWORD not in json.dumps(listing.jobs, default=str)


def test_database_errors_do_not_repeat_the_values_written(sqlite_url):
    engine = make_engine(sqlite_url)
    with pytest.raises(sa.exc.DBAPIError) as error, engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (:value)"), {"value": TAG_PASSWORD})
    engine.dispose()
    assert TAG_PASSWORD not in str(error.value)
