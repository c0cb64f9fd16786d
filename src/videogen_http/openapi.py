"""The OpenAPI 3.1 document of the service, as a Python dict.

Kept true by ``tests/unit/http/test_openapi.py``, which validates real
responses against the schemas below and checks every route is described.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_document"]

_ID = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,128}$", "not": {"enum": [".", ".."]}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_COMMON_ERRORS = {
    "401": _error("Missing or wrong bearer token (when VIDEOGEN_API_TOKEN is set)."),
    "429": {**_error("Busy (the job queue, the synchronous slots or a backend)."),
            "headers": {"Retry-After": {"description": "Seconds to wait before retrying.",
                                        "schema": {"type": "integer"}}}},
    "500": _error("Unexpected failure (details never include a stack trace)."),
    "502": _error("The storage backend failed."),
    "503": _error("A backend (storage, job store, ComfyUI, TTS...) is unavailable."),
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": {"const": False},
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "examples": ["invalid_request", "busy"]},
                    "message": {"type": "string"},
                    "details": {
                        "type": "object",
                        "description": "Machine-readable specifics: `field` (JSON path of a "
                                       "bad request field), `retry_after`, `service`, "
                                       "`available`, `allowed`...",
                    },
                },
            },
        },
    },
    "Scene": {
        "type": "object",
        "required": ["scene_number", "duration"],
        "additionalProperties": False,
        "properties": {
            "scene_number": {"type": "integer", "minimum": 0},
            "narration": {"type": "string"},
            "duration": {"type": "number", "exclusiveMinimum": 0},
            "clip_action": {"type": "string", "examples": ["zoom in, pan left"]},
            "music_mood": {"type": "string", "examples": ["calm", "upbeat"]},
            "focus": {
                "oneOf": [
                    {"enum": ["auto", "center"]},
                    {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                     "minItems": 2, "maxItems": 2},
                ],
                "default": "auto",
                "description": "What the crop and the camera keep in frame: `auto` finds "
                               "the subject (faces, else a salient region, else the "
                               "centre), `center` frames the image centre (no detection), "
                               "`[x, y]` is a point in 0–1 image coordinates (0, 0 = top "
                               "left).",
            },
        },
    },
    "GenerationParams": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "transition_type": {"enum": ["none", "fade", "crossfade"]},
            "seed": {"type": "integer", "minimum": 0, "maximum": 4294967295},
            "fps": {"type": "integer", "minimum": 1, "maximum": 120},
            "voice": {"type": ["string", "null"]},
            "callback_url": {
                "type": ["string", "null"], "format": "uri",
                "description": "http(s) URL that receives the finished job (the Job object) "
                               "as a POST. Header `X-Videogen-Signature: sha256=<hex>` is the "
                               "HMAC-SHA256 of the raw body keyed with "
                               "VIDEOGEN_CALLBACK_SECRET; `X-Videogen-Event` is "
                               "`job.succeeded`, `job.failed` or `job.cancelled`. Retried "
                               "with exponential backoff on network errors, 408, 429, 5xx; "
                               "redirects are not followed. Loopback, private (RFC 1918, "
                               "fc00::/7, 100.64.0.0/10), link-local (e.g. 169.254.169.254), "
                               "multicast, unspecified and reserved targets — a literal IP or "
                               "a host resolving to one, also IPv4-mapped IPv6 forms — are "
                               "refused (400 on this field; checked again before sending) "
                               "unless VIDEOGEN_CALLBACK_ALLOW_PRIVATE=true.",
            },
            "transition_duration": {"type": ["number", "null"], "minimum": 0},
            "aspect_ratio": {
                "enum": ["16:9", "9:16", "1:1", "4:5", None],
                "description": "Output aspect ratio (default 16:9). With `resolution`, "
                               "it sets the output size; when both are absent the "
                               "configured VIDEOGEN_WIDTH x VIDEOGEN_HEIGHT is used.",
            },
            "resolution": {
                "enum": ["576p", "720p", "1080p", None],
                "description": "Short side of the output in pixels (default 576p): "
                               "16:9 576p = 1024x576, 9:16 1080p = 1080x1920, 1:1 720p = "
                               "720x720, 4:5 1080p = 1080x1350. Square pixels, even sizes.",
            },
        },
    },
    "GenerateRequest": {
        "type": "object",
        "required": ["sequence_data"],
        "additionalProperties": False,
        "properties": {
            "sequence_data": {"type": "array", "minItems": 1, "items": _ref("Scene")},
            "generation_params": _ref("GenerationParams"),
        },
    },
    "GenerateResponse": {
        "type": "object",
        "required": ["success", "video_url", "metadata"],
        "properties": {
            "success": {"const": True},
            "video_url": {"type": "string"},
            "metadata": {
                "type": "object",
                "required": ["duration", "scenes", "timestamp"],
                "properties": {
                    "duration": {"type": "number", "description": "Measured, in seconds."},
                    "scenes": {"type": "integer"},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                    "subtitles": {"type": "object",
                                  "additionalProperties": {"type": "string"}},
                    "size_bytes": {"type": "integer"},
                    "loudness_lufs": {"type": ["number", "null"]},
                    "scene_details": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
    "JobAccepted": {
        "type": "object",
        "required": ["job_id", "status_url"],
        "properties": {"job_id": _ID, "status_url": {"type": "string", "format": "uri"}},
    },
    "Job": {
        "type": "object",
        "required": ["job_id", "folder_id", "status", "stage", "percent", "scenes_done",
                     "scenes_total", "eta_seconds", "warnings", "result", "error",
                     "created_at", "updated_at", "status_url", "events_url"],
        "properties": {
            "job_id": _ID,
            "folder_id": _ID,
            "status": {"enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
            "stage": {"type": "string", "examples": ["render", "mux"]},
            "percent": {"type": "number", "minimum": 0, "maximum": 100},
            "scenes_done": {"type": "integer", "minimum": 0},
            "scenes_total": {"type": "integer", "minimum": 0},
            "eta_seconds": {"type": ["number", "null"]},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "result": {"oneOf": [_ref("GenerateResponse"), {"type": "null"}],
                       "description": "The seed's response body, once succeeded."},
            "error": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "details": {"type": "object"}}}]},
            "cancel_requested": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "status_url": {"type": "string"},
            "events_url": {"type": "string"},
        },
    },
    "Image": {
        "type": "object",
        "required": ["key", "name", "url"],
        "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                       "url": {"type": "string"}, "size": {"type": "integer"},
                       "content_type": {"type": "string"}},
    },
    "ImageList": {
        "type": "object",
        "required": ["success", "folder_id", "images", "count"],
        "properties": {"success": {"const": True}, "folder_id": _ID,
                       "images": {"type": "array", "items": _ref("Image")},
                       "count": {"type": "integer"}},
    },
    "Health": {"type": "object", "required": ["status"],
               "properties": {"status": {"const": "ok"}}},
    "Ready": {
        "type": "object",
        "required": ["status", "backends"],
        "properties": {
            "status": {"const": "ready"},
            "backends": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["ok"],
                "properties": {"ok": {"type": "boolean"}, "adapter": {"type": "string"},
                               "error": {"type": "object"}}}},
            "jobs": {"type": "object"},
        },
    },
}

_FOLDER = {"name": "folder_id", "in": "path", "required": True, "schema": _ID}
_JOB = {"name": "job_id", "in": "path", "required": True, "schema": _ID}

_PATHS: dict[str, Any] = {
    "/generateVideos/{folder_id}": {
        "post": {
            "operationId": "generateVideos",
            "summary": "Make the video of a folder's images from a scene script.",
            "description": "Synchronous by default: answers when the video is stored. With "
                           "`Prefer: respond-async` or `?async=true` it answers 202 at once; "
                           "follow `status_url`. The same `Idempotency-Key` returns the same "
                           "job.",
            "parameters": [
                _FOLDER,
                {"name": "async", "in": "query", "schema": {"enum": ["true", "false", "1",
                                                                      "0", "yes", "no"]}},
                {"name": "Prefer", "in": "header", "schema": {"type": "string"},
                 "example": "respond-async"},
                {"name": "Idempotency-Key", "in": "header",
                 "schema": {"type": "string", "maxLength": 255}},
            ],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("GenerateRequest")}}},
            "callbacks": {"jobFinished": {
                "{$request.body#/generation_params/callback_url}": {"post": {
                    "summary": "The finished job (succeeded, failed or cancelled).",
                    "parameters": [
                        {"name": "X-Videogen-Signature", "in": "header",
                         "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                         "description": "HMAC-SHA256 of the raw body keyed with "
                                        "VIDEOGEN_CALLBACK_SECRET (absent without a secret)."},
                        {"name": "X-Videogen-Event", "in": "header",
                         "schema": {"enum": ["job.succeeded", "job.failed",
                                             "job.cancelled"]}},
                        {"name": "X-Videogen-Job-Id", "in": "header",
                         "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": _ref("Job")}}},
                    "responses": {"2XX": {"description": "Delivered; anything else but "
                                                         "4xx is retried with backoff."}},
                }}}},
            "responses": {
                "200": {**_json(_ref("GenerateResponse"), "The stored video."),
                        "headers": {"X-Videogen-Job-Id": {
                            "description": "The job that made it (see /jobs/{job_id}).",
                            "schema": {"type": "string"}}}},
                "202": {**_json(_ref("JobAccepted"), "Async mode: the job was queued."),
                        "headers": {"Location": {"description": "The status URL.",
                                                 "schema": {"type": "string"}}}},
                "400": _error("Invalid request; `details.field` is the JSON path."),
                "404": _error("The folder does not exist."),
                "409": _error("Idempotency-Key reused for a different request; or cancelled."),
                "413": _error("Body larger than VIDEOGEN_MAX_BODY_KB."),
                "415": _error("The body is not application/json."),
                "422": _error("A scene has no image, or an image is unusable."),
                **_COMMON_ERRORS,
            },
        },
    },
    "/jobs/{job_id}": {
        "get": {
            "operationId": "getJob",
            "summary": "A job's status, progress and, on success, the seed's response.",
            "parameters": [_JOB],
            "responses": {"200": _json(_ref("Job"), "The job."),
                          "400": _error("Malformed job id."),
                          "404": _error("Unknown job."), **_COMMON_ERRORS},
        },
        "delete": {
            "operationId": "cancelJob",
            "summary": "Cancel a job; rendering stops and temporary files are removed.",
            "parameters": [_JOB],
            "responses": {"200": _json(_ref("Job"), "Cancelled (it was queued)."),
                          "202": _json(_ref("Job"), "A running job was asked to stop."),
                          "400": _error("Malformed job id."),
                          "404": _error("Unknown job."),
                          "409": _error("The job already finished."), **_COMMON_ERRORS},
        },
    },
    "/jobs/{job_id}/events": {
        "get": {
            "operationId": "jobEvents",
            "summary": "Server-Sent Events of the job until it ends.",
            "description": "Each change is a `data:` line holding the Job JSON; idle "
                           "streams get `: keep-alive` comments; the last event is "
                           "`event: end` with `{\"status\": ...}`.",
            "parameters": [_JOB],
            "responses": {"200": {"description": "The event stream.", "content": {
                "text/event-stream": {"schema": {"type": "string"}}}},
                "400": _error("Malformed job id."),
                "404": _error("Unknown job."), **_COMMON_ERRORS},
        },
    },
    "/folders/{folder_id}/images": {
        "post": {
            "operationId": "uploadImages",
            "summary": "Upload images into a folder (multipart, any field name).",
            "parameters": [_FOLDER],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "properties": {"images": {
                    "type": "array", "items": {"type": "string",
                                               "contentMediaType": "image/*"}}}}}}},
            "responses": {"201": _json(_ref("ImageList"), "The stored images."),
                          "400": _error("No file, or a bad folder id or file name."),
                          "413": _error("Larger than VIDEOGEN_MAX_UPLOAD_MB."),
                          "415": _error("Not multipart, or a file is not an image."),
                          **_COMMON_ERRORS},
        },
        "get": {
            "operationId": "listImages",
            "summary": "The folder's images in natural order.",
            "parameters": [_FOLDER],
            "responses": {"200": _json(_ref("ImageList"), "The images."),
                          "400": _error("Bad folder id."),
                          "404": _error("The folder does not exist."), **_COMMON_ERRORS},
        },
    },
    "/media/{key}": {
        "get": {
            "operationId": "getMedia",
            "summary": "A stored file (the local storage's video_url), with Range support.",
            "parameters": [{"name": "key", "in": "path", "required": True,
                            "schema": {"type": "string"},
                            "description": "Storage key, e.g. `trip/videos/x.mp4`."},
                           {"name": "Range", "in": "header", "schema": {"type": "string"},
                            "example": "bytes=0-1023"}],
            "responses": {
                "200": {"description": "The whole file.",
                        "content": {"video/mp4": {}, "text/vtt": {},
                                    "application/octet-stream": {}}},
                "206": {"description": "The requested range (Content-Range header).",
                        "content": {"video/mp4": {}}},
                "400": _error("A path segment is not allowed."),
                "404": _error("No such file."),
                "416": _error("The range is outside the file."), **_COMMON_ERRORS},
        },
    },
    "/healthz": {
        "get": {"operationId": "healthz", "summary": "The process is alive (no auth).",
                "security": [],
                "responses": {"200": _json(_ref("Health"), "Alive.")}},
    },
    "/readyz": {
        "get": {"operationId": "readyz", "summary": "Every configured backend answers.",
                "responses": {**_COMMON_ERRORS,
                              "200": _json(_ref("Ready"), "Ready."),
                              "503": _error("`details.unavailable` names the backends "
                                            "that do not answer.")}},
    },
    "/openapi.json": {
        "get": {"operationId": "openapi", "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1 JSON.",
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}},
                              **_COMMON_ERRORS}},
    },
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "videogen",
        "version": "0.1.0",
        "description": "Turn a folder of still images plus a scene script into a narrated, "
                       "scored video. Every error is `{\"success\": false, \"error\": "
                       "{\"code\", \"message\", \"details\"}}`.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": _PATHS,
    "components": {
        "schemas": _SCHEMAS,
        "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "Required on every endpoint but /healthz when "
                           "VIDEOGEN_API_TOKEN is set."}},
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the OpenAPI 3.1 document."""
    return copy.deepcopy(_DOCUMENT)
