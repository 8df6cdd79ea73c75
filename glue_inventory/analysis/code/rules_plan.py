"""Rules about work that grows with the data where it should not: a logical plan grown one column at a
time, and streaming micro-batches doing batch-sized work."""

from __future__ import annotations

import ast

from glue_inventory.analysis.code.flow import Definition, Flow, flow_of, keyword
from glue_inventory.analysis.code.model import ScriptModel, call_name, chain, position, receiver
from glue_inventory.analysis.code.rules_spark import bounded, one_partition
from glue_inventory.analysis.findings import Finding, finding

_COLUMN_METHODS = ("withColumn", "withColumnRenamed")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_GROUPED = {"groupBy", "groupby", "rollup", "cube", "groupByKey", "pivot"}
# "Dozens chained": Spark's own docs warn about withColumn called many times; twenty is where a
# reviewer stops reading the chain and asks for one select.
CHAINED_LIMIT = 20
# Assignments followed back when counting `df = df.withColumn(...)` statements one after another.
MAX_CHAIN_STATEMENTS = 500
# Functions a streaming callback calls (defined in the script) that are searched with it.
MAX_CALLBACK_FUNCTIONS = 20


def _statement(flow: Flow, node: ast.AST) -> ast.AST | None:
    return flow.inside(node, _ASSIGNMENTS)


def _assigns(statement: ast.AST | None, name: str) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    return isinstance(statement, ast.AnnAssign | ast.AugAssign) and isinstance(statement.target, ast.Name) \
        and statement.target.id == name


def _reduce_over(flow: Flow, function: ast.AST) -> ast.Call | None:
    """The `functools.reduce(function, columns, df)` call that folds `function` over a list, if any."""
    for call in flow.model.calls:
        folded = call.args[0] if call_name(call) == "reduce" and call.args else None
        if folded is function or (isinstance(folded, ast.Name) and folded.id == getattr(function, "name", None)):
            return call
    return None


def _growing_loop(flow: Flow, call: ast.Call) -> ast.AST | None:
    """The loop (or reduce) that applies `call` to its own result again and again, if there is one."""
    root = chain(call)[0]
    if not isinstance(root, ast.Name):
        return None
    statement = _statement(flow, call)
    if statement is not None and _assigns(statement, root.id):
        loop = flow.inside(statement, _LOOPS)
        if loop is not None:
            return loop
    scope = flow.scope_of(call)
    if isinstance(scope, ast.Module):
        return None
    origins = flow.resolve(root)
    if not origins or isinstance(origins[0], Definition):
        return None
    folded = _reduce_over(flow, scope)
    if folded is not None:
        return folded
    # A helper `def add(df, c): return df.withColumn(...)` called as `df = add(df, c)` in a loop.
    for caller in flow.callers.get(getattr(scope, "name", ""), []):
        passed = [arg for arg in [*caller.args, *(k.value for k in caller.keywords)] if isinstance(arg, ast.Name)]
        outer = _statement(flow, caller)
        if outer is not None and any(_assigns(outer, arg.id) for arg in passed):
            loop = flow.inside(outer, _LOOPS)
            if loop is not None:
                return loop
    return None


def _chained(flow: Flow, call: ast.Call) -> list[ast.Call]:
    """Every withColumn call `call`'s result is built from, through `df = df.withColumn(...)` statements."""
    members: list[ast.Call] = []
    expr: ast.expr = call
    for _ in range(MAX_CHAIN_STATEMENTS):
        root, links = chain(expr)
        members += [link_call for name, link_call in links if name in _COLUMN_METHODS and link_call is not None]
        origins = flow.resolve(root) if isinstance(root, ast.Name) else []
        latest = origins[0] if origins else None
        if not isinstance(latest, Definition) or not latest.exact or latest.value is None:
            break
        expr = latest.value
    return members


