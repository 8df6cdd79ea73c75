import ast
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_inventory.analysis.code.secrets import (
    REDACTED,
    find_secrets,
    redact_arguments,
    redact_text,
    secret_argument_names,
)

# Well-known example / fake values (AWS documentation keys, made-up tokens).
AWS_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_aBcdEfGhIjKlMnOpQrStUvWxYz0123456789"
SLACK_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"

HARMLESS_ARGUMENTS = {
    "--TempDir": "s3://aws-glue-temporary-123456789012-us-east-1/admin/",
    "--enable-metrics": "true",
    "--enable-continuous-cloudwatch-log": "true",
    "--enable-spark-ui": "true",
    "--spark-event-logs-path": "s3://aws-glue-assets-123456789012-us-east-1/sparkHistoryLogs/",
    "--job-language": "python",
    "--extra-py-files": "s3://my-bucket/libs/common.zip,s3://my-bucket/libs/utils.zip",
    "--additional-python-modules": "pandas==2.0.3,pyarrow>=12.0",
    "--job-bookmark-option": "job-bookmark-enable",
    "--enable-glue-datacatalog": "true",
    "--conf": "spark.sql.shuffle.partitions=200 --conf spark.sql.adaptive.enabled=true",
    "--number_of_days": "30",
    "--ratio": "0.25",
    "--input_path": "s3://bucket/raw/orders/2024/01/",
    "--source_database": "sales_raw",
    "--passenger_count": "4",
    "--secret_name": "prod/etl/postgres",
    "--api_key_secret_id": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf",
    "--token_url": "https://auth.example.com/oauth2/token",
    "--db_password": "",
    "--use_auth": "false",
    "--job_uuid": "123e4567-e89b-12d3-a456-426614174000",
    "--region": "eu-west-1",
    "--python-modules-installer-option": "--upgrade",
}


def test_harmless_glue_arguments_are_not_secrets():
    assert secret_argument_names(HARMLESS_ARGUMENTS) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("--db_password", "hunter2"),
        ("--api-token", "abc123"),
        ("--secret_key", "s3cr3t"),
        ("--jdbc_pwd", "p@ss"),
        ("--DB_PASSWD", "x"),
        ("--apiKey", "k-123"),
        ("--client_secret", "cs"),
        ("--aws_secret_access_key", AWS_SECRET_KEY),
        ("--credentials", "user:pass"),
        ("--access_key", "AK"),
        ("--some_value", AWS_ACCESS_KEY),
        ("--gh", GITHUB_TOKEN),
        ("--slack", SLACK_TOKEN),
        ("--connection", "jdbc:postgresql://db.internal:5432/sales?user=etl&password=hunter2"),
        ("--sqlserver", "jdbc:sqlserver://h:1433;databaseName=d;user=u;password=p4ss"),
        ("--url", "postgresql://etl:hunter2@db.internal:5432/sales"),
        ("--opaque", "Zx8vQ2mP9rT4kL7nB3cW6yH1jF5dS0aG"),
        ("--pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"),
    ],
)
def test_secret_arguments_are_flagged_by_name_or_value(name, value):
    arguments = {**HARMLESS_ARGUMENTS, name: value}
    assert secret_argument_names(arguments) == [name]


def test_only_names_are_returned():
    names = secret_argument_names({"--db_password": "hunter2", "--x": AWS_ACCESS_KEY})
    assert names == ["--db_password", "--x"]
    assert "hunter2" not in repr(names) and AWS_ACCESS_KEY not in repr(names)


