"""/healthz and /readyz."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from videogen_core import ServiceUnavailable


def test_healthz(client: Any) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}


def test_readyz_reports_every_backend(client: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    backends = r.get_json()["backends"]
    assert set(backends) == {"job_store", "storage", "renderer", "narrator", "music",
                             "muxer", "executor"}
    assert all(b["ok"] for b in backends.values())
    assert backends["job_store"]["adapter"] == "sqlite"


def test_readyz_is_503_naming_the_backend_that_does_not_answer(env: Any) -> None:
    class DeadRenderer:
        name = "comfyui"

        def check(self) -> None:
            raise ServiceUnavailable("comfyui", "connection refused")

    class BrokenNarrator:
        name = "http"

        def voices(self) -> list[str]:
            raise OSError("socket closed")

    container = env.container()
    container.renderer.override(providers.Object(DeadRenderer()))
    container.narrator.override(providers.Object(BrokenNarrator()))
    r = env.app(container).test_client().get("/readyz")
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    err = r.get_json()["error"]
    assert err["code"] == "service_unavailable"
    assert err["details"]["unavailable"] == ["renderer", "narrator"]
    assert "renderer" in err["message"] and "narrator" in err["message"]
    assert err["details"]["backends"]["storage"]["ok"] is True
    assert "socket closed" in err["details"]["backends"]["narrator"]["error"]["message"]


def test_readyz_reports_a_backend_that_cannot_be_built(make_env: Any) -> None:
    env = make_env(job_store="memory")
    container = env.container()

    def unbuildable() -> None:
        raise ServiceUnavailable("music library", "folder missing")

    container.music.override(providers.Callable(unbuildable))
    r = env.app(container).test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["error"]["details"]["unavailable"] == ["music"]
