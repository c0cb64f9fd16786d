"""The completion hook both runners take: a finished job POSTed to its ``callback_url``.

The API server's :class:`~videogen_jobs.runner.JobRunner` and lease keeper, and a
Celery worker's :class:`~videogen_adapters.executors.celery.JobTaskRunner` and
lease keeper, all end a job through a :class:`CompletionCallbacks`: the body is
the job as ``GET /jobs/<job_id>`` shows it (:func:`~videogen_jobs.presenters.job_to_dict`),
sent by a signed :class:`~videogen_jobs.callbacks.CallbackSender`. This module
does not import httpx: a process without callback jobs never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from videogen_core import JobRecord

from .presenters import job_to_dict

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .callbacks import CallbackSender

__all__ = ["CompletionCallbacks", "callback_url"]


def callback_url(job: JobRecord) -> str | None:
    """The job's ``generation_params.callback_url``, when its request has one."""
    params = job.request.get("generation_params") or {}
    url = params.get("callback_url") if isinstance(params, Mapping) else None
    return str(url) if url else None


class CompletionCallbacks:
    """``on_finish(job, *, base_url=None)``: POST the finished ``job`` to its
    ``callback_url``; nothing when it has none.

    ``sender()`` gives the sender (called only for a job with a URL). The
    body's URLs start with ``base_url`` given to the call, else the job's own
    (the accepting API server's, stored with it), else ``default_base_url``.
    ``cancel_requested(job_id)`` adds cancellations this process knows of
    (the thread runner's tokens) to the record's flag.
    """

    def __init__(self, sender: Callable[[], CallbackSender], default_base_url: str, *,
                 cancel_requested: Callable[[str], bool] | None = None) -> None:
        self.sender = sender
        self.default_base_url = default_base_url
        self.cancel_requested = cancel_requested

    def __call__(self, job: JobRecord, *, base_url: str | None = None) -> None:
        url = callback_url(job)
        if url is None:
            return
        asked = job.cancel_requested or (self.cancel_requested is not None
                                         and self.cancel_requested(job.id))
        body = job_to_dict(job, base_url or job.base_url or self.default_base_url,
                           cancel_requested=asked)
        self.sender().submit(url, body)
