"""What tracing costs: a whole refresh with and without the OTLP exporter, and how many spans it sends.

One simulated fleet (default 5,000 jobs; a child process answering after `--latency-ms`, 20 ms, no rate limit)
serves every pass. After a warm-up pass (not counted), each pass is a fresh process running
`pipeline.run_pipeline` (glue_jobs → preliminary metrics of every job in range runs → candidates → deep analysis
of the top `--deep` → remediation plans and executive report) into a throwaway inventory database, alternately
with tracing off and on (OTLP/HTTP to a receiver in this process, every span decoded and counted), `--repeats`
times each. Target: tracing adds < 3 % of wall time; a
10,000-job refresh sends at most about 25,000 spans.

    .venv/bin/python bench/tracing.py --jobs 5000
    .venv/bin/python bench/tracing.py --jobs 1000 --repeats 3 --aws-call-ratio 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import (
    DEFAULT_POSTGRES,
    add_simulator_arguments,
    log,
    machine,
    pipeline_environment,
    print_table,
    results_path,
    simulated_fleet,
    simulator_options,
    throwaway_database,
    write_results,
)

from glue_inventory.telemetry.sdk import DEFAULT_AWS_CALL_RATIO  # noqa: E402

# The receiver of the tracing tests (glue_inventory_tests is not installed: the repository root is).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from glue_inventory_tests.otlp_receiver import OTLPReceiver  # noqa: E402

TARGET_OVERHEAD = 0.03
SPAN_BUDGET_10K = 25_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=5000, help="fleet size (default 5000)")
    parser.add_argument("--repeats", type=int, default=2, help="passes with tracing off and on, each (default 2)")
    parser.add_argument("--deep", type=int, default=5, help="candidates deep-analysed per pass (default 5)")
    parser.add_argument("--aws-call-ratio", type=float, default=None,
                        help="GLUE_INVENTORY_OTEL_AWS_CALL_RATIO of the traced passes (default: the built-in one)")
    parser.add_argument("--database", default=DEFAULT_POSTGRES, help="inventory database: a Postgres URL or sqlite")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--unit-costs", action="store_true", help=argparse.SUPPRESS)
    add_simulator_arguments(parser, latency_ms=20, rate_limit=None)
    return parser.parse_args(argv)


def child(deep: int) -> None:
    """One pass in this process: the refresh, timed; its figures as JSON on stdout."""
    import dagster as dg

    from glue_inventory.pipeline import run_pipeline

    with dg.DagsterInstance.ephemeral() as instance:
        started, cpu = time.perf_counter(), time.process_time()
        run_pipeline(instance, log=lambda _: None, deep_jobs=deep)
        print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}))


def unit_costs(calls: int = 20_000, spans: int = 5_000) -> None:
    """CPU per AWS call (a real Glue client, answered by botocore's Stubber so no network is timed) and per batch
    span, in this process, with tracing as the environment says; JSON on stdout."""
    from botocore.stub import Stubber

    from glue_inventory import telemetry
    from glue_inventory.aws.clients import new_session

    telemetry.configure()
    glue = new_session(region_name="us-east-1", aws_access_key_id="bench",
                       aws_secret_access_key="bench").client("glue")  # noqa: S106 (a stub answers)
    with Stubber(glue) as stub:
        for _ in range(calls):
            stub.add_response("get_job_runs", {"JobRuns": []}, {"JobName": "job"})
        with telemetry.span("bench"):
            started = time.process_time()
            for _ in range(calls):
                glue.get_job_runs(JobName="job")
            per_call = (time.process_time() - started) / calls
            started = time.process_time()
            for index in range(spans):
                with telemetry.span("db upsert_runs", {"db.collection.name": "job_runs"}) as span:
                    span.set_attribute("db.operation.batch.size", index)
            telemetry.flush()
            per_span = (time.process_time() - started) / spans
    print(json.dumps({"per_call_s": per_call, "per_span_s": per_span}))


def unit_pass(receiver: OTLPReceiver | None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    if receiver is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
    done = subprocess.run([sys.executable, __file__, "--unit-costs"], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"unit costs failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_pass(args: argparse.Namespace, sim, workdir: Path, receiver: OTLPReceiver | None) -> dict:
    with throwaway_database(args.database, workdir) as url:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "GLUE_INVENTORY_"))}
        env |= {key: value for key, value in pipeline_environment(sim, url, workdir).items() if value is not None}
        env.pop("AWS_PROFILE", None)
        if receiver is not None:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
            if args.aws_call_ratio is not None:
                env["GLUE_INVENTORY_OTEL_AWS_CALL_RATIO"] = str(args.aws_call_ratio)
        done = subprocess.run([sys.executable, __file__, "--child", "--deep", str(args.deep)], env=env,
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pass failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child(args.deep)
        return
    if args.unit_costs:
        unit_costs()
        return
    passes: dict[str, list[dict]] = {"off": [], "on": []}
    spans: list[Counter] = []
    with tempfile.TemporaryDirectory() as tmp, simulated_fleet(simulator_options(args, args.jobs)) as sim, \
            OTLPReceiver() as receiver:
        workdir = Path(tmp)
        # A first pass, not counted: the simulator's and the database server's caches warm up.
        log(f"warm-up pass: {one_pass(args, sim, workdir, None)['seconds']:.1f}s")
        units = {mode: [unit_pass(receiver if mode == "on" else None) for _ in range(3)] for mode in ("off", "on")}
        for repeat in range(args.repeats):
            for mode in ("off", "on"):
                before = len(receiver.spans)
                figures = one_pass(args, sim, workdir, receiver if mode == "on" else None)
                if mode == "on":
                    spans.append(Counter(span.name.split(" ", 1)[0] if span.name.startswith(("dagster.", "db "))
                                         else span.name for span in receiver.spans[before:]))
                passes[mode].append(figures)
                log(f"pass {repeat + 1}/{args.repeats}, tracing {mode}: {figures['seconds']:.1f}s")
    off = statistics.median(p["seconds"] for p in passes["off"])
    on = statistics.median(p["seconds"] for p in passes["on"])
    overhead = (on - off) / off
    cpu_off = statistics.median(p["cpu_seconds"] for p in passes["off"])
    cpu_on = statistics.median(p["cpu_seconds"] for p in passes["on"])
    per_pass = statistics.median(sum(counter.values()) for counter in spans)
    # The model: what tracing adds per AWS call (sampled or not) and per kept span, times a pass's calls and spans.
    unit = {mode: {key: statistics.median(u[key] for u in units[mode]) for key in ("per_call_s", "per_span_s")}
            for mode in units}
    call_cost = unit["on"]["per_call_s"] - unit["off"]["per_call_s"]
    span_cost = unit["on"]["per_span_s"]
    kept_calls = sum(count for name, count in spans[-1].items() if "." in name and not name.startswith(
        ("dagster.", "glue_inventory.")))
    ratio_used = args.aws_call_ratio if args.aws_call_ratio is not None else DEFAULT_AWS_CALL_RATIO
    calls_made = kept_calls / ratio_used if ratio_used else 0
    modelled = (calls_made * call_cost + (per_pass - kept_calls) * span_cost) / off
    per_10k = per_pass * 10_000 / args.jobs
    print_table(f"Tracing, {args.jobs} jobs, {args.repeats} passes each (medians)",
                ["", "tracing off", "tracing on", "overhead", "target"],
                [["wall s", round(off, 1), round(on, 1), f"{overhead:.1%}", f"< {TARGET_OVERHEAD:.0%}"],
                 ["CPU s (pipeline process)", round(cpu_off, 1), round(cpu_on, 1),
                  f"{(cpu_on - cpu_off) / cpu_off:.1%}", ""]])
    print_table("Spans of one traced pass", ["span", "count"],
                [[name, count] for name, count in spans[-1].most_common()])
    print(f"spans per pass: {per_pass:.0f}; scaled to 10,000 jobs: {per_10k:.0f} (budget {SPAN_BUDGET_10K:,})")
    print(f"CPU per AWS call: {unit['off']['per_call_s'] * 1e6:.0f} µs untraced, "
          f"{unit['on']['per_call_s'] * 1e6:.0f} µs traced (ratio {ratio_used}); "
          f"per kept span {span_cost * 1e6:.0f} µs (export included)")
    print(f"modelled overhead: {calls_made:.0f} calls × {call_cost * 1e6:.0f} µs + {per_pass - kept_calls:.0f} spans × "
          f"{span_cost * 1e6:.0f} µs = {modelled:.2%} of the untraced wall time (target < {TARGET_OVERHEAD:.0%})")
    path = results_path("tracing")
    write_results(path, {"machine": machine(), "jobs": args.jobs, "deep": args.deep, "repeats": args.repeats,
                         "latency_ms": args.latency_ms, "aws_call_ratio": args.aws_call_ratio, "passes": passes,
                         "overhead": overhead, "modelled_overhead": modelled, "unit_costs": units,
                         "cpu_overhead": (cpu_on - cpu_off) / cpu_off,
                         "spans_per_pass": per_pass, "spans_per_10k_jobs": per_10k,
                         "span_names": dict(spans[-1])})
    log(f"results: {path}")


if __name__ == "__main__":
    main()