def test_redact_arguments_replaces_only_secret_values():
    redacted = redact_arguments({**HARMLESS_ARGUMENTS, "--jdbc_password": "hunter2", "--key": AWS_ACCESS_KEY})
    assert redacted["--jdbc_password"] == REDACTED
    assert redacted["--key"] == REDACTED
    assert {k: v for k, v in redacted.items() if k in HARMLESS_ARGUMENTS} == HARMLESS_ARGUMENTS


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('password = "hunter2"', "hunter2"),
        ("db_password = 'hunter2'", "hunter2"),
        ('password: str = "hunter2"', "hunter2"),
        ('conf = {"password": "hunter2", "user": "etl"}', "hunter2"),
        ("{'api_key': 'k-9f8e7d'}", "k-9f8e7d"),
        ("PWD=hunter2 ./run.sh", "hunter2"),
        ("export DB_PASSWORD=hunter2", "hunter2"),
        ("connecting with password=hunter2", "hunter2"),
        ("password: hunter2", "hunter2"),
        ('url = "postgresql://etl:hunter2@db:5432/sales"', "hunter2"),
        ("error: could not connect to mysql://root:hunter2@10.0.0.1/db", "hunter2"),
        ('jdbc = "jdbc:sqlserver://h;user=u;password=hunter2;db=d"', "hunter2"),
        ('jdbc = "jdbc:postgresql://h/db?user=u&password=hunter2"', "hunter2"),
        (f'key_id = "{AWS_ACCESS_KEY}"', AWS_ACCESS_KEY),
        (f'aws_secret_access_key = "{AWS_SECRET_KEY}"', AWS_SECRET_KEY),
        (f"Authorization failed for token {GITHUB_TOKEN}", GITHUB_TOKEN),
        (f"post to slack with {SLACK_TOKEN} now", SLACK_TOKEN),
        ('blob = "Zx8vQ2mP9rT4kL7nB3cW6yH1jF5dS0aG"', "Zx8vQ2mP9rT4kL7nB3cW6yH1jF5dS0aG"),
        ('"password": "with \\"quote\\" inside"', "quote"),
    ],
)
def test_redact_text_removes_every_secret_shape(text, secret):
    redacted = redact_text(f"first line\n{text}\nlast line")
    assert secret not in redacted
    assert REDACTED in redacted
    assert redacted.count("\n") == 2
    assert redacted.startswith("first line\n") and redacted.endswith("\nlast line")


def test_private_key_block_is_redacted_and_lines_kept():
    text = (
        "key = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n"
        "Proc-Type: 4,ENCRYPTED\nbPxRfiCYEXAMPLEKEY+/=\n-----END RSA PRIVATE KEY-----'''\nprint(key)\n"
    )
    redacted = redact_text(text, python=True)
    assert "MIIEpAIBAAKCAQEA" not in redacted and "bPxRfiCY" not in redacted
    assert redacted.count("\n") == text.count("\n")
    assert redacted.endswith("'''\nprint(key)\n")
    ast.parse(redacted)


def test_mentioning_a_private_key_header_does_not_swallow_the_script():
    text = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    count += 1\nprint(count)\n'
    assert redact_text(text).endswith('"):\n    count += 1\nprint(count)\n')


def test_known_secrets_are_redacted_everywhere():
    text = "job failed: auth rejected s3cr3t-value for user\nretry with s3cr3t-value\n"
    redacted = redact_text(text, known_secrets=["s3cr3t-value", ""])
    assert "s3cr3t-value" not in redacted
    assert redacted.count("\n") == 2


@pytest.mark.parametrize(
    "clean",
    [
        'df = spark.read.parquet("s3://my-bucket/some/path/part-0000.snappy.parquet")',
        "conn = connect(host=host, password=password)",
        "conn = connect(\n    host=host,\n    password=pw\n)",
        'pw = os.environ["DB_PASSWORD"]',
        "password = get_secret(args['secret_id'])",
        'token = session.post(url, data={"grant_type": "client_credentials"}).json()["access_token"]',
        'if password == "":\n    raise ValueError("no password")',
        "password: str\n",
        'logger.info("rows written: %d", count)',
    ],
)
def test_redact_text_leaves_code_without_secrets_alone(clean):
    assert redact_text(clean, python=True) == clean


