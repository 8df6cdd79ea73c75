"""Rules about how a Glue script uses Spark and the Glue Job API (performance and rerun safety)."""

from __future__ import annotations

import ast
import re

from glue_inventory.analysis.code.flow import flow_of, keyword
from glue_inventory.analysis.code.model import (
    Link,
    ScriptModel,
    call_name,
    chain,
    is_str,
    position,
    receiver,
    str_value,
)
from glue_inventory.analysis.findings import Finding, finding

# Links after which a DataFrame holds a bounded number of rows.
_BOUNDED_LINKS = {"limit", "take", "head", "tail", "first", "describe", "summary"}
# Aggregations: one row, unless a grouping comes before them (GroupedData.count is a row per key).
_AGGREGATE_LINKS = {"agg", "count"}
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
# Writers whose default mode is not errorifexists.
_NO_MODE = {"insertInto": "`.insertInto()` without `.mode(...)` appends: a rerun duplicates the rows; set the mode "
                          "explicitly (overwrite for idempotent reruns)."}
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
    return all(isinstance(data, _LITERALS) for data in flow_of(model).origins(call.args[0]))


def _small_sql(call: ast.Call) -> bool:
    query = str_value(call.args[0]) if call.args else None
    if query is None:
        return False
    aggregate_only = _AGGREGATE_SQL.search(query) and not _GROUP_BY_SQL.search(query)
    return bool(_SMALL_SQL.search(query) or aggregate_only)


def bounded(model: ScriptModel, root: ast.expr, links: list[Link]) -> bool:
    """True when the chain yields a bounded number of rows (limit, an aggregate, literal data)."""
    names = [name for name, _ in links]
    if isinstance(root, _LITERALS) or (isinstance(root, ast.Name) and model.aliases.get(root.id, root.id) == "gc"):
        return True
    if any(name in _BOUNDED_LINKS for name in names):
        return True
    for index, name in enumerate(names):
        if name in _AGGREGATE_LINKS and not _GROUPING_LINKS & set(names[:index]):
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
        if all(bounded(model, root, links) for root, links in flow_of(model).chains(receiver(call))):
            continue
        method = call_name(call)
        found.append(_spark_finding(
            "collect-on-large-data", "medium", call,
            f"`.{method}()` pulls the whole dataset into the driver's memory; bound it first "
            "(.limit(n), an aggregate) or keep the work in Spark and write the result out.",
        ))
    return found


# Links after which the rows are spread over many partitions again (a shuffle), whatever came before.
_SHUFFLES = {
    "repartition", "repartitionByRange", "groupBy", "groupby", "agg", "join", "crossJoin", "distinct",
    "dropDuplicates", "drop_duplicates", "orderBy", "sort", "intersect", "intersectAll", "subtract", "exceptAll",
}
# How many DataFrame ↔ DynamicFrame conversions and Glue transforms a frame is followed through.
MAX_FRAME_HOPS = 4


def one_partition(model: ScriptModel, call: ast.Call) -> bool:
    """`repartition(1)` / `coalesce(1)`, the 1 possibly held in a variable."""
    count = keyword(call, "numPartitions", 0) or keyword(call, "num_partitions", 0) or keyword(call, "num", 0)
    values = flow_of(model).literal(count) if count is not None else []
    return bool(values) and all(value == 1 for value in values)


def _single_partition_calls(model: ScriptModel, expr: ast.expr, hops: int = 0) -> list[ast.Call]:
    """The `repartition(1)`/`coalesce(1)` calls `expr` may flow from, through variables, parameters and
    returns, `DynamicFrame.fromDF` and Glue transforms (`X.apply(frame=…)`), unless a shuffle follows."""
    found: list[ast.Call] = []
    for root, links in flow_of(model).chains(expr):
        source: list[ast.Call] = []
        for index, (name, call) in enumerate(links):
            if call is None:
                continue
            if name in ("repartition", "coalesce") and one_partition(model, call):
                # One partition of a bounded result (a global aggregate, a limit) funnels nothing.
                source = [] if bounded(model, root, links[:index]) else [call]
            elif name in _SHUFFLES:
                source = []
            elif name in ("fromDF", "apply") and hops < MAX_FRAME_HOPS:
                frame = keyword(call, "dataframe", 0) if name == "fromDF" else _glue_frame_argument(call)
                source = _single_partition_calls(model, frame, hops + 1) if frame is not None else []
        found += source
    return found


def _glue_frame_argument(call: ast.Call) -> ast.expr | None:
    for item in call.keywords:
        if item.arg in ("frame", "frame_or_dfc"):
            return item.value
    return call.args[0] if call.args else None


def _written_frames(model: ScriptModel) -> list[tuple[ast.Call, ast.expr]]:
    """(write call, the frame it writes) for DataFrameWriter sinks and Glue's DynamicFrame writers."""
    written = []
    for call in model.calls:
        name = call_name(call)
        if name in _WRITER_SINKS and isinstance(call.func, ast.Attribute) and _reaches_writer(model, call):
            written.append((call, call.func.value))
        elif name in _GLUE_WRITERS or (name in _GLUE_WRITER_METHODS and any(
            link in ("write_dynamic_frame", "write_data_frame") for link, _ in chain(call.func)[1]
        )):
            frame = _glue_frame_argument(call)
            if frame is not None:
                written.append((call, frame))
    return written


def single_partition_write(model: ScriptModel) -> list[Finding]:
    sources: dict[int, tuple[ast.Call, ast.Call]] = {}
    for write, frame in _written_frames(model):
        for source in _single_partition_calls(model, frame):
            sources.setdefault(id(source), (source, write))
    found = []
    for source, write in sorted(sources.values(), key=lambda pair: position(pair[0])):
        line, write_line = position(source)[0], position(write)[0]
        where = "" if write_line == line else f" (written on line {write_line})"
        found.append(finding(
            "single-partition-write", "medium", line or None,
            f"`{call_name(source)}(1)` before a write{where} funnels all data through one task on one executor; "
            "keep the parallelism (maxRecordsPerFile or a compaction step control the file count).",
            "ast", **({"lines": sorted({line, write_line})} if write_line != line else {}),
        ))
    return found


def _reaches_writer(model: ScriptModel, sink: ast.Call) -> bool:
    return any(
        name in ("write", "writeStream") for _, links in flow_of(model).chains(sink.func) for name, _ in links
    )


def write_errorifexists(model: ScriptModel) -> list[Finding]:
    found = []
    for call in model.method_calls(*_WRITER_SINKS):
        mode_index = _WRITER_SINKS[call_name(call)]
        positional_mode = mode_index is not None and len(call.args) > mode_index
        if positional_mode or any(item.arg == "mode" for item in call.keywords):
            continue
        paths = [[name for name, _ in links] for _, links in flow_of(model).chains(receiver(call))]
        writes = [names for names in paths if "write" in names and "writeStream" not in names]
        if not any("mode" not in names[len(names) - 1 - names[::-1].index("write"):] for names in writes):
            continue
        message = _NO_MODE.get(call_name(call)) or (
            f"`.write...{call_name(call)}()` without `.mode(...)` uses errorifexists: a rerun fails once the target "
            "exists; choose overwrite or append explicitly.")
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
