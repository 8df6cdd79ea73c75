"""Rules about secrets, injection and running code at job time.

Scripts reach these rules already redacted: a string literal holding `***REDACTED***` was a
secret, so it is reported as one even though the value is gone.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from glue_inventory.analysis.code.flow import flow_of, job_argument_source
from glue_inventory.analysis.code.model import ScriptModel, call_name, chain, is_str, position, str_value
from glue_inventory.analysis.code.secret_names import secret_name_literals
from glue_inventory.analysis.code.secrets import (
    REDACTED,
    is_placeholder,
    name_looks_secret,
    value_is_harmless,
    value_looks_secret,
)
from glue_inventory.analysis.findings import Finding, finding

_DB_MODULES = {
    "psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "pymssql", "pyodbc", "cx_Oracle", "oracledb",
    "pg8000", "redshift_connector", "snowflake", "teradatasql", "ibm_db", "jaydebeapi", "vertica_python",
    "hdbcli", "trino", "prestodb", "pyhive",
}
# Where the password sits among positional arguments of `connect` (DB-API modules differ).
_PASSWORD_POSITION = {"cx_Oracle": 1, "oracledb": 1}
_DEFAULT_PASSWORD_POSITION = 2
_EMBEDDED_CREDENTIALS = re.compile(
    r"://[^\s:/@'\"]+:(?![$%{<*])[^\s@/'\"]+@|(?:^|[?;&\s])(?:password|pwd)\s*=\s*(?![$%{<*])[^;&\s'\"{}]+",
    re.IGNORECASE,
)
# Oracle's `user/password@dsn` connect string.
_ORACLE_CONNECT_STRING = re.compile(r"^\w+/(?![$%{<*])[^\s/@]+@\w")
# Every detect-secrets token shape (AWS key id, GitHub or Slack token) is at least this long; the
# length test keeps the per-literal token scan off the many short strings of a script.
_MIN_TOKEN_LENGTH = 16

_SQL_CALLS = {"sql": "medium", "execute": "high", "executemany": "high"}
_SQL_KEYWORDS = {"sqlQuery", "query", "sql", "operation", "statement", "QueryString", "Sql"}
_BOTO_SQL_CALLS = {"start_query_execution", "execute_statement", "batch_execute_statement"}
# Reader, writer and connection options whose value is SQL run by Spark's JDBC source or Redshift.
_SQL_OPTIONS = {"query", "preactions", "postactions", "sampleQuery"}

_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
_SHELL_PREFIXES = ("subprocess.", "os.exec", "os.spawn", "os.posix_spawn", "commands.", "pty.spawn")
_SHELL_CALLS = {"os.system", "os.popen", "pip.main", "pip._internal.main", "pip._internal.cli.main.main"}
_PIP = re.compile(r"\bpip3?\b", re.IGNORECASE)
_INSTALL = re.compile(r"\binstall\b", re.IGNORECASE)


def _security_finding(rule_id: str, severity: str, node: ast.AST, message: str) -> Finding:
    return finding(rule_id, severity, position(node)[0] or None, message, "ast")


def _literal_secret(node: ast.AST | None) -> bool:
    """A string literal that is a plausible credential (not empty, a placeholder, a reference or prose)."""
    text = str_value(node)
    if text is None:
        return False
    value = text.strip()
    if REDACTED in value:
        return True
    return bool(value) and not value_is_harmless(value) and not is_placeholder(value) and value.count(" ") < 4


def _credential(node: ast.AST | None, name: str) -> bool:
    """A literal given to a secret-looking name, or one that is a token (AWS key id, GitHub token, …)."""
    text = str_value(node)
    if text is None:
        return False
    token = len(text) >= _MIN_TOKEN_LENGTH and " " not in text.strip() and value_looks_secret(text.strip())
    return token or (name_looks_secret(name) and _literal_secret(node))


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return str_value(target.slice)
    return None


def hardcoded_credentials(model: ScriptModel) -> list[Finding]:
    hits: dict[int, tuple[ast.AST, str]] = {}
    names = {id(constant) for constant in secret_name_literals(model)}

    def hit(node: ast.AST, what: str) -> None:
        hits.setdefault(position(node)[0], (node, what))

    def credential(value: ast.AST | None, name: str) -> bool:
        return id(value) not in names and _credential(value, name)

    for node in model.assign_nodes:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for name in filter(None, map(_target_name, targets)):
            if credential(node.value, name):
                hit(node, f"assigned to `{name}`")
    for mapping in model.dicts:
        for key, value in zip(mapping.keys, mapping.values, strict=False):
            key_text = str_value(key)
            if key_text and credential(value, key_text):
                hit(value, f"under the key `{key_text}`")
    for call in model.calls:
        for item in call.keywords:
            if item.arg and credential(item.value, item.arg):
                hit(item.value, f"passed as `{item.arg}=`")
        _positional_credentials(model, call, hit)
    for constant in model.constants:
        if id(constant) in model.docstrings or not isinstance(constant.value, str):
            continue  # documentation examples, not values the job uses
        if REDACTED in constant.value or _EMBEDDED_CREDENTIALS.search(constant.value):
            hit(constant, "embedded in a connection string or URL")
    return [
        _security_finding(
            "hardcoded-credentials", "critical", node,
            f"Hard-coded credential {what}; read it at run time from AWS Secrets Manager or a Glue "
            "connection, and rotate the exposed value.",
        )
        for _, (node, what) in sorted(hits.items())
    ]


def positional_secret_literals(model: ScriptModel, call: ast.Call) -> list[ast.expr]:
    """Password literals given by position to a DB-API `connect`: text redaction cannot see these."""
    qualified = model.qualified(call.func) or ""
    module = qualified.split(".")[0]
    if call_name(call) not in ("connect", "Connect") or module not in _DB_MODULES:
        return []
    index = _PASSWORD_POSITION.get(module, _DEFAULT_PASSWORD_POSITION)
    found = [call.args[index]] if len(call.args) > index and _literal_secret(call.args[index]) else []
    first = str_value(call.args[0]) if call.args else None
    if module in _PASSWORD_POSITION and first and _ORACLE_CONNECT_STRING.match(first):
        found.append(call.args[0])
    for arg in call.args:
        if isinstance(arg, ast.List | ast.Tuple):
            # jaydebeapi.connect(driver, url, [user, password]): everything after the user.
            found += [item for item in arg.elts[1:] if _literal_secret(item)]
    return found


def _positional_credentials(model: ScriptModel, call: ast.Call, hit: Callable[[ast.AST, str], None]) -> None:
    if positional_secret_literals(model, call):
        hit(call, f"passed positionally to `{model.qualified(call.func)}`")
    url = str_value(call.args[0]) if call.args else None
    if call_name(call) == "create_engine" and url and _EMBEDDED_CREDENTIALS.search(url):
        hit(call, "in the database URL given to `create_engine`")


def _dynamic_string(model: ScriptModel, expr: ast.expr | None, hops: int = 0) -> str | None:
    """How a string is assembled at run time (f-string, +, format, %), or None when it is constant."""
    if isinstance(expr, ast.JoinedStr):
        return "an f-string" if any(isinstance(v, ast.FormattedValue) for v in expr.values) else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        sides = (expr.left, expr.right)
        if any(_dynamic_string(model, side, hops) for side in sides) or not all(
            is_str(side) or isinstance(side, ast.BinOp) for side in sides
        ):
            return "string concatenation"
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod) and is_str(expr.left):
        return "%-formatting"
    if isinstance(expr, ast.Call) and call_name(expr) == "format" and isinstance(expr.func, ast.Attribute):
        return "str.format" if is_str(expr.func.value) or (expr.args or expr.keywords) else None
    if isinstance(expr, ast.Name) and hops < 3:
        origin = flow_of(model).origins(expr)[0]
        return _dynamic_string(model, origin, hops + 1) if origin is not expr else None
    return None


def _sql_sinks(model: ScriptModel) -> list[tuple[ast.AST, ast.expr, str, str]]:
    """(node, SQL text expression, where it goes, severity) for each place the script hands SQL text over."""
    sinks: list[tuple[ast.AST, ast.expr, str, str]] = []
    for call in model.calls:
        name = call_name(call)
        if not isinstance(call.func, ast.Attribute):
            continue
        if name in _SQL_CALLS or name in _BOTO_SQL_CALLS:
            query = call.args[0] if call.args and name in _SQL_CALLS else None
            query = query or next((k.value for k in call.keywords if k.arg in _SQL_KEYWORDS), None)
            if query is not None:
                sinks.append((call, query, f"`.{name}()`", _SQL_CALLS.get(name, "high")))
        elif name == "option" and len(call.args) == 2 and str_value(call.args[0]) in _SQL_OPTIONS:
            sinks.append((call, call.args[1], f"the `{str_value(call.args[0])}` option", "high"))
        predicate = next((k.value for k in call.keywords if k.arg == "push_down_predicate"), None)
        if predicate is not None:
            # A Spark SQL expression Glue evaluates against the table's partitions.
            sinks.append((predicate, predicate, "the `push_down_predicate`", "medium"))
    for mapping in model.dicts:
        for key, value in zip(mapping.keys, mapping.values, strict=False):
            if str_value(key) in _SQL_OPTIONS:
                sinks.append((value, value, f"the `{str_value(key)}` connection option", "high"))
    return sinks


def sql_from_strings(model: ScriptModel) -> list[Finding]:
    """Job arguments that reach SQL text (taint through variables, calls and the script's functions);
    SQL assembled from constants or from values the job computes itself is not reported."""
    found = []
    for node, query, where, severity in _sql_sinks(model):
        arguments = flow_of(model).taint(query, job_argument_source)
        if not arguments:
            continue
        how = _dynamic_string(model, query)
        names = ", ".join(f"`{name}`" for name in sorted(arguments))
        found.append(_security_finding(
            "sql-from-strings", severity, node,
            f"Job argument {names} reaches the SQL text of {where}{f' through {how}' if how else ''}: whoever "
            "starts the job run can change the query (injection, quoting bugs); validate the value (parse it "
            "as a date or number, check it against an allow-list) or pass it as a bind parameter "
            "(cursor.execute(query, params); spark.sql(query, args={...}) on Glue 5.0).",
        ))
    return found


def _resolved_option_secrets(model: ScriptModel) -> tuple[set[str], dict[str, set[str]]]:
    """Names bound to getResolvedOptions results, and the secret-looking keys each one holds."""
    holders: dict[str, set[str]] = {}
    for target, value, _ in model.assigns:
        if isinstance(value, ast.Call) and call_name(value) == "getResolvedOptions" and len(value.args) > 1:
            keys = value.args[1]
            if isinstance(keys, ast.List | ast.Tuple):
                names = (str_value(key) for key in keys.elts)
                secret = {name for name in names if name and name_looks_secret(name)}
                if secret:
                    holders[target] = secret
    return set(holders), holders


def _secret_read(node: ast.AST, holders: dict[str, set[str]]) -> str | None:
    """The secret key read by `args["db_password"]` or `args.get("db_password")`, if that is what `node` is."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        key = str_value(node.slice)
        return key if key in holders.get(node.value.id, set()) else None
    if isinstance(node, ast.Call) and call_name(node) == "get" and node.args:
        root, key = chain(node.func)[0], str_value(node.args[0])
        return key if isinstance(root, ast.Name) and key in holders.get(root.id, set()) else None
    return None


def _carried_secret(node: ast.AST, holders: dict[str, set[str]], tainted: dict[str, str]) -> str | None:
    """The secret key whose value `node` contains: read directly, via a variable, or the whole options dict."""
    reads: set[int] = set()  # `args` nodes inside `args["x"]` / `args.get("x")`: one key, not the dict
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript):
            reads.add(id(sub.value))
        elif isinstance(sub, ast.Call) and call_name(sub) == "get" and isinstance(sub.func, ast.Attribute):
            reads.add(id(sub.func.value))
    for sub in ast.walk(node):
        key = _secret_read(sub, holders)
        if key:
            return key
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return tainted[sub.id]
        if isinstance(sub, ast.Name) and sub.id in holders and id(sub) not in reads:
            return "`, `--".join(sorted(holders[sub.id]))
    return None


