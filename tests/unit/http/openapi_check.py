"""Validate real responses against the service's OpenAPI document (jsonschema).

:class:`ValidatingClient` is a Flask test client that checks every response it
gets: errors are JSON envelopes, and a JSON response of a documented path,
method and status matches its schema. Every HTTP test thereby checks the spec.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

from videogen_http.openapi import openapi_document

_DOC = openapi_document()
_RULE_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


class UndocumentedResponse(AssertionError):
    """A response whose path, method or status the OpenAPI document does not describe."""


def spec_template(rule: str) -> str:
    """Flask's ``/jobs/<job_id>`` → OpenAPI's ``/jobs/{job_id}``."""
    return _RULE_PARAM.sub(r"{\1}", rule)


def schema_for(template: str, method: str, status: int, content_type: str
               ) -> dict[str, Any] | None:
    """The documented schema of a response, None for a documented non-JSON body;
    raises UndocumentedResponse when the status is not documented."""
    operation = _DOC["paths"].get(template, {}).get(method.lower())
    if operation is None:
        raise UndocumentedResponse(f"{method} {template} is not documented")
    responses = operation["responses"]
    entry = responses.get(str(status))
    if entry is None:
        raise UndocumentedResponse(f"{method} {template} → {status} is not documented")
    content = entry.get("content", {})
    if content_type not in content and content:
        raise UndocumentedResponse(
            f"{method} {template} → {status} {content_type} is not documented")
    return content.get(content_type, {}).get("schema")


def documented_headers(template: str, method: str, status: int) -> list[str]:
    """Response headers the document promises for this path, method and status."""
    operation = _DOC["paths"].get(template, {}).get(method.lower(), {})
    return list(operation.get("responses", {}).get(str(status), {}).get("headers", {}))


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """jsonschema (Draft 2020-12) validation with the document's components."""
    jsonschema.Draft202012Validator(
        {**schema, "components": _DOC["components"]},
        format_checker=jsonschema.FormatChecker(),
    ).validate(instance)


def check_response(app: Flask, method: str, path: str, response: Response) -> None:
    """Assert ``response`` fits the contract (see module docstring)."""
    content_type = (response.mimetype or "")
    if response.status_code >= 400:
        assert content_type == "application/json", (
            f"{method} {path} → {response.status_code} is {content_type}, not JSON")
        body = response.get_json()
        validate(body, {"$ref": "#/components/schemas/Error"})
        assert "Traceback" not in response.get_data(as_text=True)
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except HTTPException:
        return  # unknown route or method: only the error envelope applies
    template = spec_template(rule.rule)
    verb = method if method != "HEAD" else "GET"
    schema = schema_for(template, verb, response.status_code, content_type)
    if schema is not None and content_type == "application/json":
        validate(response.get_json(), schema)
    for header in documented_headers(template, verb, response.status_code):
        assert header in response.headers, f"{method} {path} lacks the {header} header"


class ValidatingClient(FlaskClient):
    """A test client that checks each response against the OpenAPI document."""

    checked = 0

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        response = super().open(*args, **kwargs)
        if kwargs.get("buffered") is False:
            return response
        request = response.request
        check_response(self.application, request.method, request.path, response)
        ValidatingClient.checked += 1
        return response
