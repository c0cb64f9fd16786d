"""One contract for every JobStore: the in-memory fake, SQLite and Redis (Valkey).

Subclass :class:`JobStoreContract` and provide a ``store`` fixture to add an adapter.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers import valkey_server

from videogen_adapters.jobs import InMemoryJobStore, SqliteJobStore
from videogen_adapters.jobs.records import JOB_STATUSES
from videogen_adapters.jobs.redis import RedisJobStore
from videogen_core import Busy, InvalidRequest, JobRecord, NotFound


def _job(job_id: str, key: str | None = None, **kw: object) -> JobRecord:
    return JobRecord(id=job_id, folder_id="f1", request={"sequence_data": [{"scene_number": 1}]},
                     idempotency_key=key, **kw)  # type: ignore[arg-type]


class JobStoreContract:
    """What every job store must do."""

    def test_create_then_get_round_trips_every_field(self, store) -> None:
        created = store.create(_job("a", scenes_total=3, warnings=("w",)))
        got = store.get("a")
        assert got == created
        assert got.request == {"sequence_data": [{"scene_number": 1}]}
        assert got.status == "queued"
        assert got.created_at > 0 and got.updated_at >= got.created_at
        assert got.warnings == ("w",)

    def test_get_unknown_is_not_found(self, store) -> None:
        with pytest.raises(NotFound):
            store.get("nope")

    def test_update_changes_fields_and_stamps_time(self, store) -> None:
        before = store.create(_job("a"))
        after = store.update("a", status="succeeded", percent=100.0, stage="store",
                             result={"success": True, "video_url": "u"},
                             warnings=["x", "y"], eta_seconds=None, scenes_done=2)
        assert after.status == "succeeded" and after.percent == 100.0
        assert after.updated_at >= before.updated_at
        got = store.get("a")
        assert got == after
        assert got.result == {"success": True, "video_url": "u"}
        assert got.warnings == ("x", "y")

    def test_update_error_mapping(self, store) -> None:
        store.create(_job("a"))
        store.update("a", status="failed", error={"code": "render_failed", "message": "m",
                                                   "details": {"stage": "render"}})
        assert store.get("a").error["details"] == {"stage": "render"}

    def test_update_unknown_job_is_not_found(self, store) -> None:
        with pytest.raises(NotFound):
            store.update("nope", status="running")

    def test_update_refuses_unknown_fields_and_statuses(self, store) -> None:
        store.create(_job("a"))
        with pytest.raises(InvalidRequest):
            store.update("a", colour="red")
        with pytest.raises(InvalidRequest):
            store.update("a", id="b")
        with pytest.raises(InvalidRequest):
            store.update("a", status="exploded")
        assert store.get("a").status == "queued"

    def test_duplicate_id_is_refused(self, store) -> None:
        store.create(_job("a"))
        with pytest.raises(InvalidRequest):
            store.create(_job("a"))

    def test_idempotency_key_returns_the_first_job(self, store) -> None:
        first = store.create(_job("a", key="k1"))
        again = store.create(_job("b", key="k1"))
        assert again.id == "a" and again == first
        with pytest.raises(NotFound):
            store.get("b")
        other = store.create(_job("c", key="k2"))
        assert other.id == "c"
        assert store.find_by_idempotency_key("k1").id == "a"
        assert store.find_by_idempotency_key("k2").id == "c"
        assert store.find_by_idempotency_key("k3") is None

    def test_list_filters_by_status_oldest_first(self, store) -> None:
        for i, job_id in enumerate(["j1", "j2", "j3", "j4"]):
            store.create(_job(job_id, created_at=1000.0 + i))
        store.update("j2", status="running")
        store.update("j4", status="succeeded")
        assert [j.id for j in store.list()] == ["j1", "j2", "j3", "j4"]
        assert [j.id for j in store.list(["queued", "running"])] == ["j1", "j2", "j3"]
        assert [j.id for j in store.list(("succeeded",))] == ["j4"]
        assert store.list(["cancelled"]) == []

    def test_concurrent_creates_with_one_key_make_one_job(self, store) -> None:
        results: list[JobRecord] = []
        lock = threading.Lock()

        def create(i: int) -> None:
            job = store.create(_job(f"j{i}", key="same"))
            with lock:
                results.append(job)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({j.id for j in results}) == 1
        assert len(store.list()) == 1

    def test_concurrent_updates_are_all_applied(self, store) -> None:
        for i in range(4):
            store.create(_job(f"j{i}"))

        def bump(job_id: str) -> None:
            for n in range(20):
                store.update(job_id, scenes_done=n + 1)

        threads = [threading.Thread(target=bump, args=(f"j{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [j.scenes_done for j in store.list()] == [20, 20, 20, 20]

    def _counts(self, store) -> dict[str, int]:
        return {s: store.count(s) for s in JOB_STATUSES}

    def test_count_follows_the_status_of_every_job(self, store) -> None:
        zero = dict.fromkeys(JOB_STATUSES, 0)
        assert self._counts(store) == zero
        for job_id in ["a", "b", "c", "d", "e"]:
            store.create(_job(job_id))
        assert self._counts(store) == {**zero, "queued": 5}
        store.update("a", status="running", stage="render")
        store.update("b", status="running")
        assert self._counts(store) == {**zero, "queued": 3, "running": 2}
        store.update("a", percent=50.0)  # no status change: counts stay
        store.update("b", status="running", stage="mux")
        assert self._counts(store) == {**zero, "queued": 3, "running": 2}
        store.update("a", status="succeeded")
        store.update("b", status="failed")
        store.update("c", status="cancelled")
        store.update("d", status="running")
        assert self._counts(store) == {"queued": 1, "running": 1, "succeeded": 1,
                                       "failed": 1, "cancelled": 1}
        store.update("d", status="queued")  # re-queued (recovery after a restart)
        assert self._counts(store) == {"queued": 2, "running": 0, "succeeded": 1,
                                       "failed": 1, "cancelled": 1}
        assert store.count("exploded") == 0

    def test_count_ignores_refused_creates_and_updates(self, store) -> None:
        store.create(_job("a", key="k"))
        store.create(_job("b", key="k"))  # an idempotent replay: no new job
        with pytest.raises(InvalidRequest):
            store.create(_job("a"))
        with pytest.raises(InvalidRequest):
            store.update("a", status="exploded")
        with pytest.raises(NotFound):
            store.update("nope", status="running")
        assert store.count("queued") == 1 and store.count("running") == 0
        store.create(_job("r", status="running"))  # created in another status
        assert (store.count("queued"), store.count("running")) == (1, 1)

    def test_concurrent_creates_and_updates_are_all_counted(self, store) -> None:
        def create(i: int) -> None:
            for n in range(5):
                store.create(_job(f"t{i}-{n}"))
                if n % 2:
                    store.update(f"t{i}-{n}", status="running")

        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert (store.count("queued"), store.count("running")) == (24, 16)
        assert store.count("queued") == len(store.list(["queued"]))

    def test_a_limit_refuses_the_job_beyond_it_and_stores_nothing(self, store) -> None:
        for job_id in ("a", "b"):
            store.create(_job(job_id), limit=2)
        with pytest.raises(Busy, match="2 jobs are already queued"):
            store.create(_job("c", key="kc"), limit=2)
        with pytest.raises(NotFound):
            store.get("c")
        assert store.count("queued") == 2
        assert store.find_by_idempotency_key("kc") is None  # the key was not taken
        store.create(_job("r", status="running"), limit=2)  # counted in its own status
        store.update("a", status="running")  # one left the queue: room for one more
        assert store.create(_job("c", key="kc"), limit=2).id == "c"
        # an idempotent replay still returns its job when the queue is full
        assert store.create(_job("x", key="kc"), limit=2).id == "c"
        store.create(_job("d"))  # without a limit a job is always stored
        assert store.count("queued") == 3
        with pytest.raises(Busy):
            store.create(_job("e"), limit=0)

    def test_frame_counts_round_trip(self, store) -> None:
        store.create(_job("a", scenes_total=2))
        after = store.update("a", frames_done=173, frames_total=504, scenes_done=0)
        assert store.get("a") == after
        assert (after.frames_done, after.frames_total, after.scenes_done) == (173, 504, 0)

    def test_update_if_applies_only_while_expected_holds(self, store) -> None:
        job = store.create(_job("a"))
        running = store.update("a", status="running")
        assert store.update_if("a", {"status": "queued"}, status="failed") is None
        assert store.get("a") == running
        taken = store.update_if("a", {"status": "running", "updated_at": running.updated_at},
                                status="queued", warnings=["re-queued"])
        assert taken is not None and taken.status == "queued" and taken == store.get("a")
        assert store.count("queued") == 1 and store.count("running") == 0
        # a second claimer holding the old stamp loses
        assert store.update_if("a", {"updated_at": running.updated_at}, status="failed") is None
        assert job.id == "a"
        with pytest.raises(NotFound):
            store.update_if("nope", {}, status="failed")

    def test_concurrent_update_if_has_one_winner(self, store) -> None:
        stamp = store.create(_job("a")).updated_at
        wins: list[str] = []
        barrier = threading.Barrier(6)

        def claim(n: int) -> None:
            barrier.wait()
            if store.update_if("a", {"updated_at": stamp, "status": "queued"},
                               status="running", stage=f"w{n}") is not None:
                wins.append(f"w{n}")

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and store.get("a").stage == wins[0]

    def test_delete_forgets_the_job_and_its_key(self, store) -> None:
        store.create(_job("a", key="k1"))
        store.create(_job("b"))
        store.delete("a")
        store.delete("a")  # unknown: no error
        with pytest.raises(NotFound):
            store.get("a")
        assert [j.id for j in store.list()] == ["b"] and store.count("queued") == 1
        again = store.create(_job("c", key="k1"))  # the key is free again
        assert again.id == "c"

    def test_concurrent_creates_never_pass_the_limit(self, store) -> None:
        self._race_to_the_limit([store] * 8, limit=10, store=store)

    def _race_to_the_limit(self, stores: list, limit: int, store) -> None:
        before = {j.id for j in store.list(["queued"])}
        room = limit - len(before)
        stored: list[str] = []
        refused: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(len(stores))

        def create(i: int, client) -> None:
            start.wait()
            for n in range(6):
                try:
                    job = client.create(_job(f"t{i}-{n}"), limit=limit)
                except Busy:
                    with lock:
                        refused.append(f"t{i}-{n}")
                else:
                    with lock:
                        stored.append(job.id)

        threads = [threading.Thread(target=create, args=(i, c)) for i, c in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(stored) == room
        assert len(refused) == 6 * len(stores) - room
        assert sorted(j.id for j in store.list(["queued"]) if j.id not in before) == sorted(stored)
        assert store.count("queued") == limit


class TestInMemoryJobStore(JobStoreContract):
    @pytest.fixture
    def store(self) -> InMemoryJobStore:
        return InMemoryJobStore()


class TestSqliteJobStore(JobStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SqliteJobStore:
        s = SqliteJobStore(tmp_path / "data" / "jobs.sqlite3")
        yield s
        s.close()

    def test_jobs_survive_a_new_store_on_the_same_file(self, tmp_path: Path) -> None:
        path = tmp_path / "jobs.sqlite3"
        first = SqliteJobStore(path)
        first.create(_job("a", key="k"))
        first.update("a", status="running", stage="render", percent=42.5)
        first.close()
        second = SqliteJobStore(path)
        job = second.get("a")
        assert (job.status, job.stage, job.percent) == ("running", "render", 42.5)
        assert second.create(_job("b", key="k")).id == "a"
        second.close()

    def test_count_is_answered_from_the_status_index(self, store: SqliteJobStore) -> None:
        store.create(_job("a"))
        plan = " ".join(str(tuple(r)) for r in store._connect().execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM jobs WHERE status = ?", ("queued",)))
        assert "jobs_status" in plan

    def test_uses_wal_mode(self, tmp_path: Path) -> None:
        import sqlite3

        store = SqliteJobStore(tmp_path / "jobs.sqlite3")
        store.create(_job("a"))
        conn = sqlite3.connect(tmp_path / "jobs.sqlite3")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
        store.close()


@pytest.fixture(scope="module")
def valkey_url() -> Iterator[str]:
    with valkey_server() as server:
        yield server.url


_prefixes = itertools.count()


class TestRedisJobStore(JobStoreContract):
    @pytest.fixture
    def store(self, valkey_url: str) -> Iterator[RedisJobStore]:
        s = RedisJobStore.from_url(valkey_url, prefix=f"test{next(_prefixes)}:")
        yield s
        s.close()

    def test_two_clients_share_jobs(self, store: RedisJobStore, valkey_url: str) -> None:
        other = RedisJobStore.from_url(valkey_url, prefix=store.prefix)
        store.create(_job("a", key="k"))
        other.update("a", status="running", stage="mux")
        assert store.get("a").stage == "mux"
        assert other.create(_job("b", key="k")).id == "a"
        other.close()

    def test_servers_sharing_the_store_share_one_limit(self, store: RedisJobStore,
                                                       valkey_url: str) -> None:
        """Four API servers (own connections) racing for the last places of one queue."""
        others = [RedisJobStore.from_url(valkey_url, prefix=store.prefix) for _ in range(3)]
        for i in range(5):
            store.create(_job(f"old{i}"))
        self._race_to_the_limit([store, *others] * 2, limit=12, store=store)
        for other in others:
            other.close()

    def test_a_dead_server_is_service_unavailable(self, valkey_url: str) -> None:
        from videogen_core import ServiceUnavailable

        with valkey_server() as server:
            url = server.url
        dead = RedisJobStore.from_url(url)
        with pytest.raises(ServiceUnavailable):
            dead.get("a")
        with pytest.raises(ServiceUnavailable):
            dead.check()

    def test_count_indexes_records_an_older_version_wrote(self, store: RedisJobStore) -> None:
        import json

        from videogen_adapters.jobs.records import check_new, record_to_row

        store.create(_job("new"))
        for job_id, status in [("old1", "queued"), ("old2", "running"), ("old3", "queued")]:
            job = check_new(_job(job_id, status=status))  # as the pre-index version stored it
            store.client.set(store._job_key(job_id), json.dumps(record_to_row(job)))
            store.client.zadd(f"{store.prefix}jobs", {job_id: job.created_at})
        assert not store.client.exists(f"{store.prefix}status-index")
        assert (store.count("queued"), store.count("running")) == (3, 1)
        assert store.client.exists(f"{store.prefix}status-index")
        store.update("old1", status="succeeded")
        assert (store.count("queued"), store.count("succeeded")) == (2, 1)

    def test_reindex_repairs_a_stale_status_set(self, store: RedisJobStore) -> None:
        store.create(_job("a"))
        store.create(_job("b"))
        assert store.count("queued") == 2
        # an older worker moved "a" on without touching the index
        store.client.set(store._job_key("a"), store.client.get(store._job_key("a")).replace(
            b'"status": "queued"', b'"status": "running"'))
        assert store.count("queued") == 2  # the index does not see it ...
        assert store.reindex() == 2
        assert (store.count("queued"), store.count("running")) == (1, 1)  # ... until reindexed
