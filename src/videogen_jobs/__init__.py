"""videogen_jobs — a job's lifecycle, shared by the HTTP service and the workers.

The layer between the core and everything that runs jobs: it imports
:mod:`videogen_core` (and httpx for callbacks), never an adapter, never
:mod:`videogen_http` or :mod:`videogen_cli` — so a Celery worker
(:mod:`videogen_adapters.executors.celery`) and the Flask service
(:mod:`videogen_http`) run, report and announce a job with the same code
(``tests/unit/test_layering.py`` keeps it so).

- :mod:`~videogen_jobs.runner` — :class:`JobRunner`, the bounded pool of job
  threads over a job store (or a dispatcher to workers); :class:`JobDispatcher`.
- :mod:`~videogen_jobs.recording` — what running a job writes into its record:
  :class:`ProgressRecorder` (the progress port), the final writes (succeeded /
  failed / cancelled) and the changes that queue a job again from scratch.
- :mod:`~videogen_jobs.lease` — leases on running jobs; :class:`LeaseKeeper`
  re-queues a job whose worker died.
- :mod:`~videogen_jobs.presenters` — the job's JSON (``GET /jobs/<id>``, and
  the body of its completion callback), errors cleaned by :mod:`~videogen_jobs.scrub`.
- :mod:`~videogen_jobs.completion` — the completion hook every runner takes;
  :mod:`~videogen_jobs.callbacks` — the signed sender, with the address guard
  of :mod:`~videogen_jobs.ssrf`.
- :mod:`~videogen_jobs.errors` — :class:`Conflict` (cancelling a finished job…).
"""

from __future__ import annotations
