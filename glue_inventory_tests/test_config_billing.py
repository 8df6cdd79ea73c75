"""The `billing:` section: optional, validated with the key and the fix, and the credentials that read the export."""

import pytest

from glue_inventory.aws.clients import platform_sessions
from glue_inventory.config import ConfigError, load_settings
from glue_inventory.services.cost.bill import billing_session

PLATFORMS = "platforms:\n  - name: payer\n    regions: [us-east-1]\n    role_arn: arn:aws:iam::111122223333:role/r\n"


def _settings(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path)


def test_no_billing_section_is_the_feature_off(tmp_path):
    assert _settings(tmp_path, PLATFORMS).billing is None


def test_billing_section_is_read(tmp_path):
    settings = _settings(tmp_path, PLATFORMS + "billing:\n  cur_uri: s3://cur-bucket/exports/\n  platform: payer\n")
    assert settings.billing.cur_uri == "s3://cur-bucket/exports/"
    assert billing_session(settings, platform_sessions(settings.platforms)).platform.name == "payer"


@pytest.mark.parametrize(("section", "message"), [
    ("billing:\n  cur_uri: https://cur-bucket/exports/\n", "billing.cur_uri: expected s3://bucket/prefix/"),
    ("billing:\n  cur_uri: s3://Bad_Bucket/x/\n", "billing.cur_uri: expected s3://bucket/prefix/"),
    ("billing:\n  uri: s3://cur-bucket/\n", "billing.cur_uri: Field required"),
    ("billing:\n  cur_uri: s3://cur-bucket/\n  role: x\n", "billing.role: unknown key"),
])
def test_a_wrong_billing_section_is_one_line_naming_the_key(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message) as error:
        _settings(tmp_path, PLATFORMS + section)
    assert "\n" not in str(error.value)


def test_billing_platform_must_name_a_configured_platform(tmp_path):
    settings = _settings(tmp_path, PLATFORMS + "billing:\n  cur_uri: s3://cur-bucket/\n  platform: payr\n")
    with pytest.raises(ConfigError, match=r"billing.platform 'payr': no configured platform has that name — use "
                                          r"one of \['payer'\]"):
        billing_session(settings, platform_sessions(settings.platforms))


def test_without_a_platform_the_tools_own_credentials_read_the_export(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    settings = _settings(tmp_path, PLATFORMS + "billing:\n  cur_uri: s3://cur-bucket/\n")
    session = billing_session(settings, platform_sessions(settings.platforms))
    assert (session.region, session.platform.role_arn, session.platform.endpoint_url) == (
        "eu-west-1", None, "http://127.0.0.1:9")
