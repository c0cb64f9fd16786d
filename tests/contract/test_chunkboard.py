"""The ChunkBoard contract, run against the in-memory board and a real valkey-server;
and the ChunkCrew sharing a job's chunks between two crews on one board."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.servers import valkey_server

from videogen_adapters.chunkboard import (
    ChunkCrew,
    ChunkRecord,
    InMemoryChunkBoard,
    encode_counts,
)
from videogen_adapters.chunkboard.redis import RedisChunkBoard
from videogen_core import CancelToken, ServiceUnavailable

_prefixes = itertools.count()


class ChunkBoardContract:
    """Subclass and provide a ``board`` fixture."""

    def test_one_claim_at_a_time(self, board: Any) -> None:
        assert board.claim("k1", "a", 5.0)
        assert not board.claim("k1", "b", 5.0)
        assert board.holder("k1") == "a"
        assert board.claim("k2", "b", 5.0)  # another key is free

    def test_release_only_by_the_holder(self, board: Any) -> None:
        assert board.claim("k", "a", 5.0)
        board.release("k", "b")
        assert board.holder("k") == "a"
        board.release("k", "a")
        assert board.holder("k") is None
        assert board.claim("k", "b", 5.0)

    def test_a_lapsed_claim_is_free_and_cannot_be_renewed(self, board: Any) -> None:
        assert board.claim("k", "a", 0.2)
        assert board.renew("k", "a", 0.2)
        time.sleep(0.35)
        assert board.holder("k") is None
        assert not board.renew("k", "a", 5.0)
        assert board.claim("k", "b", 5.0)
        assert not board.renew("k", "a", 5.0)  # b's now
        assert board.holder("k") == "b"

    def test_renew_extends_the_lease(self, board: Any) -> None:
        assert board.claim("k", "a", 0.3)
        for _ in range(4):
            time.sleep(0.15)
            assert board.renew("k", "a", 0.3)
        assert board.holder("k") == "a"  # 0.6 s later, still held

    def test_many_threads_one_winner(self, board: Any) -> None:
        wins: list[str] = []
        barrier = threading.Barrier(8)

        def race(name: str) -> None:
            barrier.wait()
            if board.claim("contested", name, 5.0):
                wins.append(name)

        threads = [threading.Thread(target=race, args=(f"t{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and board.holder("contested") == wins[0]

    def test_records_fold_started_and_finished(self, board: Any) -> None:
        a = ChunkRecord("k1", "w1", "job", "att1", 1.0)
        b = ChunkRecord("k2", "w2", "job", "att2", 2.0)
        board.started(a)
        board.started(b)
        board.finished(ChunkRecord("k1", "w1", "job", "att1", 1.0, 3.0))
        board.started(ChunkRecord("kx", "w1", "other", "att3", 1.5))
        records = board.records("job")
        assert [(r.key, r.worker, r.finished) for r in records] == [
            ("k1", "w1", 3.0), ("k2", "w2", None)]
        assert encode_counts(records) == {"k1": 1, "k2": 0}
        assert board.records("nobody") == []


class TestInMemoryChunkBoard(ChunkBoardContract):
    @pytest.fixture
    def board(self) -> InMemoryChunkBoard:
        return InMemoryChunkBoard()


@pytest.fixture(scope="module")
def valkey_url() -> Iterator[str]:
    with valkey_server() as server:
        yield server.url


class TestRedisChunkBoard(ChunkBoardContract):
    @pytest.fixture
    def board(self, valkey_url: str) -> RedisChunkBoard:
        return RedisChunkBoard.from_url(valkey_url, prefix=f"test{next(_prefixes)}:")

    def test_two_clients_share_claims(self, board: RedisChunkBoard, valkey_url: str) -> None:
        other = RedisChunkBoard.from_url(valkey_url, prefix=board.prefix)
        assert board.claim("k", "a", 5.0)
        assert not other.claim("k", "b", 5.0)
        assert other.holder("k") == "a"

    def test_a_dead_server_is_service_unavailable(self) -> None:
        with valkey_server() as server:
            board = RedisChunkBoard.from_url(server.url)
        with pytest.raises(ServiceUnavailable) as info:
            board.claim("k", "a", 1.0)
        assert info.value.details["service"] == "chunk board"


# ------------------------------------------------------------------ the crew
class FakeCache:
    """Keys put by encodes; ``take`` answers from it."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.lock = threading.Lock()


def crew(board: Any, cache: FakeCache, keys: list[str], worker: str, *, helper: bool = False,
         encode_seconds: float = 0.02, lease: float = 5.0, stop: CancelToken | None = None
         ) -> ChunkCrew:
    def take(k: int) -> bool:
        with cache.lock:
            return keys[k] in cache.keys

    def encode(k: int) -> None:
        time.sleep(encode_seconds)
        with cache.lock:
            cache.keys.add(keys[k])

    return ChunkCrew(board, keys, take=take, encode=encode, stop=stop or CancelToken(),
                     job="job", worker=worker, helper=helper, lease=lease, poll=0.01)


