"""The Celery workers' completion-callback hook uses the HTTP service's SSRF guard."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from tests.callback_receiver import CallbackReceiver, callback_receiver

from videogen_adapters.config import Settings
from videogen_adapters.executors.celery import completion_callbacks
from videogen_core import JobRecord
from videogen_jobs import ssrf
from videogen_jobs.callbacks import CallbackSender


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with callback_receiver() as r:
        yield r


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Callbacks are sent at once (no pool) and their outcomes recorded."""
    outcomes: list[bool] = []

    def submit(self: CallbackSender, url: str, payload: Any) -> None:
        outcomes.append(self.send(url, payload))

    monkeypatch.setattr(CallbackSender, "submit", submit)
    return outcomes


def finished(url: str) -> JobRecord:
    return JobRecord(id="j1", folder_id="trip", status="succeeded", result={"success": True},
                     request={"generation_params": {"callback_url": url}})


def test_the_hook_refuses_a_loopback_callback(receiver: CallbackReceiver, results: list[bool],
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="videogen.callbacks")
    completion_callbacks(Settings())(finished(receiver.url()))
    assert results == [False]
    assert receiver.posts == []
    assert any("127.0.0.1" in r.getMessage() and "loopback" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


def test_the_hook_rechecks_a_name_that_now_resolves_privately(
        receiver: CallbackReceiver, results: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ssrf, "resolve_host", lambda host: calls.append(host) or ["127.0.0.1"])
    completion_callbacks(Settings())(finished(receiver.url(host="localhost")))
    assert results == [False] and calls == ["localhost"]
    assert receiver.posts == []


def test_with_the_setting_the_hook_delivers_to_loopback(receiver: CallbackReceiver,
                                                        results: list[bool]) -> None:
    completion_callbacks(Settings(callback_allow_private=True))(finished(receiver.url()))
    assert results == [True]
    [(path, headers, _)] = receiver.posts
    assert path == "/hook" and headers["X-Videogen-Job-Id"] == "j1"
