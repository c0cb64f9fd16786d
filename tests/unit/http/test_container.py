"""The container selects adapters from configuration; nothing is built at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from videogen_adapters.config import Settings
from videogen_adapters.jobs import InMemoryJobStore, SqliteJobStore
from videogen_adapters.storage import InMemoryStorage, LocalDiskStorage
from videogen_core import ServiceUnavailable
from videogen_http import Container


def container(tmp_path: Path, **values: Any) -> Container:
    settings = Settings(data_dir=tmp_path, **values)
    c = Container(settings=providers.Object(settings))
    c.public_base_url.override(providers.Object("http://example.test:9000"))
    return c


def test_selectors_follow_the_settings(tmp_path: Path) -> None:
    local = container(tmp_path)
    storage = local.storage()
    assert isinstance(storage, LocalDiskStorage)
    assert storage.url("f/videos/a.mp4") == "http://example.test:9000/media/f/videos/a.mp4"
    assert storage is local.storage()  # a singleton per container
    assert isinstance(local.job_store(), SqliteJobStore)
    assert local.job_store().path == tmp_path / ".videogen" / "jobs.sqlite3"
    memory = container(tmp_path, storage="memory", job_store="memory", music="none")
    assert isinstance(memory.storage(), InMemoryStorage)
    assert isinstance(memory.job_store(), InMemoryJobStore)
    assert memory.music() is None


def test_redis_job_store_is_selected_and_probed(tmp_path: Path) -> None:
    from videogen_adapters.jobs.redis import RedisJobStore

    store = container(tmp_path, job_store="redis", redis_url="redis://127.0.0.1:1/0").job_store()
    assert isinstance(store, RedisJobStore)
    with pytest.raises(ServiceUnavailable):
        store.check()


def test_pipeline_is_composed_from_the_selected_providers(tmp_path: Path) -> None:
    from videogen_adapters.fakes import FakeClipRenderer, FakeMuxer, FakeNarrator

    c = container(tmp_path, storage="memory", music="none")
    c.renderer.override(providers.Object(FakeClipRenderer()))
    c.narrator.override(providers.Object(FakeNarrator()))
    c.muxer.override(providers.Object(FakeMuxer()))
    pipeline = c.pipeline()
    assert pipeline.storage is c.storage()
    assert pipeline.renderer is c.renderer()
    assert pipeline.narrator is c.narrator()
    assert pipeline.music is None


def test_importing_the_service_builds_nothing() -> None:
    code = ("import sys, videogen_http, videogen_http.app, videogen_http.server;"
            "from videogen_http import create_app, serve, Container;"
            "heavy = [m for m in ('videogen_adapters.storage', 'videogen_adapters.tts', "
            "'videogen_adapters.ffmpeg', 'piper', 'boto3', 'waitress') if m in sys.modules];"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_serve_flags_win_over_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    import videogen_http.server as server_module
    from videogen_http import serve

    seen: dict[str, Any] = {}

    def fake_make_server(app: Any, settings: Settings) -> Any:
        seen.update(host=settings.host, port=settings.port, threads=settings.threads, app=app)
        return SimpleNamespace(run=lambda: None)

    monkeypatch.setattr(server_module, "make_server", fake_make_server)
    settings = Settings(data_dir=tmp_path, job_store="memory", host="127.0.0.1", port=8123,
                        threads=3)
    serve(settings, port=9999)
    assert (seen["host"], seen["port"], seen["threads"]) == ("127.0.0.1", 9999, 3)
    service = seen["app"].extensions["videogen"]
    assert service.base_url == "http://127.0.0.1:9999"
    serve(settings, host="127.0.0.2", threads=5)
    assert (seen["host"], seen["port"], seen["threads"]) == ("127.0.0.2", 8123, 5)


def test_serve_shortens_the_switch_interval(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """The I/O thread waits at most SWITCH_INTERVAL for the GIL while jobs render."""
    from types import SimpleNamespace

    import videogen_http.server as server_module
    from videogen_http import serve

    monkeypatch.setattr(server_module, "make_server",
                        lambda app, settings: SimpleNamespace(run=lambda: None))
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        serve(Settings(data_dir=tmp_path, job_store="memory", port=8124))
        assert sys.getswitchinterval() == pytest.approx(server_module.SWITCH_INTERVAL)
        assert server_module.SWITCH_INTERVAL < 0.005
    finally:
        sys.setswitchinterval(before)
