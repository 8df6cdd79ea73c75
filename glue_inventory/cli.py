"""`glue-inventory`: what Dagster's own CLI does not cover — demo, simulate, db upgrade, ui, serve."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

EXIT_USAGE = 2


def _fail(command: str, problem: object, code: int = EXIT_USAGE) -> int:
    """The one line a command prints when it cannot go on (the problem and what to do), and its exit code."""
    print(f"glue-inventory {command}: {problem}", file=sys.stderr)
    return code


def _db_upgrade(args: argparse.Namespace) -> int:
    from glue_inventory.config import ConfigError, read_environment
    from glue_inventory.storage.db import DatabaseError, mask_url, upgrade

    try:
        upgrade(args.url)
        url = args.url or read_environment().database_url or "default"
    except (ConfigError, DatabaseError) as exc:
        return _fail("db upgrade", exc)
    print(f"database at {mask_url(url)} is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from glue_inventory.config import ConfigError
    from glue_inventory.demo import DemoError, run_demo
    from glue_inventory.pipeline import PipelineError

    try:
        return run_demo(jobs=args.jobs, seed=args.seed, home=args.home)
    except (ConfigError, DemoError) as exc:
        return _fail("demo", exc)
    except PipelineError as exc:
        return _fail("demo", exc, code=1)


def _simulate(args: argparse.Namespace) -> int:
    from glue_inventory.demo import DemoError, load_simulator

    try:
        load_simulator()
    except DemoError as exc:
        return _fail("simulate", exc)
    from glue_inventory.simulate.cli import run_simulate

    return run_simulate(args.jobs, args.seed, args.port, args.latency_ms, args.rate_limit,
                        organization=not args.single_account)


def _refresh(args: argparse.Namespace) -> int:
    import dagster as dg

    from glue_inventory.config import ConfigError, load_settings
    from glue_inventory.pipeline import PipelineError, run_pipeline

    if args.deep < 0:
        return _fail("refresh", f"--deep must be 0 or more, got {args.deep}")
    try:
        load_settings()  # a bad setting is reported before anything starts
        with dg.DagsterInstance.get() as instance:
            run_pipeline(instance, deep_jobs=args.deep)
    except ConfigError as exc:
        return _fail("refresh", exc)
    except PipelineError as exc:
        return _fail("refresh", exc, code=1)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from glue_inventory.serve import ServeError, run_serve

    try:
        return run_serve(host=args.host, read_only=args.read_only, external_code_server=args.external_code_server)
    except ServeError as exc:
        return _fail("serve", exc)


def _ui(args: argparse.Namespace) -> int:
    from glue_inventory.demo import DemoError, demo_environment, prepare_home

    try:
        prepare_home(args.home)
    except DemoError as exc:
        return _fail("ui", exc)
    env = demo_environment(args.home) | dict(os.environ)
    command = [os.path.join(os.path.dirname(sys.executable), "dagster"), "dev", "-m",
               "glue_inventory.definitions", "-h", args.host, "-p", str(args.port)]
    return subprocess.call(command, env=env)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glue-inventory", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole pipeline on a simulated fleet, no AWS account needed")
    demo.add_argument("--jobs", type=int, default=200)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--home", default=".glue_inventory", help="where the demo writes everything")
    demo.set_defaults(func=_demo)

    simulate = commands.add_parser("simulate", help="serve a simulated AWS Glue estate (moto) on 127.0.0.1 "
                                   "(needs the simulator extra)")
    simulate.add_argument("--jobs", type=int, default=200, help="number of Glue jobs (default 200)")
    simulate.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same fleet")
    simulate.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port)")
    simulate.add_argument("--latency-ms", type=int, default=0, help="added latency per API call")
    simulate.add_argument("--rate-limit", type=float, default=None,
                          help="requests per second (per account and Region) before answering ThrottlingException")
    simulate.add_argument("--single-account", action="store_true",
                          help="one account (moto's default) instead of an Organization of member accounts")
    simulate.set_defaults(func=_simulate)

    refresh = commands.add_parser(
        "refresh", help="refresh the whole inventory now: job list, every job's runs in batched runs, "
        "candidates, deep analysis of the top --deep candidates, executive report (runs in $DAGSTER_HOME)")
    refresh.add_argument("--deep", type=int, default=0, help="deep-analyse N jobs: the top candidates by saving "
                         "and by risk, half each (savings first on an odd N), and the opted-in jobs")
    refresh.set_defaults(func=_refresh)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_commands.add_parser("upgrade", help="apply Alembic migrations (GLUE_INVENTORY_DATABASE_URL)")
    db_upgrade.add_argument("--url", default=None)
    db_upgrade.set_defaults(func=_db_upgrade)

    serve = commands.add_parser(
        "serve", help="the production topology on this machine: code server, webserver and daemon as supervised "
        "processes on Postgres (DAGSTER_PG_URL, GLUE_INVENTORY_DATABASE_URL, GLUE_INVENTORY_UI_PORT, "
        "GLUE_INVENTORY_CODE_SERVER_PORT)")
    serve.add_argument("--host", default="127.0.0.1", help="the webserver's bind address (default loopback)")
    serve.add_argument("--read-only", action="store_true", help="a webserver for viewers: no launching, no edits")
    serve.add_argument("--external-code-server", action="store_true",
                       help="the code server runs elsewhere (the image): wait for it on "
                       "GLUE_INVENTORY_CODE_SERVER_PORT and run only the webserver and the daemon")
    serve.set_defaults(func=_serve)

    ui = commands.add_parser("ui", help="the Dagster webserver on the demo data")
    ui.add_argument("--home", default=".glue_inventory")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default loopback: put a proxy in front)")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
