"""The GLUE_INVENTORY_* variables: one schema, read by one function, never at import time."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import glue_inventory
from glue_inventory.config import ENVIRONMENT_VARIABLES, ConfigError, load_settings, read_environment

PACKAGE = Path(glue_inventory.__file__).parent
DOCS = PACKAGE.parent / "docs"
PREFIX = "GLUE_INVENTORY_"
READERS = {"get", "getenv", "pop", "setdefault"}


def _is_variable(node: ast.AST, names: set[str]) -> bool:
    """A GLUE_INVENTORY_* name: a literal, an f-string starting with the prefix, or a constant bound to one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith(PREFIX)
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and _is_variable(node.values[0], names)
    if isinstance(node, ast.Name):
        return node.id in names
    return isinstance(node, ast.Attribute) and node.attr in names


def constant_names(trees: list[ast.Module]) -> set[str]:
    """Module-level names bound to a GLUE_INVENTORY_* literal anywhere in the package."""
    return {target.id for tree in trees for node in tree.body if isinstance(node, ast.Assign)
            and _is_variable(node.value, set()) for target in node.targets if isinstance(target, ast.Name)}


def environment_reads(tree: ast.Module, names: set[str]) -> list[int]:
    """Lines reading a GLUE_INVENTORY_* variable: its name given to get/getenv/pop/setdefault or read by []."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _is_variable(node.args[0], names):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if called in READERS:
                lines.append(node.lineno)
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and _is_variable(node.slice, names)):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("source", [
    'import os\nURL = os.environ.get("GLUE_INVENTORY_DATABASE_URL")\n',
    'import os\nURL = os.getenv("GLUE_INVENTORY_DATABASE_URL", "sqlite://")\n',
    'import os\nVARIABLE = "GLUE_INVENTORY_AUTOMATION"\nSWITCH = os.environ[VARIABLE]\n',
    'def model(env):\n    return env.get(f"GLUE_INVENTORY_{\'LLM_MODEL\'}")\n',
])
def test_the_check_finds_a_read(source):
    tree = ast.parse(source)
    assert environment_reads(tree, constant_names([tree]))


def test_no_module_but_config_reads_a_glue_inventory_variable():
    files = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}
    names = constant_names(list(files.values()))
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}" for path, tree in files.items()
             if path != PACKAGE / "config.py" for line in environment_reads(tree, names)]
    assert found == [], "read GLUE_INVENTORY_* variables through config.read_environment (or load_settings)"


def test_every_variable_is_documented():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert [variable for variable in ENVIRONMENT_VARIABLES.values() if f"`{variable}`" not in text] == []


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("GLUE_INVENTORY_AUTOMATION", "maybe", "expected on or off"),
    ("GLUE_INVENTORY_AUTOMATION_INTERVAL_S", "0", "expected a whole number of seconds"),
    ("GLUE_INVENTORY_SYNC_INTERVAL_S", "5m", "expected a whole number of seconds"),
    ("GLUE_INVENTORY_OTEL_AWS_CALL_RATIO", "2", "expected a number from 0 to 1"),
    ("GLUE_INVENTORY_UI_PORT", "http", "expected a TCP port number"),
])
def test_a_bad_value_names_the_variable_and_what_it_expects(variable, value, expected):
    with pytest.raises(ConfigError, match=f"^{variable}='{value}': {expected}.* — fix or unset the variable$"):
        read_environment({variable: value})


def test_the_variables_override_the_file_and_blank_is_unset(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("llm: {model: file-model}\nnotifications: {webhook_url: 'https://hooks.example/file'}\n")
    environ = {"GLUE_INVENTORY_CONFIG": str(config), "GLUE_INVENTORY_LLM_MODEL": "env-model",
               "GLUE_INVENTORY_WEBHOOK_URL": "https://hooks.example/env", "GLUE_INVENTORY_AUTOMATION": " Off "}
    settings = load_settings(environ=environ)
    assert (settings.llm.model, settings.notifications.webhook_url) == ("env-model", "https://hooks.example/env")
    assert settings.environment.automation == "off" and settings.environment.config == str(config)
    blank = load_settings(environ={"GLUE_INVENTORY_CONFIG": str(config), "GLUE_INVENTORY_LLM_MODEL": " "})
    assert blank.llm.model == "file-model" and blank.environment.automation == "on"


def test_the_file_cannot_set_the_environment(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("environment: {automation: 'off'}\n")
    with pytest.raises(ConfigError, match="environment: set by the GLUE_INVENTORY_\\* variables, not the file"):
        load_settings(config, environ={})


def test_importing_the_package_reads_and_changes_nothing():
    """A bad value does not break an import (it breaks the definitions' load), and no import sets a variable."""
    probe = ("import os, glue_inventory, glue_inventory.cli, glue_inventory.pipeline, glue_inventory.demo, "
             "glue_inventory.orchestration.automation, glue_inventory.serve.topology; "
             "print(sorted(name for name in os.environ if name.startswith('DAGSTER_')))")
    env = {name: value for name, value in os.environ.items() if not name.startswith("DAGSTER_")}
    env |= {"GLUE_INVENTORY_AUTOMATION": "maybe", "GLUE_INVENTORY_SYNC_INTERVAL_S": "soon"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr[-2000:]


def test_a_command_reports_a_bad_value_in_one_line(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("GLUE_INVENTORY_")}
    env |= {"DAGSTER_HOME": str(tmp_path), "GLUE_INVENTORY_SYNC_INTERVAL_S": "soon"}
    done = subprocess.run([str(Path(sys.executable).parent / "glue-inventory"), "refresh"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.strip()) == (2, "glue-inventory refresh: GLUE_INVENTORY_SYNC_INTERVAL_S="
                                                         "'soon': expected a whole number of seconds, at least 1 — "
                                                         "fix or unset the variable")
