"""One contract for every JobStore: the in-memory fake and SQLite (Redis later).

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
from videogen_adapters.jobs.redis import RedisJobStore
from videogen_core import InvalidRequest, JobRecord, NotFound


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

    def test_a_dead_server_is_service_unavailable(self, valkey_url: str) -> None:
        from videogen_core import ServiceUnavailable

        with valkey_server() as server:
            url = server.url
        dead = RedisJobStore.from_url(url)
        with pytest.raises(ServiceUnavailable):
            dead.get("a")
        with pytest.raises(ServiceUnavailable):
            dead.check()
