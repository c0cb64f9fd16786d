"""The OpenAPI 3.1 document of the service, as a Python dict.

Kept true by ``tests/unit/http/test_openapi.py``, which validates real
responses against the schemas below and checks every route is described.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_document"]

#: Folder ids, job ids, file names: what ``validation.check_id`` takes (no leading dot:
#: dot names are the service's own, e.g. ``<DATA_DIR>/.videogen/``).
_SEGMENT = "[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
_ID = {"type": "string", "pattern": f"^{_SEGMENT}$", "example": "trip"}
#: A ``/media`` key: ``<folder>/<file>`` or deeper, up to 16 segments.
_MEDIA_KEY = {"type": "string", "pattern": f"^{_SEGMENT}(/{_SEGMENT}){{1,15}}$",
              "example": "trip/videos/20261125T100000Z-1a2b3c4d.mp4"}
#: Text fields: any string without NUL characters.
_TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}


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
            "scene_number": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
            "narration": _TEXT,
            "duration": {"type": "number", "exclusiveMinimum": 0,
                         "description": "Seconds; at least one frame (1/fps) and at most "
                                        "VIDEOGEN_MAX_SCENE_DURATION (default 300). With "
                                        "`crossfade`, longer than the overlaps it takes part "
                                        "in (400 naming this field otherwise)."},
            "clip_action": {**_TEXT, "examples": ["zoom in, pan left"]},
            "music_mood": {**_TEXT, "examples": ["calm", "upbeat"]},
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
            "renderer": {
                "enum": ["auto", "kenburns", "comfyui"],
                "default": "auto",
                "description": "Which renderer makes this scene: `auto` is the configured "
                               "one (`VIDEOGEN_RENDERER`); Ken Burns and ComfyUI scenes can "
                               "share one video. A renderer the server has not configured "
                               "is a 400 naming this field; an unreachable ComfyUI a 503 "
                               "(or the Ken Burns fallback, said in `warnings`).",
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
            "voice": {"type": ["string", "null"], "pattern": "^[^\\u0000]*$"},
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
            "transition_duration": {
                "type": ["number", "null"], "minimum": 0, "maximum": 10,
                "description": "Seconds (default VIDEOGEN_TRANSITION_DURATION). A `fade` "
                               "takes half of it from each scene beside it and must fit "
                               "them (400 naming this field otherwise)."},
            "caption_style": {
                "enum": ["none", "subtitle", "karaoke", "bold", None],
                "description": "Burnt-in captions: `subtitle` (default; sentences at the "
                               "bottom, burnt in only when VIDEOGEN_BURN_SUBTITLES=true), "
                               "`karaoke` (a line or two, the spoken word highlighted), "
                               "`bold` (1-3 big words at a time, centred), `none` (nothing "
                               "burnt in). All stay inside the output's safe area; the soft "
                               "track and the .srt/.vtt/.words.json files always keep "
                               "sentence cues with word timings.",
            },
            "poster_scene": {
                "type": ["integer", "null"], "minimum": 0,
                "description": "scene_number of the scene the poster frame is taken from "
                               "(default: the first scene).",
            },
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
            "sequence_data": {"type": "array", "minItems": 1, "maxItems": 500,
                              "items": _ref("Scene"),
                              "description": "Scene numbers are unique."},
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
                                  "description": "URLs of the captions: `srt`, `vtt` "
                                                 "(with inline word timestamps) and "
                                                 "`words` (.words.json: cues with their "
                                                 "words' start/end seconds).",
                                  "additionalProperties": {"type": "string"}},
                    "size_bytes": {"type": "integer"},
                    "loudness_lufs": {"type": ["number", "null"]},
                    "scene_details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "requested_renderer": {
                                    "enum": ["auto", "kenburns", "comfyui"],
                                    "description": "The scene's `renderer` as asked."},
                                "renderer": {
                                    "type": "string",
                                    "description": "The renderer that made the scene "
                                                   "(the fallback's name after a "
                                                   "fallback)."},
                            },
                        },
                    },
                    "poster_url": {
                        "type": ["string", "null"],
                        "description": "A JPEG of the video's size: a sharp frame of the "
                                       "first scene (or of `poster_scene`).",
                    },
                    "render_mode": {
                        "enum": ["stream", "chunked"],
                        "description": "How the video was encoded (`VIDEOGEN_RENDER_MODE`): "
                                       "`stream`, one encoder; `chunked`, cached chunks "
                                       "joined by stream copy.",
                    },
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
            "scenes_done": {"type": "integer", "minimum": 0,
                            "description": "Scenes rendered (never more than scenes_total)."},
            "scenes_total": {"type": "integer", "minimum": 0},
            "frames_done": {"type": "integer", "minimum": 0,
                            "description": "Frames of the video encoded so far while a "
                                           "streamed (Ken Burns) render runs; 0 otherwise."},
            "frames_total": {"type": "integer", "minimum": 0,
                             "description": "Frames of the whole video (0 until known)."},
            "stale": {"type": "boolean",
                      "description": "A running job whose worker stopped renewing its lease; "
                                     "it is re-queued (or failed) shortly."},
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
                       "content_type": {"type": "string"},
                       "filename": {"type": "string",
                                    "description": "The part's file name as uploaded."},
                       "width": {"type": "integer"}, "height": {"type": "integer"},
                       "removed_trailing_bytes": {
                           "type": "integer",
                           "description": "Bytes after a JPEG's end marker, not stored."}},
    },
    "ImageList": {
        "type": "object",
        "required": ["success", "folder_id", "images", "count"],
        "properties": {"success": {"const": True}, "folder_id": _ID,
                       "images": {"type": "array", "items": _ref("Image")},
                       "count": {"type": "integer"}},
    },
    "Capabilities": {
        "type": "object",
        "required": ["success", "moods", "voices", "transitions", "movement_limits",
                     "speech_rate", "request_schemas"],
        "properties": {
            "success": {"const": True},
            "moods": {"type": "array", "items": {"type": "string"}},
            "voices": {"type": "array", "items": {"type": "string"}},
            "default_voice": {"type": ["string", "null"]},
            "transitions": {"type": "array", "items": {"type": "string"}},
            "default_transition": {"type": "string"},
            "transition_duration": {"type": "number"},
            "movement_limits": {"type": "object",
                                "additionalProperties": {"type": "integer"}},
            "movements": {"type": "array", "items": {"type": "string"}},
            "speeds": {"type": "array", "items": {"type": "string"}},
            "max_scene_duration": {"type": "number"},
            "max_scenes": {"type": "integer"},
            "max_speedup": {"type": "number"},
            "narration_lead_in": {"type": "number"},
            "narration_gap": {"type": "number"},
            "speech_rate": {
                "type": "object", "required": ["words_per_second", "measured"],
                "description": "The narrator's rate with its default voice, measured once "
                               "(`measured` false: a 2.5 words/s estimate).",
                "properties": {"words_per_second": {"type": "number"},
                               "measured": {"type": "boolean"}}},
            "fps": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "max_upload_mb": {"type": "integer"},
            "narration_preview": {"type": "object",
                                  "properties": {"max_chars": {"type": "integer"}}},
            "request_schemas": {
                "type": "object",
                "description": "The `Scene` and `GenerationParams` schemas of this "
                               "document, so clients can offer every field the API takes.",
                "additionalProperties": {"type": "object"}},
        },
    },
    "NarrationPreviewRequest": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 1000},
            "voice": {"type": ["string", "null"],
                      "description": "One of `GET /capabilities` voices; default: "
                                     "VIDEOGEN_VOICE or the narrator's own."},
        },
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


def _links(source: str, *operations: str, name: str = "job_id") -> dict[str, Any]:
    """OpenAPI links: ``source`` (a runtime expression) feeds ``name`` of each operation."""
    return {op[0].upper() + op[1:]: {"operationId": op, "parameters": {name: source}}
            for op in operations}


_JOB_LINKS = ("getJob", "jobEvents", "cancelJob")
#: what /media serves (views/media.py): images by their bytes, a few extensions, else bytes
_MEDIA_TYPES: dict[str, Any] = {t: {} for t in (
    "video/mp4", "video/webm", "audio/mp4", "audio/wav", "text/vtt", "application/x-subrip",
    "application/json", "image/png", "image/jpeg", "image/webp", "image/gif", "image/tiff",
    "image/bmp", "application/octet-stream")}
_JOB = {"name": "job_id", "in": "path", "required": True, "schema": _ID}

_PATHS: dict[str, Any] = {
    "/generateVideos/{folder_id}": {
        "post": {
            "operationId": "generateVideos",
            "summary": "Make the video of a folder's images from a scene script.",
            "description": "Synchronous by default: answers when the video is stored. With "
                           "`Prefer: respond-async` or `?async=true` it answers 202 at once; "
                           "follow `status_url`. The same `Idempotency-Key` returns the same "
                           "job. A full job queue answers 429 before the body is read (so "
                           "also to an invalid body; it gets its 400 once there is room), "
                           "except to a request with an `Idempotency-Key`.",
            "parameters": [
                _FOLDER,
                {"name": "async", "in": "query", "schema": {"enum": ["true", "false", "1",
                                                                      "0", "yes", "no"]}},
                {"name": "Prefer", "in": "header", "schema": {"type": "string"},
                 "example": "respond-async"},
                {"name": "Idempotency-Key", "in": "header",
                 "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"}},
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
                            "schema": {"type": "string"}}},
                        "links": _links("$response.header.X-Videogen-Job-Id", "getJob")},
                "202": {**_json(_ref("JobAccepted"), "Async mode: the job was queued."),
                        "links": _links("$response.body#/job_id", *_JOB_LINKS),
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
                           "`event: end` with `{\"status\": ...}`. Streams and "
                           "synchronous requests share VIDEOGEN_THREADS − 2 server "
                           "threads; beyond that a stream is refused with 503 and "
                           "Retry-After (poll `GET /jobs/{job_id}` instead).",
            "parameters": [_JOB],
            "responses": {**_COMMON_ERRORS,
                          "200": {"description": "The event stream.", "content": {
                              "text/event-stream": {"schema": {"type": "string"}}}},
                          "400": _error("Malformed job id."),
                          "404": _error("Unknown job."),
                          "503": _error("Every stream slot is in use; `Retry-After` says "
                                        "when to try again.")},
        },
    },
    "/folders/{folder_id}/images": {
        "post": {
            "operationId": "uploadImages",
            "summary": "Upload images into a folder (multipart, any field name).",
            "parameters": [_FOLDER],
            "description": "Every file part is stored (any field name; `images` is the "
                           "documented one); at least one file is required. Images are "
                           "decoded whole before any is stored (PNG, JPEG, WebP, GIF, BMP, TIFF).",
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["images"], "properties": {
                    "images": {"type": "array", "minItems": 1, "items": {
                        "type": "string", "format": "binary",
                        "contentMediaType": "image/*"}}}}}}},
            "responses": {"201": {**_json(_ref("ImageList"), "The stored images."),
                                  "links": _links("$response.body#/folder_id", "listImages",
                                                  "generateVideos", name="folder_id")},
                          "400": _error("No file, or a bad folder id or file name."),
                          "413": _error("Larger than VIDEOGEN_MAX_UPLOAD_MB."),
                          "415": _error("Not multipart, or a file's first bytes are no "
                                        "PNG/JPEG/WebP/GIF/BMP/TIFF."),
                          "422": _error("A file does not decode whole (`invalid_image`, "
                                        "`details.field` names the part): corrupt, "
                                        "truncated, too many pixels, or bytes after a "
                                        "PNG/GIF/WebP."),
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
                            "schema": _MEDIA_KEY,
                            "description": "Storage key `<folder>/…/<file>`, e.g. "
                                           "`trip/videos/x.mp4` (no segment starts with a dot)."},
                           {"name": "Range", "in": "header", "schema": {"type": "string"},
                            "example": "bytes=0-1023"}],
            "responses": {
                "200": {"description": "The whole file. Images are typed by their bytes "
                                       "(never the name); other files by a short list of "
                                       "extensions, anything else is "
                                       "`application/octet-stream` as an attachment. Every "
                                       "response has `X-Content-Type-Options: nosniff` and "
                                       "`Content-Security-Policy: default-src 'none'; … "
                                       "sandbox`.",
                        "content": _MEDIA_TYPES},
                "206": {"description": "The requested range (Content-Range header).",
                        "content": _MEDIA_TYPES},
                "304": {"description": "Not modified (If-None-Match / If-Modified-Since)."},
                "400": _error("A path segment is not allowed."),
                "404": _error("No such file."),
                "416": _error("The range is outside the file."), **_COMMON_ERRORS},
        },
    },
    "/": {
        "get": {"operationId": "studio", "summary": "The Studio: a web page that makes a "
                "video from photos through this API (no token needed to load it).",
                "security": [],
                "responses": {"200": {"description": "The page (strict CSP).",
                                      "content": {"text/html": {}}},
                              "404": _error("No such page (e.g. a doubled slash).")}},
    },
    "/studio/{name}": {
        "get": {"operationId": "studioAsset", "summary": "A script or style sheet of the "
                "Studio page.",
                "security": [],
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The file.",
                                      "content": {"text/javascript": {}, "text/css": {},
                                                  "image/svg+xml": {}}},
                              "404": _error("No such file.")}},
    },
    "/capabilities": {
        "get": {"operationId": "capabilities",
                "summary": "What this server offers: moods, voices, transitions, movement "
                           "limits, narration rules, speech rate, request schemas.",
                "responses": {"200": _json(_ref("Capabilities"), "The capabilities."),
                              **_COMMON_ERRORS}},
    },
    "/narration/preview": {
        "post": {
            "operationId": "narrationPreview",
            "summary": "Speak one narration with the configured narrator (to hear it).",
            "description": "At most 1000 characters; at most 2 previews at once per "
                           "process (429 beyond).",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("NarrationPreviewRequest")}}},
            "responses": {
                "200": {"description": "The narration as WAV.",
                        "content": {"audio/wav": {}},
                        "headers": {
                            "X-Narration-Duration": {"description": "Its length in seconds.",
                                                     "schema": {"type": "string"}},
                            "X-Narration-Voice": {"description": "The voice that spoke.",
                                                  "schema": {"type": "string"}}}},
                "400": _error("Bad text (empty, too long) or an unknown voice; "
                              "`details.field` names it."),
                "413": _error("Body larger than VIDEOGEN_MAX_BODY_KB."),
                "415": _error("The body is not application/json."),
                **_COMMON_ERRORS,
            },
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
