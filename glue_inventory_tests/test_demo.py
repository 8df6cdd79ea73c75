"""The demo's own Dagster instance: telemetry off and no "Join the Dagster community" dialog."""

import dagster as dg
import yaml

from glue_inventory.demo import prepare_home


def test_the_demo_instance_sends_no_telemetry_and_shows_no_community_dialog(tmp_path):
    prepare_home(str(tmp_path))
    home = tmp_path / "dagster_home"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["nux"] == {"enabled": False}
    with dg.DagsterInstance.from_config(str(home)) as instance:  # Dagster 1.13 accepts both keys
        assert instance.telemetry_enabled is False
        assert instance.nux_enabled is False


def test_an_older_demo_home_gets_the_setting_too(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_home(str(tmp_path))
    assert yaml.safe_load((home / "dagster.yaml").read_text())["nux"] == {"enabled": False}
