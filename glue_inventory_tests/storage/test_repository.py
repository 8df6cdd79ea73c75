"""Upserts, history and transactions of the repository, on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from glue_inventory.analysis.types import JobRun
from glue_inventory.storage import repository as repo
from glue_inventory.storage.candidates import current_candidates, write_candidates
from glue_inventory.storage.db import dispose_engines, engine_for, make_engine
from glue_inventory.storage.tables import (
    analysis_runs,
    code_analysis_cache,
    data_jobs,
    deep_analysis_candidates,
    job_runs,
    platforms,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _platform(engine: sa.Engine, **overrides) -> int:
    args = {"name": "prod", "platform_type": "aws_glue", "account_id": "123456789012", "region": "us-east-1",
            "credentials": {"role_arn": "arn:aws:iam::123456789012:role/inventory"}} | overrides
    return repo.upsert_platform(engine, **args)


def _job(name: str, **columns) -> dict:
    return {"name": name, "partition_key": f"123456789012/us-east-1/{name}", "job_type": "glueetl",
            "worker_type": "G.1X", "number_of_workers": 10, "glue_version": "4.0", "tags": {"owner": "data"},
            "created_on": T0 - timedelta(days=400)} | columns


def _run(job_id: int, run_id: str, state: str = "SUCCEEDED", minutes_ago: int = 60, **columns) -> dict:
    started = T0 - timedelta(minutes=minutes_ago)
    return {"data_job_id": job_id, "run_id": run_id, "state": state, "started_on": started,
            "completed_on": None if state == "RUNNING" else started + timedelta(minutes=5),
            "execution_time_s": None if state == "RUNNING" else 300, "dpu_hours": 0.8,
            "estimated_cost_usd": 0.352} | columns


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _row(engine: sa.Engine, table: sa.Table, *where) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(table).where(*where)).mappings().one()


def test_upsert_platform_is_idempotent(engine: sa.Engine) -> None:
    first = _platform(engine)
    assert _platform(engine, status="failed", last_error="AccessDenied") == first
    assert _count(engine, platforms) == 1
    row = _row(engine, platforms, platforms.c.id == first)
    assert (row["status"], row["last_error"]) == ("failed", "AccessDenied")


@pytest.mark.parametrize("key", ["aws_secret_access_key", "password", "session_token", "private_key"])
def test_secret_looking_credentials_are_refused(engine: sa.Engine, key: str) -> None:
    with pytest.raises(ValueError, match="look like secrets"):
        _platform(engine, credentials={"role_arn": "arn:aws:iam::1:role/r", key: "x"})
    assert _count(engine, platforms) == 0


def test_external_id_is_a_reference_not_a_secret(engine: sa.Engine) -> None:
    platform_id = _platform(engine, credentials={"role_arn": "arn:aws:iam::1:role/r", "external_id": "inv"})
    assert _row(engine, platforms, platforms.c.id == platform_id)["credentials"]["external_id"] == "inv"


def test_upsert_jobs_twice_gives_the_same_rows(engine: sa.Engine) -> None:
    platform_id = _platform(engine)
    jobs = [_job(f"job-{i}") for i in range(3)]
    ids = repo.upsert_jobs(engine, platform_id, jobs, T0)
    again = repo.upsert_jobs(engine, platform_id, jobs, T0 + timedelta(hours=1))
    assert ids == again and sorted(ids) == ["job-0", "job-1", "job-2"]
    assert _count(engine, data_jobs) == 3
    row = _row(engine, data_jobs, data_jobs.c.id == ids["job-0"])
    assert row["first_seen_at"] == T0 and row["last_seen_at"] == T0 + timedelta(hours=1)
    assert row["tags"] == {"owner": "data"} and row["runs_history_complete"] is False


def test_upsert_jobs_keeps_columns_it_was_not_given(engine: sa.Engine) -> None:
    platform_id = _platform(engine)
    job_id = repo.upsert_jobs(engine, platform_id, [_job("etl")], T0)["etl"]
    repo.update_job_metrics(engine, [{"id": job_id, "status": "idle", "priority": "high",
                                      "metrics": {"cost_30d_usd": 12.5}, "candidate_reasons": ["high_cost"]}])
    repo.upsert_jobs(engine, platform_id, [_job("etl", worker_type="G.2X")], T0 + timedelta(days=1))
    row = _row(engine, data_jobs, data_jobs.c.id == job_id)
    assert (row["status"], row["priority"], row["worker_type"]) == ("idle", "high", "G.2X")
    assert row["metrics"] == {"cost_30d_usd": 12.5} and row["candidate_reasons"] == ["high_cost"]


def test_upsert_jobs_refuses_unknown_and_managed_columns(engine: sa.Engine) -> None:
    platform_id = _platform(engine)
    with pytest.raises(ValueError, match="unknown columns"):
        repo.upsert_jobs(engine, platform_id, [_job("etl", colour="blue")], T0)
    with pytest.raises(ValueError, match="managed by the repository"):
        repo.upsert_jobs(engine, platform_id, [_job("etl", first_seen_at=T0)], T0)


def test_mark_deleted_keeps_history_and_a_reappearing_job_is_undeleted(engine: sa.Engine) -> None:
    platform_id = _platform(engine)
    ids = repo.upsert_jobs(engine, platform_id, [_job("kept"), _job("gone")], T0)
    repo.upsert_runs(engine, [_run(ids["gone"], "jr_1")])
    repo.update_job_metrics(engine, [{"id": ids["gone"], "status": "active"}])

    assert repo.mark_deleted(engine, platform_id, {"kept"}, T0 + timedelta(days=1)) == ["gone"]
    assert repo.mark_deleted(engine, platform_id, {"kept"}, T0 + timedelta(days=2)) == []
    gone = _row(engine, data_jobs, data_jobs.c.id == ids["gone"])
    assert (gone["status"], gone["deleted_at"]) == ("deleted", T0 + timedelta(days=1))
    assert _row(engine, data_jobs, data_jobs.c.id == ids["kept"])["deleted_at"] is None
    assert repo.existing_runs(engine, ids["gone"]) == {"jr_1": ("SUCCEEDED", T0 - timedelta(minutes=60))}

    assert repo.upsert_jobs(engine, platform_id, [_job("gone")], T0 + timedelta(days=3)) == {"gone": ids["gone"]}
    back = _row(engine, data_jobs, data_jobs.c.id == ids["gone"])
    assert back["deleted_at"] is None and back["status"] is None and back["first_seen_at"] == T0


def test_mark_deleted_only_touches_its_platform(engine: sa.Engine) -> None:
    east, west = _platform(engine), _platform(engine, region="us-west-2")
    repo.upsert_jobs(engine, east, [_job("a")], T0)
    repo.upsert_jobs(engine, west, [_job("a", partition_key="123456789012/us-west-2/a")], T0)
    assert repo.mark_deleted(engine, east, set(), T0) == ["a"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(data_jobs.c.platform_id).where(data_jobs.c.deleted_at.is_(None))).all() \
            == [(west,)]


def test_upsert_runs_is_idempotent_and_a_running_run_finishes(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    runs = [_run(job_id, "jr_1"), _run(job_id, "jr_2", "FAILED", error_message="boom"),
            _run(job_id, "jr_3", "RUNNING", minutes_ago=2)]
    assert repo.upsert_runs(engine, runs) == 3
    repo.upsert_runs(engine, runs)
    assert _count(engine, job_runs) == 3

    finished = _run(job_id, "jr_3", "SUCCEEDED", minutes_ago=2, execution_time_s=90)
    repo.upsert_runs(engine, [finished])
    row = _row(engine, job_runs, job_runs.c.run_id == "jr_3")
    assert (row["state"], row["execution_time_s"], row["completed_on"]) == \
        ("SUCCEEDED", 90, finished["completed_on"])
    assert _count(engine, job_runs) == 3


def test_runs_in_several_batches_are_stored_once_and_only_changed_runs_are_written(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    total = repo.COPY_SIZE + 2_500  # more than one COPY (Postgres) and many executemany batches (SQLite)
    runs = [_run(job_id, f"jr_{n:05d}", minutes_ago=n, attempt=n % 2, fetched_at=T0) for n in range(total)]
    assert repo.upsert_runs(engine, runs) == total
    later = T0 + timedelta(hours=1)
    again = [run | {"fetched_at": later} | ({"state": "FAILED"} if n % 1000 == 7 else {})
             for n, run in enumerate(runs)]
    repo.upsert_runs(engine, again)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(job_runs.c.run_id, job_runs.c.state, job_runs.c.attempt,
                                      job_runs.c.fetched_at)).all()
    assert len(rows) == total
    rewritten = sorted(run_id for run_id, _, _, fetched_at in rows if fetched_at == later)
    assert rewritten == [f"jr_{n:05d}" for n in range(total) if n % 1000 == 7]
    assert {run_id: state for run_id, state, _, _ in rows if state == "FAILED"}.keys() == set(rewritten)
    assert sum(attempt for _, _, attempt, _ in rows) == total // 2


def test_a_run_the_database_refuses_loses_nothing_and_the_next_batch_is_stored(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    repo.upsert_runs(engine, [_run(job_id, "jr_1")])
    with engine.connect() as conn:
        refused = _run(job_id, "jr_2", execution_time_s=2**40)  # more than the column's integer holds
        if engine.dialect.name == "postgresql":
            with pytest.raises(sa.exc.DBAPIError, match="out of range"):
                repo.upsert_runs(conn, [_run(job_id, "jr_1", "FAILED"), refused])
            conn.rollback()
        repo.upsert_runs(conn, [_run(job_id, "jr_3")])  # the same session, its staging table, again
        conn.commit()
    assert sorted(repo.existing_runs(engine, job_id)) == ["jr_1", "jr_3"]
    assert repo.existing_runs(engine, job_id)["jr_1"][0] == "SUCCEEDED"


def test_runs_read_back_exactly_as_they_were_written(engine: sa.Engine) -> None:
    """On Postgres the runs are COPYed in the binary format: every column reads back as it was given (a float's
    last digit, a microsecond, text beyond ASCII, a 64-bit run count), and a value the binary format would not
    take as the database does (text in a number column) is stored as the database takes it."""
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    written = [_run(job_id, "jr_1", "FAILED", dpu_seconds=1234.5678901234567, dpu_hours=0.1 + 0.2,
                    estimated_cost_usd=1e-300, error_message="échec: ü 日本 \t\\N", worker_type="G.1X",
                    number_of_workers=2**31 - 1, max_capacity=0.0625, glue_version="4.0", execution_class="FLEX",
                    attempt=3, completed_on=T0 + timedelta(microseconds=999_999)),
               _run(job_id, "jr_2", "RUNNING", execution_time_s="7")]
    repo.upsert_runs(engine, written)
    with engine.connect() as conn:
        stored = {row["run_id"]: row for row in conn.execute(sa.select(job_runs)).mappings()}
    for run in written[:1]:
        assert {key: stored[run["run_id"]][key] for key in run} == run
    assert stored["jr_2"]["execution_time_s"] == 7
    assert stored["jr_2"]["attempt"] == 0  # the column's default, as an INSERT gives it


def test_runs_are_stored_where_the_role_may_not_create_temporary_tables(postgres_url: str,
                                                                        postgres_server: sa.Engine) -> None:
    """A hardened database (REVOKE TEMPORARY): the runs go in row by row, instead of failing the refresh."""
    owner = engine_for(postgres_url)  # migrated by the database's owner
    job_id = repo.upsert_jobs(owner, _platform(owner), [_job("etl")], T0)["etl"]
    url = sa.make_url(postgres_url)
    role = f"{url.database}_writer"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    try:
        with owner.begin() as conn:
            conn.exec_driver_sql(f"REVOKE TEMPORARY ON DATABASE {url.database} FROM PUBLIC")
            conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
            conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        writer = make_engine(url.set(username=role).render_as_string(hide_password=False))
        with writer.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.exec_driver_sql("CREATE TEMPORARY TABLE probe (x int)")
        runs = [_run(job_id, f"jr_{n}", minutes_ago=n) for n in range(30)]
        assert repo.upsert_runs(writer, runs) == 30
        repo.upsert_runs(writer, [_run(job_id, "jr_3", "FAILED", minutes_ago=3)])
        assert len(repo.existing_runs(owner, job_id)) == 30
        assert repo.existing_runs(owner, job_id)["jr_3"][0] == "FAILED"
        # The metrics write stages its rows the same way, and falls back the same way.
        repo.update_job_metrics(writer, [{"id": job_id, "status": "idle", "metrics": {"cost_30d_usd": 1.5}}])
        row = {"data_job_id": job_id, "analysis_type": "preliminary", "dagster_run_id": "run-1",
               "metrics": {"cost_30d_usd": 1.5}}
        assert repo.insert_analysis_runs(writer, [row, row | {"dagster_run_id": "run-2"}]) == 2
        with owner.connect() as conn:
            assert conn.execute(sa.select(data_jobs.c.status, data_jobs.c.metrics)).one() == (
                "idle", {"cost_30d_usd": 1.5})
            assert conn.execute(sa.select(sa.func.count()).select_from(analysis_runs)).scalar_one() == 2
        writer.dispose()
    finally:
        with owner.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
        dispose_engines()
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_a_run_repeated_in_one_batch_keeps_the_last_version(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    repo.upsert_runs(engine, [_run(job_id, "jr_1", "RUNNING"), _run(job_id, "jr_1", "SUCCEEDED")])
    assert repo.existing_runs(engine, job_id)["jr_1"][0] == "SUCCEEDED"


def test_existing_runs_bulk_lists_every_asked_job(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job("a"), _job("b")], T0)
    repo.upsert_runs(engine, [_run(ids["a"], "jr_1"), _run(ids["a"], "jr_2", "STOPPED")])
    found = repo.existing_runs_bulk(engine, [ids["a"], ids["b"]])
    assert found[ids["b"]] == {}
    assert {run_id: state for run_id, (state, _) in found[ids["a"]].items()} == \
        {"jr_1": "SUCCEEDED", "jr_2": "STOPPED"}
    assert repo.run_states_bulk(engine, [ids["a"], ids["b"]]) == \
        {ids["a"]: {"jr_1": "SUCCEEDED", "jr_2": "STOPPED"}, ids["b"]: {}}


def test_run_states_read_back_whatever_their_run_ids_hold(engine: sa.Engine) -> None:
    """Postgres sends each job's states as one JSON object: ids that JSON escapes come back as they were."""
    ids = repo.upsert_jobs(engine, _platform(engine), [_job(f"j{i}") for i in range(repo.IN_CHUNK + 2)], T0)
    odd = ['jr_"quoted"', "jr_back\\slash", "jr_caf\u00e9 \u6f22", "jr_tab\tnewline\n", "jr_{}[],:"]
    first, last = ids["j0"], ids[f"j{repo.IN_CHUNK + 1}"]
    stored = dict(zip(odd, ["RUNNING", "FAILED", "SUCCEEDED", "STOPPED", "TIMEOUT"], strict=True))
    repo.upsert_runs(engine, [_run(first, run_id, state) for run_id, state in stored.items()]
                     + [_run(last, "jr_1", "TIMEOUT")])
    states = repo.run_states_bulk(engine, ids.values())
    assert states[first] == stored
    assert states[last] == {"jr_1": "TIMEOUT"}
    assert set(states) == set(ids.values())
    assert sum(map(len, states.values())) == len(odd) + 1


