"""The real-server helpers in tests/servers.py: start, answer, stop — also on failure."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from tests.servers import ServerFailed, run_server, valkey_server

pytestmark = pytest.mark.server


def redis_command(port: int, *words: str) -> bytes:
    payload = f"*{len(words)}\r\n".encode() + b"".join(
        f"${len(w)}\r\n{w}\r\n".encode() for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        return sock.recv(1024)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_valkey_server_answers_and_is_stopped_afterwards() -> None:
    with valkey_server() as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert redis_command(server.port, "SET", "k", "v") == b"+OK\r\n"
        assert redis_command(server.port, "GET", "k") == b"$1\r\nv\r\n"
        assert redis_command(server.port, "CONFIG", "GET", "bind").endswith(b"127.0.0.1\r\n")
        process = server.process
    assert process.poll() is not None
    assert refused(server.port)


def test_server_is_stopped_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), valkey_server() as server:
        raise RuntimeError("boom")
    assert server.process.poll() is not None
    assert refused(server.port)


def test_a_server_that_exits_is_reported_with_its_log() -> None:
    argv = [sys.executable, "-c", "import sys; print('cannot start: bad config'); sys.exit(3)"]
    with pytest.raises(ServerFailed, match="cannot start: bad config"), run_server(
            "broken", lambda port: argv, lambda port: False, attempts=2):
        pytest.fail("the body must not run")


def test_a_server_that_never_answers_is_stopped_and_reported(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    argv = [sys.executable, "-c", code]
    with pytest.raises(ServerFailed, match="no answer within"), run_server(
            "silent", lambda port: argv, lambda port: False, timeout=1.0, attempts=1):
        pytest.fail("the body must not run")
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped
