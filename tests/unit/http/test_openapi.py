"""The OpenAPI document is valid, complete, and true of real responses."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec
from tests.unit.http.conftest import SEED_BODY, wait_for
from tests.unit.http.openapi_check import (
    UndocumentedResponse,
    schema_for,
    spec_template,
    validate,
)

from videogen_http.openapi import openapi_document


def test_document_is_valid_openapi_3_1(client: Any) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)
    assert doc == openapi_document()


def test_every_route_is_documented(env: Any) -> None:
    app = env.app()
    doc = openapi_document()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        template = spec_template(rule.rule)
        assert template in doc["paths"], template
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][template], (method, template)


def test_real_responses_match_their_schemas(client: Any) -> None:
    """A tour of every endpoint, validating each JSON body against the document."""
    sync = client.post("/generateVideos/trip", json=SEED_BODY)
    schema = schema_for("/generateVideos/{folder_id}", "POST", 200, "application/json")
    validate(sync.get_json(), schema)
    accepted = client.post("/generateVideos/trip?async=true", json=SEED_BODY)
    validate(accepted.get_json(), schema_for("/generateVideos/{folder_id}", "POST", 202,
                                             "application/json"))
    job = wait_for(client, accepted.get_json()["job_id"])
    validate(job, schema_for("/jobs/{job_id}", "GET", 200, "application/json"))
    validate(client.get("/folders/trip/images").get_json(),
             schema_for("/folders/{folder_id}/images", "GET", 200, "application/json"))
    validate(client.get("/readyz").get_json(),
             schema_for("/readyz", "GET", 200, "application/json"))
    bad = copy.deepcopy(SEED_BODY)
    bad["sequence_data"][0]["scene_number"] = -1
    err = client.post("/generateVideos/trip", json=bad)
    assert err.status_code == 400
    validate(err.get_json(), schema_for("/generateVideos/{folder_id}", "POST", 400,
                                        "application/json"))


def test_the_seed_request_fits_the_documented_request_schema() -> None:
    schema = openapi_document()["paths"]["/generateVideos/{folder_id}"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]
    validate(SEED_BODY, schema)
    bad = copy.deepcopy(SEED_BODY)
    bad["sequence_data"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad, schema)


def test_schemas_would_catch_a_wrong_shape() -> None:
    schema = schema_for("/generateVideos/{folder_id}", "POST", 200, "application/json")
    with pytest.raises(jsonschema.ValidationError):
        validate({"success": True, "video_url": "u", "metadata": {"duration": 1.0}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        validate({"success": False, "error": {"code": "x"}},
                 {"$ref": "#/components/schemas/Error"})
    with pytest.raises(UndocumentedResponse):
        schema_for("/jobs/{job_id}", "GET", 418, "application/json")


def test_the_validating_client_checked_responses(client: Any) -> None:
    from tests.unit.http.openapi_check import ValidatingClient

    before = ValidatingClient.checked
    client.get("/healthz")
    client.get("/jobs/unknown")
    assert ValidatingClient.checked == before + 2
