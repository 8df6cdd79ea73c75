"""A Spark job with no Spark work: a glueetl script that only makes driver-side calls (boto3, JDBC through
py4j, HTTP) pays for a Spark cluster it never uses; Python shell runs the same code on 1/16 or 1 DPU."""

from __future__ import annotations

import ast

from glue_inventory.analysis.code.model import ScriptModel, call_name, dotted, position
from glue_inventory.analysis.findings import SPARK_ENTRY, Finding, finding

# Python shell capacities (AWS Glue developer guide, "Python shell jobs"): 0.0625 DPU by default, 1 DPU
# for jobs that need its 16 GB of memory.
PYTHON_SHELL_DPU = 0.0625
PYTHON_SHELL_LARGE_DPU = 1.0
# Imports that hold whole datasets in the driver's memory: such a job wants the 1-DPU Python shell.
_IN_MEMORY_MODULES = {"pandas", "numpy", "pyarrow", "polars", "awswrangler", "duckdb"}

# Names that move data through Spark: readers, writers, Glue's DynamicFrame API, RDD sources, streaming.
_SPARK_CALLS = {
    "sql", "table", "createDataFrame", "parallelize", "textFile", "wholeTextFiles", "binaryFiles", "sequenceFile",
    "hadoopFile", "newAPIHadoopFile", "create_dynamic_frame_from_catalog", "create_dynamic_frame_from_options",
    "create_dynamic_frame_from_rdd", "create_sample_dynamic_frame_from_catalog", "create_data_frame_from_catalog",
    "create_data_frame_from_options", "getSource", "getSink", "writeFrame", "write_dynamic_frame_from_options",
    "write_dynamic_frame_from_catalog", "write_dynamic_frame_from_jdbc_conf", "write_from_options",
    "write_from_jdbc_conf", "forEachBatch", "foreachBatch", "fromDF", "toDF", "apply", "range",
    "forPath", "forName", "convertToDelta",  # Delta Lake maintenance (vacuum, optimize, merge) runs on Spark
}
# Where Spark objects may be handed to code of the job's own libraries (--extra-py-files), which the
# script does not show: such a script is not judged.
_SPARK_MODULES = ("awsglue", "pyspark")
# Spark's reader and writer properties: `spark.read.parquet`, `df.write.mode`; a call named `read` or
# `write` is a file or an S3 body, not Spark.
_SPARK_PROPERTIES = {
    "read", "readStream", "write", "writeStream", "create_dynamic_frame", "create_data_frame",
    "write_dynamic_frame", "write_data_frame",
}
_HTTP_MODULES = {"requests", "urllib", "urllib3", "http", "httpx", "aiohttp"}


def _spark_work(model: ScriptModel) -> bool:
    for call in model.calls:
        name = call_name(call)
        if isinstance(call.func, ast.Attribute) and name in _SPARK_CALLS:
            # `apply` is Spark work on Glue's transforms (ApplyMapping.apply), not on a pandas frame.
            if name != "apply" or (model.qualified(call.func) or "").startswith("awsglue") or any(
                item.arg == "frame" for item in call.keywords
            ):
                return True
    called = {id(call.func) for call in model.calls}
    return any(
        isinstance(node, ast.Attribute) and node.attr in _SPARK_PROPERTIES and id(node) not in called
        for node in ast.walk(model.tree)
    )


def _spark_handles(model: ScriptModel) -> set[str]:
    """Names bound to a Spark or Glue context or session: from a Spark entry call, a `.spark_session` or
    `.sparkContext`, or a function of the script that makes one (`glue_context, spark = make_spark()`)."""
    makers = {name for name, function in model.functions.items()
              if any(isinstance(node, ast.Call) and call_name(node) in SPARK_ENTRY for node in ast.walk(function))}
    handles: set[str] = set()
    for node in model.assign_nodes:
        value = node.value
        made = isinstance(value, ast.Call) and (
            call_name(value) in SPARK_ENTRY or isinstance(value.func, ast.Name) and value.func.id in makers)
        if made or isinstance(value, ast.Attribute) and value.attr in ("spark_session", "sparkContext"):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            handles.update(name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name))
    return handles


def _hands_spark_away(model: ScriptModel) -> bool:
    """True when a Spark or Glue context is passed to an imported function not from Glue or Spark
    (`run_pipeline(glue_context)` from the job's own library): the Spark work may happen there."""
    handles = _spark_handles(model)
    for call in model.calls:
        head = (dotted(call.func) or "").split(".")[0]
        qualified = model.qualified(call.func) or ""
        if head not in model.aliases or qualified.startswith(_SPARK_MODULES):
            continue  # a builtin, a method, a function of this script, or Glue's and Spark's own API
        passed = [*call.args, *(item.value for item in call.keywords)]
        if any(isinstance(arg, ast.Name) and arg.id in handles for arg in passed):
            return True
    return False


def _driver_calls(model: ScriptModel) -> list[str]:
    """What the script does instead, in words: the boto3 services, JDBC through py4j, HTTP."""
    what: list[str] = []
    services = sorted({
        str(call.args[0].value) for call in model.calls
        if call_name(call) in ("client", "resource") and (model.qualified(call.func) or "").startswith("boto3")
        and call.args and isinstance(call.args[0], ast.Constant)
    })
    if services:
        what.append("boto3 " + ", ".join(services))
    if any(isinstance(node, ast.Attribute) and node.attr in ("_jvm", "_gateway") for node in ast.walk(model.tree)):
        what.append("JDBC through py4j")
    modules = {name.split(".")[0] for name in model.aliases.values()}
    if modules & _HTTP_MODULES:
        what.append("HTTP")
    return what


def spark_without_spark_work(model: ScriptModel) -> list[Finding]:
    if model.context.job_type not in (None, "glueetl"):
        return []
    entry = next((call for call in model.calls if call_name(call) in SPARK_ENTRY), None)
    if entry is None or _spark_work(model) or _hands_spark_away(model):
        return []
    what = _driver_calls(model)
    in_memory = bool({name.split(".")[0] for name in model.aliases.values()} & _IN_MEMORY_MODULES)
    dpu = PYTHON_SHELL_LARGE_DPU if in_memory else PYTHON_SHELL_DPU
    jvm = "JDBC through py4j" in what
    return [finding(
        "spark-job-without-spark-work", "medium", position(entry)[0] or None,
        "Spark job with no Spark work: the script only makes driver-side calls"
        f"{' (' + '; '.join(what) + ')' if what else ''} and never reads, transforms or writes a DataFrame or "
        f"DynamicFrame, yet every run pays for a Spark cluster; run it as a Python shell job ({dpu:g} DPU)"
        + ("; Python shell has no JVM, so replace the py4j JDBC connection with a Python driver "
           "(pg8000, pymysql, redshift_connector)." if jvm else "."),
        "ast", python_shell_dpu=dpu,
    )]