def secret_argument_logged(model: ScriptModel) -> list[Finding]:
    holder_names, holders = _resolved_option_secrets(model)
    if not holder_names:
        return []
    tainted: dict[str, str] = {}
    for target, value, _ in model.assigns:
        key = None if target in holder_names else _carried_secret(value, holders, tainted)
        if key:
            tainted[target] = key
    found = []
    for call in model.calls:
        name = call_name(call)
        qualified = model.qualified(call.func) or ""
        is_sink = (name == "print" and isinstance(call.func, ast.Name)) or (
            name in _LOG_METHODS and isinstance(call.func, ast.Attribute)
        ) or qualified in ("sys.stdout.write", "sys.stderr.write")
        if not is_sink:
            continue
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            key = _carried_secret(arg, holders, tainted)
            if key:
                found.append(_security_finding(
                    "secret-argument-logged", "high", call,
                    f"Secret job argument `--{key}` reaches `{name}()` and so the CloudWatch logs; "
                    "never print or log it.",
                ))
                break
    return found


def runtime_code_execution(model: ScriptModel) -> list[Finding]:
    found = []
    for call in model.calls:
        qualified = model.qualified(call.func) or ""
        builtin = call.func.id if isinstance(call.func, ast.Name) else ""
        if builtin in ("eval", "exec") and builtin not in model.aliases:
            found.append(_security_finding(
                "runtime-code-execution", "high", call,
                f"`{builtin}()` runs code built at run time; replace it with explicit logic.",
            ))
            continue
        if not (qualified in _SHELL_CALLS or qualified.startswith(_SHELL_PREFIXES)):
            continue
        texts = [text for text in map(str_value, ast.walk(call)) if text is not None]
        joined = " ".join(texts)
        if (_PIP.search(joined) and _INSTALL.search(joined)) or qualified.startswith("pip"):
            message = (f"`{qualified}` installs packages at run time (pip install): slow, unpinned and "
                       "breaks without internet; use the --additional-python-modules job argument.")
        else:
            message = (f"`{qualified}` runs a shell command from the job; prefer a Python library call, "
                       "and never pass job arguments to a shell.")
        found.append(_security_finding("runtime-code-execution", "medium", call, message))
    return found


def bare_except(model: ScriptModel) -> list[Finding]:
    return [
        _security_finding(
            "bare-except", "low", handler,
            "Bare `except:` also catches SystemExit and KeyboardInterrupt and hides the real error; "
            "catch specific exceptions and re-raise so the job run is marked failed.",
        )
        for handler in model.handlers
        if handler.type is None
    ]