def _runs_failing_after(job_id: int, good: int) -> Iterator[dict]:
    for i in range(good):
        yield _run(job_id, f"jr_{i}", minutes_ago=i)
    raise RuntimeError("the Glue API went away mid-batch")


def test_a_failure_mid_batch_rolls_back_the_whole_transaction(engine: sa.Engine) -> None:
    platform_id = _platform(engine)
    with pytest.raises(RuntimeError, match="mid-batch"), engine.begin() as conn:
        job_id = repo.upsert_jobs(conn, platform_id, [_job("etl")], T0)["etl"]
        repo.upsert_runs(conn, _runs_failing_after(job_id, 2500))
    assert _count(engine, data_jobs) == 0 and _count(engine, job_runs) == 0


def test_a_bad_row_rolls_back_the_rows_before_it(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    rows = [_run(job_id, f"jr_{i}", minutes_ago=i) for i in range(2500)]
    rows[1800]["state"] = None
    with pytest.raises(sa.exc.IntegrityError):
        repo.upsert_runs(engine, rows)
    assert _count(engine, job_runs) == 0


def test_writes_join_the_callers_transaction(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        repo.upsert_jobs(conn, _platform(conn), [_job("etl")], T0)
        conn.rollback()
        assert _count(engine, platforms) == 0
        _platform(conn)
    assert _count(engine, platforms) == 1, "a connection outside a transaction commits its own"


def test_timestamps_come_back_aware_in_utc(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    started = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))
    repo.upsert_runs(engine, [_run(job_id, "jr_1") | {"started_on": started}])
    stored = _row(engine, job_runs, job_runs.c.run_id == "jr_1")["started_on"]
    assert stored == started and stored.tzinfo == UTC and stored.hour == 1


def test_naive_timestamps_are_refused(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        repo.upsert_runs(engine, [_run(job_id, "jr_1") | {"started_on": datetime(2025, 1, 1)}])


def test_update_job_metrics_writes_json_and_partial_rows(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job("a"), _job("b")], T0)
    metrics = {"status": "stale", "cost_30d_usd": 0.0, "runs": [1, 2], "note": "ünïcode"}
    repo.update_job_metrics(engine, [
        {"id": ids["a"], "status": "stale", "metrics": metrics, "last_run_at": T0, "last_run_state": "FAILED"},
        {"id": ids["b"], "last_error": "AccessDeniedException: not authorized"},
    ])
    a, b = (_row(engine, data_jobs, data_jobs.c.id == ids[name]) for name in "ab")
    assert (a["status"], a["metrics"], a["last_run_at"], a["last_run_state"]) == ("stale", metrics, T0, "FAILED")
    assert b["last_error"].startswith("AccessDenied") and b["status"] is None


def test_the_metrics_write_refuses_a_naive_timestamp_and_changes_nothing(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        repo.update_job_metrics(engine, [{"id": job_id, "status": "idle", "last_run_at": datetime(2025, 1, 1)}])
    assert _row(engine, data_jobs, data_jobs.c.id == job_id)["status"] is None


def test_a_job_updated_twice_in_one_write_keeps_the_last_values(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    repo.update_job_metrics(engine, [{"id": job_id, "status": "idle", "metrics": {"n": 1}},
                                     {"id": job_id, "status": "active", "metrics": {"n": 2}}])
    row = _row(engine, data_jobs, data_jobs.c.id == job_id)
    assert (row["status"], row["metrics"]) == ("active", {"n": 2})


def test_analysis_runs_of_a_retried_step_are_not_duplicated(engine: sa.Engine) -> None:
    job_id = repo.upsert_jobs(engine, _platform(engine), [_job("etl")], T0)["etl"]
    row = {"data_job_id": job_id, "analysis_type": "preliminary", "dagster_run_id": "run-1", "completed_at": T0,
           "metrics": {"status": "active"}, "cost_analysis": {"monthly_projection_usd": 3.0}}
    repo.insert_analysis_runs(engine, [row])
    repo.insert_analysis_runs(engine, [row | {"metrics": {"status": "idle"}}])
    repo.insert_analysis_runs(engine, [row | {"dagster_run_id": "run-2"}])
    assert _count(engine, analysis_runs) == 2
    first = _row(engine, analysis_runs, analysis_runs.c.dagster_run_id == "run-1")
    assert first["metrics"] == {"status": "idle"} and first["status"] == "succeeded"


def test_replace_candidates_keeps_history_and_one_current_list(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job("a"), _job("b")], T0)

    def candidate(name: str, score: float) -> dict:
        return {"data_job_id": ids[name], "score": score, "priority": "high", "reasons": ["high_cost"],
                "savings_by_reason": {"high_cost": 40.0}, "estimated_monthly_savings_usd": 40.0}

    repo.replace_candidates(engine, "run-1", [candidate("a", 0.9), candidate("b", 0.5)])
    repo.replace_candidates(engine, "run-2", [candidate("b", 0.7)])
    repo.replace_candidates(engine, "run-2", [candidate("b", 0.7)])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(deep_analysis_candidates.c.dagster_run_id, deep_analysis_candidates.c.is_current)
                            .order_by(deep_analysis_candidates.c.dagster_run_id)).all()
    assert sorted(rows) == [("run-1", False), ("run-1", False), ("run-2", True)]


def test_a_candidate_list_sets_its_jobs_priorities_and_clears_those_it_no_longer_holds(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job(name) for name in ("a", "b", "c")], T0)

    def candidate(name: str, priority: str, reasons: list[str]) -> dict:
        return {"data_job_id": ids[name], "score": 0.5, "priority": priority, "reasons": reasons,
                "savings_by_reason": {}, "estimated_monthly_savings_usd": 0.0, "savings_basis": None,
                "savings_by_basis": {}, "savings_identified_usd": 0.0, "savings_potential_usd": 0.0}

    def flags() -> dict[str, tuple]:
        with engine.connect() as conn:
            return {name: (priority, reasons) for name, priority, reasons in conn.execute(
                sa.select(data_jobs.c.name, data_jobs.c.priority, data_jobs.c.candidate_reasons))}

    write_candidates(engine, [candidate("a", "high", ["high_cost"]), candidate("b", "low", ["missing_tags"])], "run-1")
    assert flags() == {"a": ("high", ["high_cost"]), "b": ("low", ["missing_tags"]), "c": (None, None)}
    write_candidates(engine, [candidate("b", "medium", ["failing"]), candidate("c", "high", ["inactive"])], "run-2")
    assert flags() == {"a": (None, None), "b": ("medium", ["failing"]), "c": ("high", ["inactive"])}
    write_candidates(engine, [], "run-3")
    assert flags() == {"a": (None, None), "b": (None, None), "c": (None, None)}
    assert [row["name"] for row in current_candidates(engine)] == []