def test_python_mode_keeps_the_script_parseable():
    script = (
        "conn = pymysql.connect(host=h, user=u, password=pw,\n"
        "                       database=d)\n"
        'opts = {"url": "jdbc:mysql://h/db?user=u&password=hunter2", "password": "hunter2"}\n'
        "# PWD=hunter2 used to live here\n"
        "PWD=os.environ['PWD']\n"
    )
    redacted = redact_text(script, python=True)
    ast.parse(redacted)
    assert "hunter2" not in redacted
    assert "password=pw" in redacted


def test_find_secrets_gives_lines_and_kinds_never_values():
    text = f'a = 1\npassword = "hunter2"\nkey = "{AWS_ACCESS_KEY}"\nurl = "https://u:pw9@h/x"\n'
    found = find_secrets(text)
    lines = {line for line, _ in found}
    assert lines == {2, 3, 4}
    assert ("3", "AWS Access Key") not in found and (3, "AWS Access Key") in found
    assert "hunter2" not in repr(found) and AWS_ACCESS_KEY not in repr(found)


def test_find_secrets_on_clean_text_is_empty():
    assert find_secrets('df = spark.read.json("s3://bucket/in/")\ndf.write.mode("append").parquet(out)\n') == []


_SECRET_ALPHABET = st.characters(
    min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="*", blacklist_categories=("Cs", "Zs", "Cc")
)


@settings(max_examples=150, deadline=None)
@given(
    before=st.text(max_size=200),
    after=st.text(max_size=200),
    secret=st.text(_SECRET_ALPHABET, min_size=4, max_size=40).filter(lambda s: s not in REDACTED),
    python=st.booleans(),
)
def test_redact_text_never_leaves_a_known_secret_nor_adds_lines(before, after, secret, python):
    text = before + secret + after
    redacted = redact_text(text, known_secrets=[secret], python=python)
    assert secret not in redacted
    assert redacted.count("\n") == text.count("\n")
    assert len(redacted.splitlines()) <= len(text.splitlines())


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400))
def test_redact_text_keeps_the_line_count_of_any_text(text):
    redacted = redact_text(text)
    assert len(redacted.splitlines()) == len(text.splitlines())


@pytest.mark.parametrize(
    "unit",
    ["eyJ", "sk-", "://a", "pass", "pass=", 'password="', "password.", "ghp_", "aws_",
     "-----BEGIN RSA PRIVATE KEY-----"],
)
def test_hostile_half_megabyte_lines_are_scanned_in_linear_time(unit):
    text = "x = '" + unit * (500_000 // len(unit)) + "'\n"
    start = time.monotonic()
    redacted = redact_text(text, python=True)
    find_secrets(text)
    assert time.monotonic() - start < 15
    assert redacted.count("\n") == 1


# Glue Studio node names: about one AWSGlueDataCatalog node in 14 passes the entropy test of a secret.
STUDIO = (
    'AWSGlueDataCatalog_node1702900605384 = glueContext.create_dynamic_frame.from_catalog(database="s", '
    'table_name="t", transformation_ctx="AWSGlueDataCatalog_node1702900605384")\n'
    'out = glueContext.write_dynamic_frame.from_catalog(frame=AWSGlueDataCatalog_node1702900605384, database="s", '
    'table_name="u", transformation_ctx="AWSGlueDataCatalog_node1745604963572")\n'
)


def test_glue_studio_node_names_are_not_secrets_and_the_script_still_parses():
    assert find_secrets(STUDIO) == []
    assert redact_text(STUDIO, python=True) == STUDIO
    ast.parse(redact_text(STUDIO, python=True))


def test_a_high_entropy_string_that_is_only_quoted_is_still_a_secret():
    token = "AWSGlueDataCatalog_nodeX1702900605384"  # not a node name: the entropy test decides
    text = f'label = "{token}"\nclient.call(tag="{token}")\n'
    assert find_secrets(text) == [(1, "High Entropy String"), (2, "High Entropy String")]
    assert token not in redact_text(text, python=True)
