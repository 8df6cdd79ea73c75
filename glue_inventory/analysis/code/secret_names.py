"""String literals that are provably the name of a secret, not a secret: a Secrets Manager `SecretId` or an
SSM parameter `Name`, given directly, through a variable used nowhere else, or through a parameter of one of
the script's functions that is used nowhere else (logging the name is allowed).

`secret_name = "prod/glue/redshift"` then `get_secret_value(SecretId=secret_name)` is a reference: flagging
it as a hard-coded password (bandit B105) and redacting it hides from the user what the job reads.
"""

from __future__ import annotations

import ast

from glue_inventory.analysis.code.flow import Definition, Flow, Parameter, flow_of
from glue_inventory.analysis.code.model import ScriptModel, call_name

# boto3 arguments that name a secret or a parameter (Secrets Manager and SSM APIs), by the calls taking them.
_NAME_ARGUMENTS = {
    "SecretId": None,  # every Secrets Manager call that takes it
    "Name": {"get_parameter", "get_parameter_history"},
    "Names": {"get_parameters"},
    "Path": {"get_parameters_by_path"},
    "name": {"get_secret", "get_secret_json", "get_secret_value"},  # awswrangler.secretsmanager
    "secret_id": {"get_secret", "get_secret_value"},
}
_LOG_CALLS = {"print", "debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
# How many of the script's functions a name is followed through (`main` → `load_config` → `get_secret`).
MAX_FORWARDS = 4


def secret_name_literals(model: ScriptModel) -> list[ast.Constant]:
    """The string constants of the script that are provably secret or parameter names, in source order."""
    if "secret_names" not in model.derived:
        named = any(_name_argument(call, item.arg) for call in model.calls for item in call.keywords)
        flow = flow_of(model) if named else None
        model.derived["secret_names"] = [] if flow is None else [
            constant for constant in model.constants if _names_a_secret(flow, constant, 0) is True
        ]
    return model.derived["secret_names"]


def _names_a_secret(flow: Flow, node: ast.AST, depth: int) -> bool | None:
    """True when the value at `node` is used as a secret's name, None when it is only logged, else False."""
    if depth > MAX_FORWARDS:
        return False
    parent = flow.parent.get(id(node))
    if isinstance(parent, ast.Tuple | ast.List) and isinstance(flow.parent.get(id(parent)), ast.keyword):
        node, parent = parent, flow.parent.get(id(parent))  # Names=["a", "b"]
    if isinstance(parent, ast.keyword):
        call = flow.parent.get(id(parent))
        if isinstance(call, ast.Call):
            if _name_argument(call, parent.arg):
                return True
            return _through_function(flow, call, parent.arg, None, depth)
    if isinstance(parent, ast.Call) and node in parent.args:
        if call_name(parent) in _LOG_CALLS:
            return None
        return _through_function(flow, parent, None, parent.args.index(node), depth)
    if isinstance(parent, ast.JoinedStr | ast.FormattedValue | ast.BinOp):
        return None if _logged(flow, parent) else False
    if isinstance(parent, ast.Assign | ast.AnnAssign) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return _uses_name(flow, _loads(flow, targets[0].id, parent), depth)
    if isinstance(parent, ast.arguments):
        return _default_of(flow, parent, node, depth)
    return False


def _name_argument(call: ast.Call, argument: str | None) -> bool:
    calls = _NAME_ARGUMENTS.get(argument or "", ())
    return argument in _NAME_ARGUMENTS and (calls is None or call_name(call) in calls)


def _logged(flow: Flow, node: ast.AST) -> bool:
    """True when `node` sits inside the arguments of a print or logging call (an f-string, `%`, `+`)."""
    current = flow.parent.get(id(node))
    while isinstance(current, ast.JoinedStr | ast.FormattedValue | ast.BinOp | ast.keyword):
        current = flow.parent.get(id(current))
    return isinstance(current, ast.Call) and call_name(current) in _LOG_CALLS


def _uses_name(flow: Flow, uses: list[ast.Name], depth: int) -> bool | None:
    verdicts = [_names_a_secret(flow, use, depth + 1) for use in uses]
    if not verdicts or False in verdicts:
        return False
    return True if True in verdicts else None


def _reads(flow: Flow, name: str) -> list[ast.Name]:
    """Every read of `name` in the script (indexed once)."""
    index = flow.model.derived.get("name_reads")
    if index is None:
        index = {}
        for node in ast.walk(flow.model.tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                index.setdefault(node.id, []).append(node)
        flow.model.derived["name_reads"] = index
    return index.get(name, [])


def _loads(flow: Flow, name: str, statement: ast.AST) -> list[ast.Name]:
    """The reads of `name` that the assignment `statement` reaches."""
    return [node for node in _reads(flow, name) if any(
        isinstance(origin, Definition) and origin.statement is statement for origin in flow.resolve(node))]


def _parameter_loads(flow: Flow, function: ast.AST, name: str) -> list[ast.Name]:
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return []
    return [node for node in _reads(flow, name) if Parameter(function, name) in flow.resolve(node)]


def _through_function(flow: Flow, call: ast.Call, keyword: str | None, index: int | None, depth: int) -> bool:
    """True when `call` calls one of the script's functions whose matching parameter only names a secret."""
    function = flow.function(call)
    if function is None:
        return False
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    name = keyword if keyword is not None else (positional[index] if index is not None and index < len(positional)
                                                else None)
    if name is None:
        return False
    return _uses_name(flow, _parameter_loads(flow, function, name), depth) is True


def _default_of(flow: Flow, arguments: ast.arguments, node: ast.AST, depth: int) -> bool:
    function = flow.parent.get(id(arguments))
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None]
    for parameter, default in pairs:
        if default is node and function is not None:
            return _uses_name(flow, _parameter_loads(flow, function, parameter.arg), depth) is True
    return False
