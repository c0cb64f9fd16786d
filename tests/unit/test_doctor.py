"""`videogen doctor`: every configured backend is checked and failures are named."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from videogen_adapters.config import Settings
from videogen_adapters.doctor import run_checks
from videogen_cli.main import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_embedded_defaults_all_answer(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, narrator="silent", music="synth")
    checks = {name: (ok, detail) for name, ok, detail in run_checks(settings)}
    assert set(checks) == {"ffmpeg", "PyAV", "narrator", "music", "storage"}
    assert all(ok for ok, _ in checks.values()), checks
    assert "ffmpeg version" in checks["ffmpeg"][1]


def test_unreachable_comfyui_and_broker_are_reported(tmp_path: Path) -> None:
    port = _closed_port()
    settings = Settings(data_dir=tmp_path, narrator="silent", music="none",
                        renderer="comfyui", comfyui_url=f"http://127.0.0.1:{port}",
                        comfyui_timeout=2, executor="celery",
                        broker_url=f"redis://127.0.0.1:{port}/0")
    checks = {name: (ok, detail) for name, ok, detail in run_checks(settings)}
    assert checks["ComfyUI"][0] is False and checks["ComfyUI"][1]
    assert checks["broker"][0] is False and checks["broker"][1]
    assert checks["storage"][0] is True


def test_doctor_command_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIDEOGEN_NARRATOR", "silent")
    monkeypatch.setenv("VIDEOGEN_API_TOKEN", "s3cret-token")
    assert main(["--data-dir", str(tmp_path), "doctor"]) == 0
    out = capsys.readouterr().out
    assert "VIDEOGEN_DATA_DIR" in out and "s3cret-token" not in out
    monkeypatch.setenv("VIDEOGEN_STORAGE", "nonsense")
    assert main(["--data-dir", str(tmp_path), "doctor"]) == 1
