"""An inventory as a user runs it: three `dagster asset materialize` commands, each a process of its own,
timed from outside, with the simulator's view of each command's calls and the memory of its process tree.

Per command: wall time; the API phase (the first call's arrival at the simulator to the last's); the fixed
costs around it (process start-up to the first call, the last call to the command's exit); calls, throttled
answers; the peak RSS of the command's process tree (the sum over its processes, sampled every 0.1 s) and of
its largest process (the kernel's high-water mark, exact). With `tracemalloc=True`, every Python process of the
command also reports what held its traced memory at its peak (memory_peak/sitecustomize.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
import yaml
from common import TEMPLATE, AnySimulator, pipeline_environment, template_storage
from common import latest_metadata as common_latest_metadata

from glue_inventory.orchestration.partitions import glue_jobs_partitions

DAGSTER = str(Path(sys.executable).parent / "dagster")
MODULE = "glue_inventory.definitions"
SAMPLE_EVERY_S = 0.1
MEMORY_PEAK = Path(__file__).resolve().parent / "memory_peak"  # its sitecustomize.py: tracemalloc in each process


def dagster_home(workdir: Path, postgres_url: str, pooled: bool = True) -> Path:
    """A DAGSTER_HOME with the repository's instance template (docs/SCALING.md), its storage on `postgres_url`;
    `pooled=False`: dagster-postgres's own storage (a connection for each read and write) with the same config."""
    home = workdir / "dagster_home_cli"
    home.mkdir(exist_ok=True)
    config = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    config["storage"] = template_storage(postgres_url, pooled)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return home


def command_environment(sim: AnySimulator, database_url: str, workdir: Path, dagster_url: sa.URL,
                        pace: float | None, pooled: bool = True) -> dict[str, str]:
    """The environment of the `dagster` commands: this process's without its AWS, inventory and Dagster settings,
    then the simulator's, the inventory database's and a DAGSTER_HOME in `workdir` on `dagster_url`."""
    storage = dagster_url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    home = dagster_home(workdir, storage, pooled)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "GLUE_INVENTORY_", "DAGSTER_"))}
    env |= {k: v for k, v in pipeline_environment(sim, database_url, workdir, pace=pace).items() if v is not None}
    return env | {"DAGSTER_HOME": str(home)}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB: its resident memory now and its high-water mark."""
    found = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return found.get("VmRSS", 0), found.get("VmHWM", 0)


def tree_rss_mb(root: int) -> tuple[float, float]:
    """Resident memory of `root` and every process under it now, and the largest high-water mark among them."""
    tree, pending, total, largest = _children(), [root], 0, 0
    while pending:
        pid = pending.pop()
        rss, hwm = _rss_kb(pid)
        total, largest = total + rss, max(largest, hwm)
        pending += tree.get(pid, [])
    return total / 1024, largest / 1024


class TreeMemory:
    """The peak of a process tree's summed RSS, and of its largest process, sampled while the command runs."""

    def __init__(self, root: int) -> None:
        self.peak_mb = 0.0
        self.largest_mb = 0.0
        self._root = root
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_EVERY_S):
            total, largest = tree_rss_mb(self._root)
            self.peak_mb, self.largest_mb = max(self.peak_mb, total), max(self.largest_mb, largest)

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.peak_mb


@dataclass
class Command:
    name: str
    seconds: float = 0.0
    api_phase_s: float = 0.0  # first call to last call, as the simulator saw them arrive
    to_first_call_s: float = 0.0  # process start-up, imports, run creation, account resolution
    after_last_call_s: float = 0.0  # writes, Dagster's events, process exit
    calls: Counter[str] = field(default_factory=Counter)
    platform_calls: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    tree_peak_rss_mb: float = 0.0
    largest_process_rss_mb: float = 0.0
    metadata: dict = field(default_factory=dict)
    tracemalloc: list[dict] = field(default_factory=list)  # one report per Python process, largest peak first
    dagster_connections: int | None = None  # connections the command opened to Dagster's storage

    @property
    def outside_api_s(self) -> float:
        return self.seconds - self.api_phase_s


