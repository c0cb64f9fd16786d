"""Load benchmark of the HTTP service (not a test): a real ``videogen serve``.

Starts ``videogen serve`` on 127.0.0.1 (a free port, a fresh data dir) with a
bounded queue, then at once:

* ``--submissions`` (200) clients each POST one small async job
  (``Prefer: respond-async``; 1 scene of 1 s, a 64x36 picture, 160x90
  ultrafast, silent narrator, no music) — accepted (202) or refused (429 with
  Retry-After); nothing else is acceptable;
* ``--followers`` (50) clients follow the accepted jobs' Server-Sent Events
  (spread over them, several per job when fewer were accepted) to the end —
  served (200) or refused (503 + Retry-After: they then poll ``GET /jobs/<id>``,
  as the README says);
* one prober GETs ``/healthz`` every 50 ms throughout, from its own process at
  normal priority (``--prober-nice -10`` lets it stand in for a load balancer on
  another machine: the time it waits for a core on these shared 2 cores is then
  not counted as the server's latency; measured on a quiet VM it made no
  difference). The load starts once it is probing.

The load generator's clients share one TLS context (``--tls-per-client``: the
old, CPU-hungry way; see :data:`TLS`), so the 200 submissions really arrive at
once.

Then it waits for every accepted job and checks: each ended ``succeeded``,
none is lost (every accepted id is known, terminal), each stored exactly one
video (the folder holds as many MP4s as jobs succeeded). Reported: accepted
vs 429, submit latency p50/p99, followers served vs refused, ``/healthz``
p50/p99/max and failures (and p99 during the submissions), the server's RSS
(``/proc/<pid>/status``) before and after, CPU seconds of the server (with its
ffmpeg children), the load generator and the prober, wall time. Exit status 1
when a check fails (or ``/healthz`` p99 is ≥ 100 ms).

    python benchmarks/bench_load.py                          # the full run
    python benchmarks/bench_load.py --submissions 12 --followers 4 --max-queue 4
    python benchmarks/bench_load.py --json result.json       # also write the figures

Timing figures mean something only on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

FOLDER = "load"
BODY: dict[str, Any] = {
    "sequence_data": [{"scene_number": 1, "narration": "", "duration": 1.0,
                       "clip_action": "zoom in", "music_mood": "calm"}],
    "generation_params": {"transition_type": "none", "seed": 1, "fps": 12},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Server:
    """``videogen serve`` in its own process group."""

    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = root / "data"
        (data / FOLDER).mkdir(parents=True)
        picture = io.BytesIO()
        Image.new("RGB", (64, 36), (90, 140, 200)).save(picture, format="PNG")
        (data / FOLDER / "scene_1.png").write_bytes(picture.getvalue())
        self.videos = data / FOLDER / "videos"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOGEN_")}
        env.update({
            "VIDEOGEN_DATA_DIR": str(data), "VIDEOGEN_HOST": "127.0.0.1",
            "VIDEOGEN_PORT": str(self.port), "VIDEOGEN_THREADS": str(args.threads),
            "VIDEOGEN_MAX_JOBS": str(args.max_jobs), "VIDEOGEN_MAX_QUEUE": str(args.max_queue),
            "VIDEOGEN_NARRATOR": "silent", "VIDEOGEN_MUSIC": "none", "VIDEOGEN_WIDTH": "160",
            "VIDEOGEN_HEIGHT": "90", "VIDEOGEN_PRESET": "ultrafast", "VIDEOGEN_CRF": "30",
            "VIDEOGEN_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
        })
        script = Path(sys.executable).with_name("videogen")
        argv = [str(script), "serve"] if script.exists() else [
            sys.executable, "-m", "videogen_cli", "serve"]
        self.log_path = root / "server.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, env=env, cwd=root, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("server exited:\n" + self.log_path.read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer:\n" + self.log_path.read_text())
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class HealthProber:
    """GET /healthz every ``interval`` s from a separate process until :meth:`stop`;
    ``latencies`` in ms (``times``: when each probe started, ``time.time()``),
    ``failures`` as text, ``nice`` the niceness the prober got, ``cpu_seconds``.

    The prober stands in for a load balancer on another machine. Here it shares
    the 2 cores with the load generator (200 threads) and the server; it may ask
    for a higher CPU priority (``nice`` < 0; needs root or CAP_SYS_NICE, else it
    runs at 0 and says so), so that the time it waits for a core to read its own
    answer does not count as the server's latency. Default 0: as any client."""

    def __init__(self, url: str, workdir: Path, interval: float = 0.05, nice: int = 0
                 ) -> None:
        self.out = workdir / "probe.json"
        self.stop_file = workdir / "probe.stop"
        self.latencies: list[float] = []
        self.times: list[float] = []
        self.failures: list[str] = []
        self.nice = 0
        self.cpu_seconds = 0.0
        self.proc = subprocess.Popen([sys.executable, __file__, "--probe", url, str(self.out),
                                      str(self.stop_file), str(interval), str(nice)])

    def wait_until_probing(self, timeout: float = 60) -> None:
        """Return once the prober has made its first probe (it writes ``out`` then)."""
        deadline = time.monotonic() + timeout
        while not self.out.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the prober did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.stop_file.touch()
        self.proc.wait(30)
        result = json.loads(self.out.read_text())
        self.latencies, self.times = result["latencies"], result["times"]
        self.failures, self.nice = result["failures"], result["nice"]
        self.cpu_seconds = result["cpu_seconds"]


