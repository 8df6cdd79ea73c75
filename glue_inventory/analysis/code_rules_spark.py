"""Rules about how a Glue script uses Spark and the Glue Job API (performance and rerun safety)."""

from __future__ import annotations

import ast
import re

from glue_inventory.analysis.code_rules_common import Finding, finding
from glue_inventory.analysis.code_rules_model import (
    Link,
    ScriptModel,
    call_name,
    chain,
    is_str,
    position,
    receiver,
    str_value,
)

# Links after which a DataFrame holds a bounded number of rows.
_BOUNDED_LINKS = {"limit", "take", "head", "tail", "first", "describe", "summary", "count"}
_GROUPING_LINKS = {"groupBy", "groupby", "rollup", "cube", "groupByKey", "pivot"}
_LITERAL_SOURCES = {"parallelize", "createDataFrame", "range"}
_LITERALS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant)
_SMALL_SQL = re.compile(r"\blimit\s+\d+\b|^\s*(?:show|describe|desc)\b", re.IGNORECASE)
_AGGREGATE_SQL = re.compile(r"\b(?:count|max|min|sum|avg|mean)\s*\(", re.IGNORECASE)
_GROUP_BY_SQL = re.compile(r"\bgroup\s+by\b", re.IGNORECASE)

# DataFrameWriter methods that write; positional index of their `mode` argument, if any.
_WRITER_SINKS = {
    "save": 2, "parquet": 1, "csv": 1, "json": 1, "orc": 1, "text": None,
    "saveAsTable": 2, "insertInto": None, "jdbc": 2,
}
# GlueContext writers: `write_dynamic_frame.from_options(frame=…)`, `write_dynamic_frame_from_options(…)`, sinks.
_GLUE_WRITER_METHODS = {"from_options", "from_catalog", "from_jdbc_conf"}
_GLUE_WRITERS = {
    "writeFrame", "write_dynamic_frame_from_options", "write_dynamic_frame_from_catalog",
    "write_dynamic_frame_from_jdbc_conf", "write_from_options",
}

_UDF_BUILTINS = {
    "lower": "F.lower", "upper": "F.upper", "strip": "F.trim", "lstrip": "F.ltrim", "rstrip": "F.rtrim",
    "len": "F.length", "replace": "F.regexp_replace", "split": "F.split", "title": "F.initcap",
    "startswith": "Column.startswith", "endswith": "Column.endswith", "str": "cast('string')",
    "int": "cast('int')", "float": "cast('double')", "abs": "F.abs", "round": "F.round",
}


def _spark_finding(rule_id: str, severity: str, node: ast.AST, message: str) -> Finding:
    return finding(rule_id, severity, position(node)[0] or None, message, "ast")


def _literal_source(model: ScriptModel, call: ast.Call) -> bool:
    if call_name(call) == "range":
        return all(isinstance(arg, ast.Constant) for arg in call.args)
    if not call.args:
        return False
    data = call.args[0]
    if isinstance(data, ast.Name):
        values = model.values_of(data.id, position(call)[0])
        data = values[0] if values else data
    return isinstance(data, _LITERALS)


def _small_sql(call: ast.Call) -> bool:
    query = str_value(call.args[0]) if call.args else None
    if query is None:
        return False
    aggregate_only = _AGGREGATE_SQL.search(query) and not _GROUP_BY_SQL.search(query)
    return bool(_SMALL_SQL.search(query) or aggregate_only)


def _bounded(model: ScriptModel, root: ast.expr, links: list[Link]) -> bool:
    names = [name for name, _ in links]
    if isinstance(root, _LITERALS) or (isinstance(root, ast.Name) and model.aliases.get(root.id, root.id) == "gc"):
        return True
    if any(name in _BOUNDED_LINKS for name in names):
        return True
    if "agg" in names and not any(name in _GROUPING_LINKS for name in names[: names.index("agg")]):
        return True
    for name, call in links:
        if call is not None and name in _LITERAL_SOURCES and _literal_source(model, call):
            return True
        if call is not None and name == "sql" and _small_sql(call):
            return True
    return False


def collect_on_large_data(model: ScriptModel) -> list[Finding]:
    found = []
    for call in model.method_calls("collect", "toPandas"):
        if call.args or call.keywords:
            continue
        root, links = model.expanded_chain(receiver(call))
        if _bounded(model, root, links):
            continue
        method = call_name(call)
        found.append(_spark_finding(
            "collect-on-large-data", "medium", call,
            f"`.{method}()` pulls the whole dataset into the driver's memory; bound it first "
            "(.limit(n), an aggregate) or keep the work in Spark and write the result out.",
        ))
    return found


def _single_partition_call(model: ScriptModel, expr: ast.expr, hops: int = 0) -> ast.Call | None:
    """The `repartition(1)`/`coalesce(1)` call `expr` flows from, following variables and `fromDF`."""
    _, links = model.expanded_chain(expr)
    for name, call in links:
        if call is None:
            continue
        first = call.args[0] if call.args else None
        if name in ("repartition", "coalesce") and isinstance(first, ast.Constant) and first.value == 1:
            return call
        if name == "fromDF" and call.args and hops < 2:
            inner = _single_partition_call(model, call.args[0], hops + 1)
            if inner is not None:
                return inner
    return None


def _glue_frame_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in ("frame", "frame_or_dfc"):
            return keyword.value
    return call.args[0] if call.args else None


