"""What the planned JSON parser (`aws/responses.py`, a subclass of botocore's private `JSONParser`) saves: the
CPU time of parsing every GetJobRuns page of a fleet (5,000 jobs: ~500,000 runs in pages of 200), with
botocore's parser and with the planned one, both with the tool's UTC timestamp parser.

    .venv/bin/python bench/parser.py --jobs 5000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

import botocore
import botocore.session
from botocore.parsers import JSONParser
from common import log, machine, results_path, write_results

from glue_inventory.aws.clients import utc_timestamp
from glue_inventory.aws.glue import GET_JOB_RUNS_PAGE
from glue_inventory.aws.responses import PlannedJSONParser
from glue_inventory.simulate import build_fleet
from glue_inventory.simulate.dispatch import _epoch_ms


def pages(fleet):
    """Every GetJobRuns answer of the fleet, as the simulator sends it (JSON bytes, 200 runs a page)."""
    for job in fleet.jobs:
        runs = [run.as_dict() for run in job.runs]
        for first in range(0, max(1, len(runs)), GET_JOB_RUNS_PAGE):
            yield json.dumps({"JobRuns": runs[first:first + GET_JOB_RUNS_PAGE]}, default=_epoch_ms).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    operation = botocore.session.get_session().get_service_model("glue").operation_model("GetJobRuns")
    parsers = {"botocore JSONParser": JSONParser(timestamp_parser=utc_timestamp),
               "planned (aws/responses.py)": PlannedJSONParser(timestamp_parser=utc_timestamp)}
    cpu = dict.fromkeys(parsers, 0.0)
    log(f"building a fleet of {args.jobs} jobs")
    fleet = build_fleet(args.jobs, args.seed, datetime.now(UTC))
    runs = pages_parsed = 0
    for body in pages(fleet):
        results = {}
        for name, json_parser in parsers.items():
            response = {"body": body, "headers": {}, "status_code": 200, "context": {}}
            started = time.process_time()
            results[name] = json_parser.parse(response, operation.output_shape)
            cpu[name] += time.process_time() - started
        first, second = results.values()
        if first != second:
            raise SystemExit(f"the parsers disagree on page {pages_parsed}")
        runs += len(first["JobRuns"])
        pages_parsed += 1
        if pages_parsed % 2000 == 0:
            log(f"  {pages_parsed} pages, {runs} runs")
    slow, fast = cpu.values()
    figures = {"jobs": args.jobs, "runs": runs, "pages": pages_parsed, "botocore": botocore.__version__,
               "cpu_s": {name: round(value, 2) for name, value in cpu.items()}, "saved_cpu_s": round(slow - fast, 2),
               "speed_up": round(slow / fast, 2) if fast else None, "machine": machine()}
    print(f"\nGetJobRuns parsing, {args.jobs:,} jobs, {runs:,} runs in {pages_parsed:,} pages "
          f"(botocore {botocore.__version__}), CPU seconds:")
    for name, value in cpu.items():
        print(f"  {name:28} {value:8.2f}")
    print(f"  saved {slow - fast:.2f} s of CPU ({slow / fast:.2f}x); the answers are equal page by page")
    path = results_path("parser")
    write_results(path, figures)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
