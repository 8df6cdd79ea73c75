"""Rules about Glue job bookmarks: the script and the job's --job-bookmark-option read together.

A bookmark only tracks a DynamicFrame source read with a `transformation_ctx`, and is only saved by
`job.commit()` after `Job.init()`; Spark's own readers ignore it (AWS Glue developer guide, "Tracking
processed data using job bookmarks").
"""

from __future__ import annotations

import ast

from glue_inventory.analysis.code.flow import UNKNOWN, flow_of, keyword
from glue_inventory.analysis.code.model import ScriptModel, call_name, chain, position, receiver
from glue_inventory.analysis.findings import SPARK_ENTRY, Finding, finding

# DynamicFrame readers: positional index of `transformation_ctx` (awsglue.context.GlueContext signatures).
_READERS = {"from_catalog": 3, "from_options": 4}
_READER_FUNCTIONS = {"create_dynamic_frame_from_catalog": 3, "create_dynamic_frame_from_options": 4, "getSource": 2}
# Connection types whose sources job bookmarks track: S3 and JDBC (the developer guide's list).
_BOOKMARKED_CONNECTIONS = {
    "s3", "mysql", "postgresql", "redshift", "sqlserver", "oracle", "jdbc", "custom.jdbc", "marketplace.jdbc",
}
# Spark's readers, which bookmarks never see.
_SPARK_LOADERS = {"load", "parquet", "csv", "json", "orc", "text", "jdbc", "table", "avro", "xml"}
_STREAMING_CALLS = {"forEachBatch", "foreachBatch", "awaitTermination", "readStream"}


def _finding(rule_id: str, severity: str, node: ast.AST | None, message: str) -> Finding:
    return finding(rule_id, severity, position(node)[0] or None if node is not None else None, message, "ast")


def job_calls(model: ScriptModel) -> tuple[list[ast.Call], list[ast.Call]]:
    """(`init` calls, argument-less `commit` calls) on Job objects: `job`, or any name bound to `Job(...)`."""
    job_names = {"job"} | {
        target for target, value, _ in model.assigns if isinstance(value, ast.Call) and call_name(value) == "Job"
    }

    def on_job(call: ast.Call) -> bool:
        target = receiver(call)
        return isinstance(target, ast.Name) and target.id in job_names

    inits = [call for call in model.method_calls("init") if on_job(call)]
    commits = [call for call in model.method_calls("commit") if on_job(call) and not call.args]
    return inits, commits


def job_init_commit(model: ScriptModel) -> list[Finding]:
    inits, commits = job_calls(model)
    # With the job's bookmarks disabled (Glue's default) nothing is lost today: the finding stays, as a note
    # for the day they are enabled.
    off = model.context.bookmarks_disabled
    later = " Bookmarks are disabled for this job, so this only matters once they are enabled." if off else ""
    if inits and not commits:
        return [_finding(
            "job-init-without-commit", "low" if off else "medium", inits[0],
            "`job.init()` without `job.commit()`: job bookmarks are never saved, so every run reprocesses "
            "all input; call job.commit() at the end." + later,
        )]
    if commits and not inits:
        return [_finding(
            "job-commit-without-init", "low" if off else "high", commits[0],
            "`job.commit()` without `job.init()`: the commit has no job state to save and bookmarks "
            "do not work; call job.init(args['JOB_NAME'], args) first." + later,
        )]
    return []


def _streaming(model: ScriptModel) -> bool:
    return model.context.job_type == "gluestreaming" or any(
        call_name(call) in _STREAMING_CALLS for call in model.calls
    ) or any(name == "readStream" for call in model.calls for name, _ in chain(call.func)[1])


def _dynamic_frame_reads(model: ScriptModel) -> list[tuple[ast.Call, int]]:
    reads = []
    for call in model.calls:
        name = call_name(call)
        links = [link for link, _ in chain(call.func)[1]]
        if name in _READERS and "create_dynamic_frame" in links:
            reads.append((call, _READERS[name]))
        elif name in _READER_FUNCTIONS and isinstance(call.func, ast.Attribute):
            reads.append((call, _READER_FUNCTIONS[name]))
    return reads


def _bookmarkable(model: ScriptModel, call: ast.Call) -> bool:
    if call_name(call) in ("from_catalog", "create_dynamic_frame_from_catalog"):
        return True
    connection = keyword(call, "connection_type", 0)
    types = flow_of(model).literal(connection) if connection is not None else [UNKNOWN]
    return any(kind is UNKNOWN or str(kind).lower() in _BOOKMARKED_CONNECTIONS for kind in types)


def _has_context(model: ScriptModel, call: ast.Call, index: int) -> bool:
    """False when `transformation_ctx` is missing, or empty or None on some path the script gives it (a
    helper's caller that leaves it out); a value computed at run time counts as given."""
    argument = keyword(call, "transformation_ctx", index)
    if argument is None:
        return False
    return all(value is UNKNOWN or bool(value) for value in flow_of(model).literal(argument))


def source_without_context(model: ScriptModel) -> list[Finding]:
    context = model.context
    inits, commits = job_calls(model)
    if context.bookmarks_disabled or not (inits and commits) or _streaming(model):
        return []
    state = ("while job bookmarks are enabled for this job" if context.bookmarks_enabled
             else "in a job that saves bookmarks (job.init/job.commit)")
    found = []
    for call, index in _dynamic_frame_reads(model):
        if _bookmarkable(model, call) and not _has_context(model, call, index):
            found.append(_finding(
                "bookmark-source-without-ctx", "medium", call,
                f"DynamicFrame read without `transformation_ctx` {state}: the bookmark cannot track this source, "
                "so every run re-reads all of its input; pass a stable, unique transformation_ctx=\"...\".",
            ))
    return found


def _spark_session(model: ScriptModel, expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name) and expr.id in ("spark", "spark_session", "sparkSession", "ss"):
        return True
    names = {name for _, links in flow_of(model).chains(expr) for name, _ in links}
    return bool(names & {"spark_session", "sparkSession", "getOrCreate", "builder"})


def spark_native_read(model: ScriptModel) -> list[Finding]:
    if not model.context.bookmarks_enabled or _streaming(model):
        return []
    found = []
    for call in model.calls:
        name = call_name(call)
        if name not in _SPARK_LOADERS or not isinstance(call.func, ast.Attribute):
            continue
        links = {link for _, path in flow_of(model).chains(call.func) for link, _ in path}
        through_reader = "read" in links and "write" not in links
        if not (through_reader or (name == "table" and _spark_session(model, call.func.value))):
            continue
        found.append(_finding(
            "bookmark-spark-native-read", "medium", call,
            f"`{'spark.read…' if through_reader else 'spark.table'}.{name}()` ignores job bookmarks, which are "
            "enabled for this job: every run re-reads all of this input. Read it with "
            "glueContext.create_dynamic_frame (with a transformation_ctx) or filter it on a watermark.",
        ))
    return found


def bookmarks_without_job(model: ScriptModel) -> list[Finding]:
    context = model.context
    if not context.bookmarks_enabled or context.job_type not in (None, "glueetl") or _streaming(model):
        return []
    inits, commits = job_calls(model)
    entry = next((call for call in model.calls if call_name(call) in SPARK_ENTRY), None)
    if inits or commits or entry is None:
        return []
    return [_finding(
        "bookmark-without-job-init", "medium", entry,
        "Job bookmarks are enabled (--job-bookmark-option job-bookmark-enable) but the script never calls "
        "Job.init() or job.commit(): no bookmark state is kept and every run re-reads all input; call "
        "job.init(args['JOB_NAME'], args) after creating the GlueContext and job.commit() at the end.",
    )]
