"""Fixtures for the HTTP service tests: an app on fakes, images, a gate renderer."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from flask import Flask
from PIL import Image
from tests.unit.http.openapi_check import ValidatingClient

from videogen_adapters.config import Settings
from videogen_adapters.executors import ThreadPoolExecutorAdapter
from videogen_adapters.fakes import FakeClipRenderer, FakeMusicSource, FakeMuxer, FakeNarrator
from videogen_adapters.storage import LocalDiskStorage
from videogen_core import Cancelled, CancelToken, ClipRequest, RenderedClip
from videogen_core.pipeline import VideoPipeline
from videogen_http import Container, create_app

SEED_BODY: dict[str, Any] = {
    "sequence_data": [
        {"scene_number": 1, "narration": "A quiet harbour at dawn.", "duration": 3,
         "clip_action": "zoom in", "music_mood": "calm"},
        {"scene_number": 2, "narration": "Boats head out.", "duration": 4,
         "clip_action": "pan left", "music_mood": "calm"},
    ],
    "generation_params": {"transition_type": "crossfade", "seed": 42, "fps": 24},
}


def png_bytes(color: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (32, 18)
              ) -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


class GateRenderer:
    """A renderer that waits at a gate (or stops on cancel) before rendering like the fake."""

    name = "gate"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.cancelled = threading.Event()
        self.inner = FakeClipRenderer()

    def render(self, request: ClipRequest, output_path: Path, *, progress: Any = None,
               cancel: CancelToken | None = None) -> RenderedClip:
        self.started.set()
        while not self.release.wait(0.01):
            if cancel is not None and cancel.cancelled:
                self.cancelled.set()
                raise Cancelled()
        return self.inner.render(request, output_path, progress=progress, cancel=cancel)


class Env:
    """One app on fakes plus handles to its parts."""

    def __init__(self, tmp: Path, renderer: Any = None, **settings: Any) -> None:
        values = {"data_dir": tmp / "data", "storage": "local", "job_store": "sqlite",
                  "max_jobs": 2, "max_queue": 4, "host": "127.0.0.1", "port": 8000}
        values.update(settings)
        self.settings = Settings(**values)
        self.tmp = tmp
        self.storage = LocalDiskStorage(self.settings.data_dir,
                                        public_base_url="http://127.0.0.1:8000")
        self.renderer = renderer or FakeClipRenderer()
        self.workdir = tmp / "work"
        self.executor = ThreadPoolExecutorAdapter(2)
        self.pipeline = VideoPipeline(
            storage=self.storage, renderer=self.renderer, narrator=FakeNarrator(),
            music=FakeMusicSource(), muxer=FakeMuxer(), executor=self.executor,
            video=self.settings.video(), animation=self.settings.animation(),
            audio=self.settings.audio(), workdir=self.workdir)
        self.apps: list[Flask] = []

    def container(self) -> Container:
        """A container whose adapters are this env's fakes."""
        c = Container()
        c.storage.override(providers.Object(self.storage))
        c.renderer.override(providers.Object(self.renderer))
        c.narrator.override(providers.Object(self.pipeline.narrator))
        c.music.override(providers.Object(self.pipeline.music))
        c.muxer.override(providers.Object(self.pipeline.muxer))
        c.executor.override(providers.Object(self.executor))
        c.pipeline.override(providers.Object(self.pipeline))
        return c

    def app(self, container: Container | None = None, **kw: Any) -> Flask:
        """A new app over this env (same data dir, same SQLite job store file)."""
        app = create_app(self.settings, container=container or self.container(), **kw)
        app.test_client_class = ValidatingClient
        self.apps.append(app)
        return app

    def add_images(self, folder: str = "trip", count: int = 2) -> None:
        """``scene_<n>.png`` for n in 1..count."""
        d = self.settings.data_dir / folder
        d.mkdir(parents=True, exist_ok=True)
        for n in range(1, count + 1):
            (d / f"scene_{n}.png").write_bytes(png_bytes((40 * n, 100, 200)))

    def close(self) -> None:
        for app in self.apps:
            app.extensions["videogen"].close()
        self.executor.shutdown(wait=False)


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    envs: list[Env] = []

    def make(renderer: Any = None, **settings: Any) -> Env:
        env = Env(tmp_path / f"env{len(envs)}", renderer, **settings)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    e = make_env()
    e.add_images()
    return e


@pytest.fixture
def client(env: Env) -> Any:
    return env.app().test_client()


def wait_for(client: Any, job_id: str, statuses: tuple[str, ...] = ("succeeded", "failed",
                                                                   "cancelled"),
             timeout: float = 20.0, headers: dict[str, str] | None = None,
             stage: str | None = None) -> dict[str, Any]:
    """Poll GET /jobs/<id> until its status is one of ``statuses`` (and its stage ``stage``)."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/jobs/{job_id}", headers=headers or {}).get_json()
        if body["status"] in statuses and stage in (None, body["stage"]):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {body['status']}: {body}")
        time.sleep(0.02)