def probe_loop(url: str, out: Path, stop_file: Path, interval: float, nice: int) -> None:
    """The prober process: probe until ``stop_file`` exists, then write ``out``."""
    import resource

    with contextlib.suppress(OSError):  # lowering niceness needs privileges
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    latencies: list[float] = []
    times: list[float] = []
    failures: list[str] = []
    with httpx.Client(timeout=5) as client:
        while not stop_file.exists():
            began = time.time()
            started = time.perf_counter()
            try:
                status = client.get(f"{url}/healthz").status_code
                if status != 200:
                    failures.append(f"status {status}")
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
            else:
                latencies.append((time.perf_counter() - started) * 1000)
                times.append(began)
            if not out.exists():
                out.write_text("{}")  # probing: the load may start
            time.sleep(interval)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(json.dumps({"latencies": latencies, "times": times, "failures": failures,
                               "nice": os.getpriority(os.PRIO_PROCESS, 0),
                               "cpu_seconds": usage.ru_utime + usage.ru_stime}))


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its children it has reaped (the ffmpeg runs), from
    ``/proc/<pid>/stat`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


#: One TLS context for every client of the load generator. httpx builds a new one
#: (loading the CA bundle: ~35 ms of CPU) for each ``Client`` unless given one;
#: the 250 clients of a full run spent ~9 s of the 2 cores on that alone, while
#: the server was being measured, and the "simultaneous" submissions trickled in
#: over ~11 s. The requests are plain HTTP either way. ``--tls-per-client``
#: brings the old behaviour back (None: each client builds its own).
TLS: ssl.SSLContext | None = ssl.create_default_context()


def submit(url: str, start: threading.Event) -> tuple[int, float, str | None, str | None]:
    """One client's POST: ``(status, latency ms, job id, Retry-After)``."""
    start.wait()
    with httpx.Client(timeout=120, verify=TLS or True) as client:
        began = time.perf_counter()
        response = client.post(f"{url}/generateVideos/{FOLDER}", json=BODY,
                               headers={"Prefer": "respond-async"})
        latency = (time.perf_counter() - began) * 1000
    job_id = response.json().get("job_id") if response.status_code == 202 else None
    return response.status_code, latency, job_id, response.headers.get("Retry-After")


def follow(url: str, job_id: str) -> tuple[str, str]:
    """Follow one job to its end: ``(how, final status)``; ``how`` is ``stream``
    or ``polled`` (the stream was refused with 503)."""
    with httpx.Client(timeout=httpx.Timeout(30, read=300), verify=TLS or True) as client:
        with client.stream("GET", f"{url}/jobs/{job_id}/events") as response:
            if response.status_code == 200:
                event = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "end":
                        return "stream", str(json.loads(line[6:])["status"])
                return "stream", "stream ended early"
            if response.status_code != 503 or "Retry-After" not in response.headers:
                return f"refused {response.status_code}", "?"
        while True:
            job = client.get(f"{url}/jobs/{job_id}").json()
            if job["status"] in {"succeeded", "failed", "cancelled"}:
                return "polled", str(job["status"])
            time.sleep(0.5)


def main() -> int:
    if len(sys.argv) == 7 and sys.argv[1] == "--probe":  # the prober process
        probe_loop(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), float(sys.argv[5]),
                   int(sys.argv[6]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--max-jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for all jobs")
    parser.add_argument("--prober-nice", type=int, default=0,
                        help="the prober's niceness (negative needs root: a stand-in "
                             "for a load balancer on another machine)")
    parser.add_argument("--tls-per-client", action="store_true",
                        help="each client builds its own TLS context, as before (~35 ms "
                             "CPU each): the submissions then trickle in over seconds")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    global TLS
    if args.tls_per_client:
        TLS = None

    with tempfile.TemporaryDirectory(prefix="videogen-bench-load-") as tmp:
        server = Server(Path(tmp), args)
        try:
            figures = run(server, args, Path(tmp))
        finally:
            server.stop()
        figures["server_exit_code"] = server.proc.returncode
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    problems = figures["problems"]
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    return 1 if problems else 0


def run(server: Server, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import resource

    rss_before = rss_mb(server.proc.pid)
    cpu_before = cpu_seconds(server.proc.pid)
    prober = HealthProber(server.url, workdir, nice=args.prober_nice)
    prober.wait_until_probing()
    time.sleep(0.5)  # the prober is probing before the load starts
    started = time.monotonic()
    burst_began = time.time()
    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=args.submissions) as pool:
        futures = [pool.submit(submit, server.url, gate) for _ in range(args.submissions)]
        gate.set()
        results = [f.result() for f in futures]
    submitted = time.monotonic() - started
    burst_ended = time.time()
    accepted = [job_id for status, _, job_id, _ in results if status == 202 and job_id]
    statuses: dict[str, int] = {}
    for status, *_ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies = [latency for _, latency, _, _ in results]
    refused_without_retry = sum(1 for status, _, _, retry in results
                                if status == 429 and not retry)

    # always --followers streams, spread over the accepted jobs (a fast burst leaves
    # only the queue's worth of jobs: 2 running + 16 waiting)
    followed = [accepted[i % len(accepted)] for i in range(args.followers)] if accepted else []
    with ThreadPoolExecutor(max_workers=max(1, len(followed))) as pool:
        follows = list(pool.map(lambda job_id: follow(server.url, job_id), followed))

    finals: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + args.timeout
    with httpx.Client(timeout=30, verify=TLS or True) as client:
        for job_id in accepted:
            while True:
                job = client.get(f"{server.url}/jobs/{job_id}").json()
                if job.get("status") in {"succeeded", "failed", "cancelled"}:
                    finals[job_id] = job
                    break
                if time.monotonic() > deadline:
                    finals[job_id] = job
                    break
                time.sleep(0.2)
    wall = time.monotonic() - started
    prober.stop()
    rss_after = rss_mb(server.proc.pid)
    server_cpu = cpu_seconds(server.proc.pid) - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)

    succeeded = [j for j in finals.values() if j.get("status") == "succeeded"]
    videos = sorted(server.videos.glob("*.mp4")) if server.videos.exists() else []
    urls = {j["result"]["video_url"] for j in succeeded}
    health = prober.latencies
    in_burst = [ms for ms, at in zip(health, prober.times, strict=True)
                if burst_began <= at <= burst_ended]
    problems = []
    if set(statuses) - {"202", "429"}:
        problems.append(f"unexpected submit statuses: {statuses}")
    if refused_without_retry:
        problems.append(f"{refused_without_retry} refusals without Retry-After")
    if len(succeeded) != len(accepted):
        problems.append(f"{len(accepted) - len(succeeded)} accepted jobs did not succeed: "
                        f"{sorted({j.get('status') for j in finals.values()})}")
    if len(videos) != len(succeeded) or len(urls) != len(succeeded):
        problems.append(f"{len(videos)} videos / {len(urls)} URLs for "
                        f"{len(succeeded)} succeeded jobs (each must store one)")
    if any(status != "succeeded" for _, status in follows):
        problems.append(f"followers saw: {sorted({s for _, s in follows})}")
    if any(how not in {"stream", "polled"} for how, _ in follows):
        problems.append(f"followers refused badly: {sorted({h for h, _ in follows})}")
    if prober.failures:
        problems.append(f"/healthz failed {len(prober.failures)} times: {prober.failures[:5]}")
    if percentile(health, 99) >= 100:
        problems.append(f"/healthz p99 {percentile(health, 99):.1f} ms >= 100 ms")
    return {
        "submissions": args.submissions, "max_queue": args.max_queue,
        "max_jobs": args.max_jobs, "threads": args.threads,
        "accepted": len(accepted), "refused_429": statuses.get("429", 0),
        "submit_statuses": statuses,
        "submit_ms_p50": round(statistics.median(latencies), 1),
        "submit_ms_p99": round(percentile(latencies, 99), 1),
        "submit_seconds": round(submitted, 2),
        "followers": len(followed),
        "followers_streamed": sum(1 for how, _ in follows if how == "stream"),
        "followers_refused_503_then_polled": sum(1 for how, _ in follows if how == "polled"),
        "jobs_succeeded": len(succeeded), "videos_stored": len(videos),
        "jobs_lost": len(accepted) - len(finals),
        "healthz_probes": len(health),
        "healthz_ms_p50": round(statistics.median(health), 2) if health else None,
        "healthz_ms_p99": round(percentile(health, 99), 2) if health else None,
        "healthz_ms_max": round(max(health), 2) if health else None,
        "healthz_failures": len(prober.failures),
        "healthz_ms_p99_during_submissions": (round(percentile(in_burst, 99), 2)
                                              if in_burst else None),
        "prober_nice": prober.nice, "tls_per_client": args.tls_per_client,
        "cpu_seconds_server": round(server_cpu, 1),
        "cpu_seconds_load_generator": round(usage.ru_utime + usage.ru_stime, 1),
        "cpu_seconds_prober": round(prober.cpu_seconds, 1),
        "server_rss_mb_before": round(rss_before, 1),
        "server_rss_mb_after": round(rss_after, 1),
        "wall_seconds": round(wall, 1),
        "problems": problems,
    }


if __name__ == "__main__":
    sys.exit(main())