def single_partition_write(model: ScriptModel) -> list[Finding]:
    sources: dict[int, ast.Call] = {}
    for call in model.calls:
        name = call_name(call)
        if name in _WRITER_SINKS and isinstance(call.func, ast.Attribute) and _reaches_writer(model, call):
            source = _single_partition_call(model, call.func.value)
            if source is not None:
                sources[id(source)] = source
        elif name in _GLUE_WRITERS or (
            name in _GLUE_WRITER_METHODS and any(link == "write_dynamic_frame" for link, _ in chain(call.func)[1])
        ):
            frame = _glue_frame_argument(call)
            source = _single_partition_call(model, frame) if frame is not None else None
            if source is not None:
                sources[id(source)] = source
    return [
        _spark_finding(
            "single-partition-write", "medium", source,
            f"`{call_name(source)}(1)` before a write funnels all data through one task on one executor; "
            "keep the parallelism (maxRecordsPerFile or a compaction step control the file count).",
        )
        for source in sorted(sources.values(), key=position)
    ]


def _reaches_writer(model: ScriptModel, sink: ast.Call) -> bool:
    return any(name in ("write", "writeStream") for name, _ in model.expanded_chain(sink.func)[1])


def write_errorifexists(model: ScriptModel) -> list[Finding]:
    found = []
    for call in model.method_calls(*_WRITER_SINKS):
        names = [name for name, _ in model.expanded_chain(receiver(call))[1]]
        if "write" not in names or "writeStream" in names:
            continue
        after_write = names[len(names) - 1 - names[::-1].index("write"):]
        mode_index = _WRITER_SINKS[call_name(call)]
        has_mode = (
            "mode" in after_write
            or any(keyword.arg == "mode" for keyword in call.keywords)
            or (mode_index is not None and len(call.args) > mode_index)
        )
        if has_mode:
            continue
        if call_name(call) == "insertInto":
            message = ("`.insertInto()` without `.mode(...)` appends: a rerun duplicates the rows; "
                       "set the mode explicitly (overwrite for idempotent reruns).")
        else:
            message = (f"`.write...{call_name(call)}()` without `.mode(...)` uses errorifexists: a rerun fails "
                       "once the target exists; choose overwrite or append explicitly.")
        found.append(_spark_finding("write-errorifexists", "medium", call, message))
    return found


def cache_not_released(model: ScriptModel) -> list[Finding]:
    released = any(True for _ in model.method_calls("unpersist", "clearCache", "uncacheTable"))
    if released:
        return []
    found = []
    for call in model.method_calls("cache", "persist"):
        qualified = model.qualified(call.func) or ""
        if qualified.startswith("functools") or (call_name(call) == "cache" and (call.args or call.keywords)):
            continue
        found.append(_spark_finding(
            "cache-not-released", "low", call,
            f"`.{call_name(call)}()` with no `.unpersist()` anywhere: cached blocks hold executor memory "
            "until the job ends; unpersist once the DataFrame is no longer reused.",
        ))
    return found


def _udf_hint(model: ScriptModel, target: ast.AST | None) -> str:
    """Which built-ins the wrapped function (a def, a lambda or a name of a def) reimplements."""
    body = model.functions.get(target.id) if isinstance(target, ast.Name) else target
    used: set[str] = set()
    for node in ast.walk(body) if body is not None else ():
        if isinstance(node, ast.Call) and call_name(node) in _UDF_BUILTINS:
            used.add(_UDF_BUILTINS[call_name(node)])
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and (is_str(node.left) or is_str(node.right)):
            used.add("F.concat")
    if used:
        return f"; built-ins do this natively: {', '.join(sorted(used))}"
    return "; prefer built-in functions (pyspark.sql.functions) or a vectorised pandas_udf"


def python_udf(model: ScriptModel) -> list[Finding]:
    found = []
    for call in model.calls:
        name = call_name(call)
        registered = name == "register" and any(link == "udf" for link, _ in chain(call.func)[1])
        if name != "udf" and not registered:
            continue
        args = call.args[1:] if registered else call.args
        hint = _udf_hint(model, args[0] if args else None)
        found.append(_spark_finding(
            "python-udf", "medium", call,
            f"Python UDF: every row is serialised to a Python worker and back{hint}.",
        ))
    for function in model.functions.values():
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Name | ast.Attribute) and (
                getattr(decorator, "id", None) == "udf" or getattr(decorator, "attr", None) == "udf"
            ):
                found.append(_spark_finding(
                    "python-udf", "medium", function,
                    f"Python UDF `{function.name}`: every row is serialised to a Python worker and back"
                    f"{_udf_hint(model, function)}.",
                ))
    return found


def job_init_commit(model: ScriptModel) -> list[Finding]:
    job_names = {"job"} | {
        target for target, value, _ in model.assigns if isinstance(value, ast.Call) and call_name(value) == "Job"
    }

    def on_job(call: ast.Call) -> bool:
        target = receiver(call)
        return isinstance(target, ast.Name) and target.id in job_names

    inits = [call for call in model.method_calls("init") if on_job(call)]
    commits = [call for call in model.method_calls("commit") if on_job(call) and not call.args]
    if inits and not commits:
        return [_spark_finding(
            "job-init-without-commit", "medium", inits[0],
            "`job.init()` without `job.commit()`: job bookmarks are never saved, so every run reprocesses "
            "all input; call job.commit() at the end.",
        )]
    if commits and not inits:
        return [_spark_finding(
            "job-commit-without-init", "high", commits[0],
            "`job.commit()` without `job.init()`: the commit has no job state to save and bookmarks "
            "do not work; call job.init(args['JOB_NAME'], args) first.",
        )]
    return []
