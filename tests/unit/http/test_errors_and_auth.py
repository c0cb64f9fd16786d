"""Every error is a JSON envelope; bearer-token access control."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from tests.unit.http.conftest import SEED_BODY

from videogen_core import (
    Busy,
    Cancelled,
    InvalidImage,
    InvalidRequest,
    MissingImage,
    NotFound,
    PathNotAllowed,
    RenderFailed,
    ServiceUnavailable,
    StorageFailed,
    UnknownVoice,
    VideogenError,
)
from videogen_http.errors import STATUS_BY_CODE, status_for


def test_unknown_route_is_json_404(client: Any) -> None:
    r = client.get("/nothing/here")
    assert r.status_code == 404
    assert r.get_json() == {"success": False, "error": {
        "code": "not_found", "message": "no such resource", "details": {}}}


def test_wrong_method_is_json_405_with_allow(client: Any) -> None:
    r = client.put("/generateVideos/trip", json=SEED_BODY)
    assert r.status_code == 405
    err = r.get_json()["error"]
    assert err["code"] == "method_not_allowed"
    assert "POST" in err["details"]["allowed"]
    assert "POST" in r.headers["Allow"]


def test_unexpected_exception_in_a_view_is_json_500_without_a_trace(env: Any) -> None:
    class Exploding:
        def list_images(self, folder_id: str) -> list[str]:
            raise ZeroDivisionError("internal detail 42")

    container = env.container()
    container.storage.override(providers.Object(Exploding()))
    client = env.app(container).test_client()
    r = client.get("/folders/trip/images")
    assert r.status_code == 500
    assert r.get_json()["error"] == {"code": "internal_error",
                                     "message": "an unexpected error occurred",
                                     "details": {"type": "ZeroDivisionError"}}
    assert "internal detail" not in r.get_data(as_text=True)


@pytest.mark.parametrize(("error", "status"), [
    (InvalidRequest("a.b", "bad"), 400),
    (UnknownVoice("x", ["y"]), 400),
    (PathNotAllowed("key", "no"), 400),
    (NotFound("gone"), 404),
    (Cancelled(), 409),
    (MissingImage(1, "f", []), 422),
    (InvalidImage("a.png", "corrupt"), 422),
    (Busy("full", retry_after=7), 429),
    (RenderFailed("render", "boom"), 500),
    (StorageFailed("s3", "put", "denied"), 502),
    (ServiceUnavailable("comfyui", "down"), 503),
    (VideogenError("?"), 500),
])
def test_domain_errors_map_to_statuses(error: VideogenError, status: int) -> None:
    assert status_for(error) == status


def test_every_domain_error_class_has_a_status() -> None:
    import videogen_core.errors as errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        if cls is not VideogenError:
            assert cls.code in STATUS_BY_CODE, name


def test_storage_failure_is_502(env: Any) -> None:
    class Refusing:
        def list_images(self, folder_id: str) -> list[str]:
            raise StorageFailed("s3", "list", "AccessDenied")

    container = env.container()
    container.storage.override(providers.Object(Refusing()))
    client = env.app(container).test_client()
    for r in (client.get("/folders/trip/images"),
              client.post("/generateVideos/trip", json=SEED_BODY)):
        assert r.status_code == 502
        assert r.get_json()["error"]["details"]["reason"] == "AccessDenied"


def test_busy_from_a_view_carries_retry_after(env: Any) -> None:
    class Full:
        def list_images(self, folder_id: str) -> list[str]:
            raise Busy("storage is busy", retry_after=9)

    container = env.container()
    container.storage.override(providers.Object(Full()))
    r = env.app(container).test_client().get("/folders/trip/images")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "9"


@pytest.fixture
def secured(make_env: Any) -> Any:
    env = make_env(api_token="s3cret-token")
    env.add_images()
    return env.app().test_client()


def test_token_is_required_everywhere_but_healthz(secured: Any) -> None:
    assert secured.get("/healthz").status_code == 200
    for method, path in (("get", "/readyz"), ("get", "/openapi.json"),
                         ("get", "/jobs/abc"), ("get", "/folders/trip/images"),
                         ("get", "/media/trip/scene_1.png"), ("post", "/generateVideos/trip"),
                         ("get", "/no/such/route")):
        r = getattr(secured, method)(path)
        assert r.status_code == 401, path
        assert r.get_json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_tokens_are_refused(secured: Any) -> None:
    for header in ("Bearer wrong", "Bearer s3cret-toke", "Basic s3cret-token", "s3cret-token",
                   "Bearer s3cret-token-and-more"):
        r = secured.get("/folders/trip/images", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_right_token_is_accepted(secured: Any) -> None:
    auth = {"Authorization": "Bearer s3cret-token"}
    assert secured.get("/folders/trip/images", headers=auth).status_code == 200
    r = secured.post("/generateVideos/trip", json=SEED_BODY, headers=auth)
    assert r.status_code == 200
    assert secured.get(f"/jobs/{r.headers['X-Videogen-Job-Id']}", headers=auth
                       ).status_code == 200