def traced_env(env: dict[str, str], reports: str) -> dict[str, str]:
    """`env` with memory_peak/ first on PYTHONPATH, so that every Python process traces and reports into `reports`."""
    path = os.pathsep.join(filter(None, [str(MEMORY_PEAK), env.get("PYTHONPATH")]))
    return env | {"PYTHONPATH": path, "GLUE_INVENTORY_BENCH_TRACEMALLOC_DIR": reports}


def tracemalloc_reports(reports: Path) -> list[dict]:
    found = [json.loads(path.read_text(encoding="utf-8")) for path in reports.glob("*.json")]
    return sorted(found, key=lambda report: -report["peak_traced_mb"])


def dagster_sessions(home: Path) -> int | None:
    """Sessions Postgres has counted on the database of Dagster's storage (`pg_stat_database`, at each session's
    end; this query's own is counted after it), None where the server does not count them (before Postgres 14)."""
    storage = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))["storage"]
    url = sa.make_url((storage["custom"]["config"] if "custom" in storage else storage["postgres"])["postgres_url"])
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT sessions FROM pg_stat_database WHERE datname = :db"),
                                {"db": url.database}).scalar_one()
    except sa.exc.ProgrammingError:  # no column `sessions`
        return None
    finally:
        engine.dispose()


def run_command(name: str, argv: list[str], env: dict[str, str], sim: AnySimulator, log_path: Path,
                tracemalloc: bool = False) -> Command:
    sim.reset_call_counts()
    command = Command(name)
    home = Path(env["DAGSTER_HOME"])
    sessions = dagster_sessions(home)
    started_mono, started = time.monotonic(), time.perf_counter()
    with (log_path.open("a", encoding="utf-8") as log_file,
          tempfile.TemporaryDirectory(prefix="glue-inventory-tracemalloc-") as reports):
        process = subprocess.Popen(argv, env=traced_env(env, reports) if tracemalloc else env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
        memory = TreeMemory(process.pid)
        code = process.wait()
        command.tree_peak_rss_mb = round(memory.stop(), 1)
        command.largest_process_rss_mb = round(memory.largest_mb, 1)
        command.tracemalloc = tracemalloc_reports(Path(reports))  # none without tracemalloc
    ended_mono = time.monotonic()
    command.seconds = time.perf_counter() - started
    time.sleep(0.5)  # the command's connections have closed; their backends end and are counted
    after = dagster_sessions(home)
    command.dagster_connections = after - sessions - 1 if after is not None and sessions is not None else None
    if code:
        raise RuntimeError(f"{' '.join(argv)} failed with code {code}: see {log_path}")
    spans = sim.platform_call_spans
    command.calls = Counter(sim.call_counts)
    command.platform_calls = Counter(sim.platform_call_counts)
    command.throttled = sum(command.calls.values()) - sim.answered
    if spans:
        first = min(span[0] for span in spans.values())
        last = max(span[1] for span in spans.values())
        command.api_phase_s = last - first
        command.to_first_call_s = first - started_mono
        command.after_last_call_s = ended_mono - last
    else:
        command.to_first_call_s = command.seconds
    return command


def latest_metadata(home: Path, asset: str) -> dict:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return common_latest_metadata(instance, asset)


def partition_keys(home: Path) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return instance.get_dynamic_partitions(glue_jobs_partitions.name)


def cli_inventory(env: dict[str, str], home: Path, sim: AnySimulator, log_path: Path, log,
                  tracemalloc: bool = False) -> list[Command]:
    """`glue_jobs`, every partition of `job_preliminary_metrics` in one run, `deep_analysis_candidates`."""
    base = [DAGSTER, "asset", "materialize", "-m", MODULE, "--select"]
    commands = [run_command("glue_jobs", [*base, "glue_jobs"], env, sim, log_path, tracemalloc)]
    commands[0].metadata = latest_metadata(home, "glue_jobs")
    log(f"  glue_jobs: {commands[0].seconds:.1f}s")
    keys = partition_keys(home)
    commands.append(run_command("job_preliminary_metrics", [*base, "job_preliminary_metrics", "--partition-range",
                                                            f"{keys[0]}...{keys[-1]}"], env, sim, log_path,
                                tracemalloc))
    commands[1].metadata = latest_metadata(home, "job_preliminary_metrics")
    log(f"  job_preliminary_metrics ({len(keys)} partitions): {commands[1].seconds:.1f}s")
    commands.append(run_command("deep_analysis_candidates", [*base, "deep_analysis_candidates"], env, sim, log_path,
                                tracemalloc))
    log(f"  deep_analysis_candidates: {commands[2].seconds:.1f}s")
    return commands


def import_seconds(env: dict[str, str], repeats: int = 3) -> float:
    """The fastest of `repeats` imports of the code location in a fresh interpreter (what each command pays)."""
    code = ("import time; t = time.perf_counter(); import glue_inventory.definitions; "
            "print(time.perf_counter() - t)")
    times = [float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                                  text=True).stdout.strip().splitlines()[-1]) for _ in range(repeats)]
    return min(times)


