"""schemathesis over the whole OpenAPI document, against the real WSGI app on fakes.

A seeded, bounded pass (a few hundred cases, positive and negative, plus a
short stateful run along the document's links): no 5xx, every status, content
type and body as documented, schema-valid requests accepted unless a
documented cross-field rule refuses them (naming the field). The full run
(≥ 20,000 cases) is ``python benchmarks/fuzz_api.py``.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from benchmarks import fuzz_api

from videogen_http import openapi

health = importlib.import_module("videogen_http.views.health")  # the module, not its blueprint


def test_the_whole_document_holds_against_the_app() -> None:
    report = fuzz_api.fuzz(15, seed=0, stateful=True, stateful_steps=60)
    print(report.summary())
    assert report.cases >= 250
    assert report.stateful_steps > 0
    assert report.server_errors == 0, report.summary()
    assert report.schema_mismatches == 0, report.summary()
    assert not report.failures, report.summary()
    # both ends of the API answered: successes and refusals
    assert any(200 <= s < 300 for s in report.statuses)
    assert report.statuses[400] > 0 and report.statuses[404] > 0


def _broken_document() -> dict[str, Any]:
    doc = openapi.openapi_document()
    # a leading-dot id is "valid" again, and a malformed job id's 400 is undocumented
    doc["paths"]["/jobs/{job_id}"]["get"]["parameters"][0]["schema"] = {"type": "string"}
    del doc["paths"]["/jobs/{job_id}"]["get"]["responses"]["400"]
    return doc


def test_the_fuzz_sees_a_document_that_lies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "openapi_document", _broken_document)
    report = fuzz_api.fuzz(15, seed=0, negative=False)
    assert report.failures["status_code_conformance"] > 0, report.summary()
    assert report.schema_mismatches > 0
