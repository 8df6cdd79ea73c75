"""The `organization:` section: validated like the rest, one line naming the key and the fix."""

from __future__ import annotations

import pytest

from glue_inventory.config import ConfigError, load_settings


@pytest.mark.parametrize(("text", "expected"), [
    ("organization: {regions: [us-east-1]}", "organization.role_name: Field required"),
    ("organization: {role_name: r, regions: [us-east-1], rolename: x}", "organization.rolename: unknown key"),
    ("organization: {role_name: r, regions: all}", 'organization.regions: a list of Regions or "enabled"'),
    ("organization: {role_name: r, regions: []}", "organization.regions: list at least one Region"),
    ("organization: {role_name: r, regions: [us-east]}", "'us-east' is not a Region name"),
    ("organization: {role_name: r, regions: [us-east-1], include_ous: [ou-1]}",
     "organization.include_ous: 'ou-1' is not an OU id"),
    ("organization: {role_name: r, regions: [us-east-1], exclude_accounts: [111122223333]}",
     'organization.exclude_accounts: write account ids in quotes ("111122223333")'),
    ("organization: {role_name: r, regions: [us-east-1], exclude_accounts: ['1234']}",
     "'1234' is not an AWS account id"),
    ("organization: {role_name: 'arn:aws:iam::111122223333:role/x', regions: [us-east-1]}",
     "organization.role_name: a role name, not an ARN"),
    ("organization: {role_name: r, regions: [us-east-1], max_requests_per_second: 0}",
     "organization.max_requests_per_second: Input should be greater than 0"),
    ("platforms: [{name: p, regions: [us-east-1], max_requests_per_second: -1}]",
     "platforms.0.max_requests_per_second"),
])
def test_bad_organization_section_names_the_key(tmp_path, text, expected):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_organization_alone_means_no_configured_platform(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("organization:\n  role_name: glue-inventory-readonly\n  external_id: glue-inventory\n"
                    "  regions: enabled\n  include_ous: [ou-abcd-11111111, r-ab12]\n"
                    '  exclude_accounts: ["011122223333"]\n  max_requests_per_second: 40\n')
    settings = load_settings(path)
    org = settings.organization
    assert settings.effective_platforms() == []
    assert (org.regions, org.include_ous, org.exclude_accounts) == ("enabled", ["ou-abcd-11111111", "r-ab12"],
                                                                    ["011122223333"])
    assert org.role_arn("011122223333") == "arn:aws:iam::011122223333:role/glue-inventory-readonly"
    assert org.role_arn("011122223333", "aws-cn").startswith("arn:aws-cn:iam::")