def withcolumn_in_loop(model: ScriptModel) -> list[Finding]:
    calls = list(model.method_calls(*_COLUMN_METHODS))
    if not calls:
        return []
    flow = flow_of(model)
    loops: dict[int, tuple[ast.Call, ast.AST]] = {}
    for call in calls:
        loop = _growing_loop(flow, call)
        if loop is not None:
            loops.setdefault(id(loop), (call, loop))
    found = [
        finding(
            "withcolumn-in-loop", "medium", position(call)[0] or None,
            f"`{call_name(call)}` in a loop adds one projection per iteration: the logical plan grows with every "
            "column, so planning slows down and can fail (StackOverflowError); build the columns first and add "
            "them in one `select` (or `withColumns` on Glue 4.0+).",
            "ast", lines=sorted({position(call)[0], position(loop)[0]}),
        )
        for call, loop in loops.values()
    ]
    in_loops = {id(call) for call, _ in loops.values()}
    covered: set[int] = set()
    ends = sorted(calls, key=lambda c: (c.end_lineno, c.end_col_offset), reverse=True)
    for call in ends:
        if id(call) in covered or id(call) in in_loops:
            continue
        members = _chained(flow, call)
        covered |= {id(member) for member in members}
        if len(members) >= CHAINED_LIMIT:
            first = min(position(member)[0] for member in members)
            found.append(finding(
                "withcolumn-in-loop", "medium", position(call)[0] or None,
                f"{len(members)} `withColumn` calls chained (from line {first}): each adds a projection to the "
                "logical plan, which grows long and slow to analyse; add the columns in one `select` "
                "(or `withColumns` on Glue 4.0+).",
                "ast", lines=[first, position(call)[0]],
            ))
    return found


def _callbacks(model: ScriptModel, flow: Flow) -> list[ast.AST]:
    """The functions given to `glueContext.forEachBatch(batch_function=…)` or `writeStream.foreachBatch(…)`."""
    found: list[ast.AST] = []
    for call in model.calls:
        name = call_name(call)
        given = (keyword(call, "batch_function", 1) if name == "forEachBatch"
                 else keyword(call, "func", 0) if name == "foreachBatch" else None)
        for origin in flow.origins(given) if given is not None else []:
            if isinstance(origin, ast.Call) and call_name(origin) == "partial" and origin.args:
                origin = origin.args[0]
            if isinstance(origin, ast.Lambda):
                found.append(origin)
            elif isinstance(origin, ast.Name) and origin.id in model.functions:
                found.append(model.functions[origin.id])
    return found


def _callback_calls(flow: Flow, callback: ast.AST) -> list[ast.Call]:
    """Calls made by the callback and by the script's functions it calls."""
    calls: list[ast.Call] = []
    pending, seen = [callback], {id(callback)}
    while pending and len(seen) <= MAX_CALLBACK_FUNCTIONS:
        for node in ast.walk(pending.pop()):
            if not isinstance(node, ast.Call):
                continue
            calls.append(node)
            function = flow.function(node)
            if function is not None and id(function) not in seen:
                seen.add(id(function))
                pending.append(function)
    return calls


def _emptiness_test(flow: Flow, call: ast.Call) -> bool:
    parent = flow.parent.get(id(call))
    if isinstance(parent, ast.Compare):
        others = [parent.left, *parent.comparators]
        return any(isinstance(o, ast.Constant) and o.value in (0, 1) for o in others if o is not call)
    return isinstance(parent, ast.If | ast.UnaryOp | ast.BoolOp | ast.While)


def _batch_work(model: ScriptModel, flow: Flow, call: ast.Call) -> str | None:
    name = call_name(call)
    if not isinstance(call.func, ast.Attribute):
        return None
    if name in ("repartition", "coalesce") and one_partition(model, call):
        return (f"`{name}(1)` inside the micro-batch callback funnels every batch through one task: the stream "
                "runs at the speed of one core; keep the parallelism (maxRecordsPerFile controls file sizes).")
    if call.args or call.keywords:
        return None
    root, links = chain(receiver(call))
    if name == "count" and not _GROUPED & {link for link, _ in links}:
        if _emptiness_test(flow, call):
            return ("`count()` inside the micro-batch callback scans the whole batch only to test whether it "
                    "has rows; use `batch_df.isEmpty()` (Glue 4.0+) or `len(batch_df.take(1)) == 0`.")
        return ("`count()` inside the micro-batch callback computes every batch once more; drop it, or persist "
                "the batch first and unpersist it at the end of the callback.")
    if name in ("collect", "toPandas") and not bounded(model, root, links):
        return (f"`{name}()` inside the micro-batch callback pulls each whole batch into the driver: memory and "
                "time grow with the stream's throughput; keep the work in Spark and write the batch out.")
    return None


def streaming_batch_work(model: ScriptModel) -> list[Finding]:
    if not any(call_name(call) in ("forEachBatch", "foreachBatch") for call in model.calls):
        return []
    flow = flow_of(model)
    found: dict[int, Finding] = {}
    for callback in _callbacks(model, flow):
        for call in _callback_calls(flow, callback):
            message = _batch_work(model, flow, call)
            if message and id(call) not in found:
                found[id(call)] = finding("streaming-batch-work", "medium", position(call)[0] or None, message, "ast")
    return sorted(found.values(), key=lambda item: item["line"] or 0)