def _over_own_bound(command: Command, rate_limit: float | None) -> float | None:
    """A command's API phase ÷ its own calls' bound (its busiest account and Region's calls ÷ rate): the run history
    apart from the job listing, whose pages come one after another at the server's pace."""
    if not rate_limit or not command.platform_calls or not command.api_phase_s:
        return None
    return round(command.api_phase_s / (max(command.platform_calls.values()) / rate_limit), 3)


def pass_figures(commands: list[Command], rate_limit: float | None) -> dict:
    """The pass's wall time and API phases against the rate bound (the busiest account and Region's calls ÷ rate)."""
    platform_calls: Counter[str] = sum((c.platform_calls for c in commands), Counter())
    calls: Counter[str] = sum((c.calls for c in commands), Counter())
    bound = max(platform_calls.values()) / rate_limit if rate_limit and platform_calls else None
    seconds = sum(c.seconds for c in commands)
    api = sum(c.api_phase_s for c in commands)
    total = sum(calls.values())
    throttled = sum(c.throttled for c in commands)
    preliminary = commands[1].metadata
    return {
        "seconds": round(seconds, 2),
        "rate_limit_bound_s": round(bound, 2) if bound else None,
        "seconds_over_bound": round(seconds / bound, 3) if bound else None,
        "api_phases_s": round(api, 2),
        "api_phases_over_bound": round(api / bound, 3) if bound else None,
        "outside_api_s": round(seconds - api, 2),
        "commands": {c.name: {"seconds": round(c.seconds, 2), "api_phase_s": round(c.api_phase_s, 2),
                              "api_phase_over_its_bound": _over_own_bound(c, rate_limit),
                              "to_first_call_s": round(c.to_first_call_s, 2),
                              "after_last_call_s": round(c.after_last_call_s, 2),
                              "outside_api_s": round(c.outside_api_s, 2), "calls": sum(c.calls.values()),
                              "throttled": c.throttled, "dagster_connections": c.dagster_connections,
                              "tree_peak_rss_mb": c.tree_peak_rss_mb,
                              "largest_process_rss_mb": c.largest_process_rss_mb,
                              **({"tracemalloc": c.tracemalloc} if c.tracemalloc else {})}
                     for c in commands},
        "calls": total,
        "calls_by_operation": dict(calls),
        "calls_by_platform": dict(platform_calls),
        "throttled_answers": throttled,
        "throttled_share": round(throttled / total, 4) if total else 0.0,
        "jobs": preliminary.get("jobs"),
        "calls_per_job": round(total / preliminary["jobs"], 4) if preliminary.get("jobs") else None,
        "tree_peak_rss_mb": max(c.tree_peak_rss_mb for c in commands),
        "largest_process_rss_mb": max(c.largest_process_rss_mb for c in commands),
        "preliminary_metadata": {k: v for k, v in preliminary.items() if isinstance(v, int | float | str | bool)},
    }