def test_run_history_for_metrics_holds_the_window_the_latest_runs_and_counts(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job("a"), _job("b"), _job("c"), _job("idle")], T0)
    day = 24 * 60
    repo.upsert_runs(engine, [
        _run(ids["a"], "a_old", minutes_ago=90 * day), _run(ids["a"], "a_in", minutes_ago=2 * day),
        _run(ids["a"], "a_edge", minutes_ago=30 * day), _run(ids["a"], "a_nostart", started_on=None),
        # b last ran long ago: its latest run and its retry (same StartedOn) come back, nothing older
        _run(ids["b"], "b_old", minutes_ago=300 * day), _run(ids["b"], "b_last", minutes_ago=100 * day),
        _run(ids["b"], "b_last_retry", minutes_ago=100 * day, attempt=1),
        _run(ids["c"], "c_nostart", started_on=None),
    ])
    with engine.connect() as conn:
        zone = "Pacific/Kiritimati"  # UTC+14: runs read in this zone would carry it (Postgres reads in UTC)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET TIME ZONE '{zone}'")
            conn.commit()
        with conn.begin():
            history = repo.run_history_for_metrics(conn, [ids["a"], ids["b"], ids["c"], ids["idle"]],
                                                   since=T0 - timedelta(days=30))
            if engine.dialect.name == "postgresql":  # the caller's transaction keeps its time zone
                assert conn.exec_driver_sql("SELECT current_setting('TimeZone')").scalar() == zone
    assert {job_id: [run.run_id for run in runs] for job_id, runs in history.runs.items()} == \
        {ids["a"]: ["a_edge", "a_in"], ids["b"]: ["b_last", "b_last_retry"]}  # oldest first
    assert history.counts == {ids["a"]: 4, ids["b"]: 3, ids["c"]: 1}
    a_in = history.runs[ids["a"]][1]
    assert a_in == JobRun(run_id="a_in", state="SUCCEEDED", started_on=T0 - timedelta(days=2),
                          completed_on=T0 - timedelta(days=2) + timedelta(minutes=5), execution_time_s=300)
    assert all(run.started_on.tzinfo is UTC for runs in history.runs.values() for run in runs)
    assert history.runs[ids["b"]][1].attempt == 1 and history.runs[ids["b"]][0].attempt == 0


def test_jobs_by_partition_key(engine: sa.Engine) -> None:
    ids = repo.upsert_jobs(engine, _platform(engine), [_job("a"), _job("b")], T0)
    found = repo.jobs_by_partition_key(engine, ["123456789012/us-east-1/a", "123456789012/us-east-1/zzz"])
    assert list(found) == ["123456789012/us-east-1/a"] and found["123456789012/us-east-1/a"]["id"] == ids["a"]


@pytest.mark.parametrize("table", ["code_analysis_cache", "llm_cache"])
def test_cache_round_trip_and_overwrite(engine: sa.Engine, table: str) -> None:
    assert repo.cache_get(engine, table, "sha:abc|pylint:3.2") is None
    repo.cache_put(engine, table, "sha:abc|pylint:3.2", {"findings": [{"rule": "W0611"}]})
    repo.cache_put(engine, table, "sha:abc|pylint:3.2", {"findings": []})
    assert repo.cache_get(engine, table, "sha:abc|pylint:3.2") == {"findings": []}


def test_cache_refuses_other_tables(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="not a cache table"):
        repo.cache_get(engine, data_jobs, "x")
    assert repo.cache_get(engine, code_analysis_cache, "x") is None