def run_threads(*targets: Any) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


@pytest.mark.parametrize("threads", [1, 3])
def test_two_crews_share_the_chunks_each_encoded_once(threads: int) -> None:
    board, cache = InMemoryChunkBoard(), FakeCache()
    keys = [f"c{k}" for k in range(12)]
    owner = crew(board, cache, keys, "owner")
    helper = crew(board, cache, keys, "helper", helper=True)
    run_threads(*[owner.work] * threads, *[helper.work] * threads)
    assert cache.keys == set(keys)
    counts = encode_counts(board.records("job"))
    assert counts == dict.fromkeys(keys, 1)  # every chunk encoded once, by one of them
    assert owner.encoded and helper.encoded  # both did some
    assert sorted(owner.encoded + helper.encoded) == list(range(12))


def test_cached_chunks_are_taken_not_encoded() -> None:
    board, cache = InMemoryChunkBoard(), FakeCache()
    keys = ["a", "b", "c"]
    cache.keys = {"a", "c"}
    owner = crew(board, cache, keys, "owner")
    owner.work()
    assert owner.encoded == [1]
    assert [r.key for r in board.records("job")] == ["b"]


def test_a_dead_holders_chunk_is_claimed_after_its_lease() -> None:
    board, cache = InMemoryChunkBoard(), FakeCache()
    keys = ["a", "b", "c"]
    # the helper dies encoding "b": its claim stays until the lease lapses
    with pytest.raises(KeyboardInterrupt):
        _claim_and_die(board, "b", lease=0.3)
    owner = crew(board, cache, keys, "owner", lease=0.3)
    started = time.monotonic()
    owner.work()
    assert cache.keys == set(keys)
    assert time.monotonic() - started >= 0.2  # it waited for the lapsed claim
    records = board.records("job")
    assert encode_counts(records) == {"a": 1, "b": 1, "c": 1}
    assert [(r.key, r.worker) for r in records if r.finished is None] == [("b", "helper")]


def test_waiting_for_a_held_chunk_looks_in_the_cache_only_once_it_is_free() -> None:
    """While another worker holds a chunk, a waiting crew asks the board (one claim a
    poll), not the cache: on a shared cache each look would be a storage request."""
    board, cache = InMemoryChunkBoard(), FakeCache()
    keys = ["a"]
    with pytest.raises(KeyboardInterrupt):
        _claim_and_die(board, "a", lease=0.3)
    looks: list[str] = []
    owner = crew(board, cache, keys, "owner", lease=0.3)
    inner = owner.take

    def take(k: int) -> bool:
        looks.append(keys[k])
        return inner(k)

    owner.take = take  # type: ignore[method-assign]
    owner.work()  # ~30 polls of 10 ms while the dead holder's claim lasts
    assert owner.encoded == [0]
    assert looks == ["a"]  # once, after its claim: not once a poll


def _claim_and_die(board: Any, key: str, lease: float) -> None:
    """A holder killed mid-encode: it claimed, recorded the start, never released
    (SIGKILL runs no ``finally``)."""
    assert board.claim(key, "helper/dead", lease)
    board.started(ChunkRecord(key, "helper", "job", "helper/dead", time.time()))
    raise KeyboardInterrupt


def test_a_helper_returns_when_the_rest_is_claimed() -> None:
    board, cache = InMemoryChunkBoard(), FakeCache()
    keys = ["a", "b"]
    assert board.claim("a", "someone", 5.0)
    assert board.claim("b", "someone", 5.0)
    helper = crew(board, cache, keys, "helper", helper=True)
    helper.work()  # returns at once: nothing to claim, nothing to wait for
    assert helper.encoded == [] and board.records("job") == []


def test_a_cancelled_crew_stops() -> None:
    from videogen_core import Cancelled

    board, cache = InMemoryChunkBoard(), FakeCache()
    stop = CancelToken()
    assert board.claim("a", "someone", 5.0)
    owner = crew(board, cache, ["a"], "owner", stop=stop)
    threading.Timer(0.1, stop.cancel).start()
    with pytest.raises(Cancelled):
        owner.work()  # was waiting for someone else's chunk


def test_a_failed_encode_raises_and_releases_its_claim() -> None:
    from videogen_core import Cancelled

    board = InMemoryChunkBoard()

    def encode(k: int) -> None:
        raise Cancelled()  # e.g. the job was cancelled mid-encode

    owner = ChunkCrew(board, ["a", "b"], take=lambda k: False, encode=encode,
                      stop=CancelToken(), job="job", worker="owner", poll=0.01)
    with pytest.raises(Cancelled):
        owner.work()
    assert board.holder("a") is None  # free for whoever runs the job next
    assert [(r.key, r.finished) for r in board.records("job")] == [("a", None)]
