"""`glue-inventory demo`: its own Dagster instance (telemetry off, no "Join the Dagster community" dialog), and
a quiet terminal: a line per stage and the summary, Dagster's own lines in a log file named at the end."""

import re
import subprocess
import sys
from pathlib import Path

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


# `make demo` adds its own two lines (uv sync, uv run) to what `glue-inventory demo` prints.
MAKE_LINES = 2
STAGES = ("glue_jobs", "job_preliminary_metrics", "glue_billed_costs", "deep_analysis_candidates",
          "deep analysis of 10 jobs: 5 savings, 5 risk", "remediation_plans, executive_report")


def _demo(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "glue-inventory"), "demo", "--jobs", "20",
                           "--home", str(home)], capture_output=True, text=True, timeout=600, cwd=home.parent)


def test_the_demo_prints_its_stages_and_summary_and_leaves_dagsters_lines_to_a_log_file(tmp_path):
    home = tmp_path / "demo"
    done = _demo(home)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = (done.stdout + done.stderr).splitlines()
    assert len(printed) + MAKE_LINES <= 40, "\n".join(printed)
    for stage in STAGES:
        assert any(re.fullmatch(rf"{re.escape(stage)}(: \d+ \w+)? \(\d+\.\ds\)", line) for line in printed), stage
    assert any(line.startswith("jobs by status: ") for line in printed)
    assert not [line for line in printed if " - dagster - " in line or "__ASSET_JOB" in line]

    log_file = home / "demo.log"
    assert printed[-1].startswith(f"Dagster's log: {log_file}")
    logged = log_file.read_text()
    assert " - dagster - INFO - __ASSET_JOB - " in logged
    assert re.search(r" - job_code_analysis - code analysis: 1/1 scripts analysed", logged)
    assert re.search(r" - glue_jobs - \d+ jobs on \d+/\d+ platforms", logged)
    # Issue "The evidence inside the run": at least three deep analyses read Spark event logs, and their reports
    # show the utilisation, the critical path and the stage findings.
    with_logs = [text for report in (home / "reports" / "jobs").rglob("*.md")
                 if "Executor utilisation" in (text := report.read_text(encoding="utf-8"))]
    assert len(with_logs) >= 3, len(with_logs)
    assert all("| Critical path |" in text and "| skewed-stage |" in text for text in with_logs)


def test_a_failed_step_prints_its_error_and_the_log_path(tmp_path):
    home = tmp_path / "demo"
    home.mkdir()
    (home / "reports").write_text("a file where the reports directory should be")
    done = _demo(home)
    assert done.returncode == 1
    log_file = home / "demo.log"
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, done.stderr
    assert "deep_analysis_candidates: FileExistsError" in error[0] and str(home / "reports") in error[0]
    assert f"Dagster's log: {log_file}" in error[0]
    assert "__ASSET_JOB" not in done.stdout
    assert "STEP_FAILURE - Execution of step \"deep_analysis_candidates\" failed." in log_file.read_text()
