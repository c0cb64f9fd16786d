"""Property-based fuzzing of the whole HTTP API against its own OpenAPI document.

schemathesis reads ``/openapi.json`` from the real WSGI app (Flask, every view,
the error handlers, the real validation) and generates requests for every
operation — valid ones (positive) and ones that break the schema (negative) —
then checks every answer: no 5xx, the status is documented, the content type
is documented, the body fits the documented schema. A stateful phase follows
the document's links (upload → list, generate → job → events / cancel).

The app runs on the shipped fakes (:mod:`videogen_adapters.fakes`): storage on a
temporary local disk, a fake renderer, narrator, music and muxer, so a valid
generate request finishes in milliseconds instead of starting a real render.

Not a timing benchmark (no figure here depends on the machine): it prints the
cases run, the 5xx count and the schema mismatches::

    python benchmarks/fuzz_api.py                  # ≥ 20,000 cases, seed 0, stateful
    python benchmarks/fuzz_api.py --cases 50 --no-stateful   # a quick look

The unit suite runs a smaller, seeded pass (``tests/unit/http/test_fuzz_openapi.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

__all__ = ["TOKEN", "FuzzReport", "fuzz", "fuzz_app", "main"]

#: The app's VIDEOGEN_API_TOKEN during the run (the document requires bearer auth).
TOKEN = "fuzz-token"


@dataclass
class FuzzReport:
    """What a fuzz run saw."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    #: check name → how many cases failed it
    failures: Counter[str] = field(default_factory=Counter)
    #: one example message per (operation, check)
    examples: dict[str, str] = field(default_factory=dict)
    stateful_steps: int = 0
    #: schema-valid requests refused by a rule the schema cannot express (a crossfade
    #: longer than a scene, bytes that are not an image...), each naming its field
    semantic_refusals: Counter[str] = field(default_factory=Counter)

    @property
    def schema_mismatches(self) -> int:
        """Answers whose status, content type or body the document does not describe."""
        return sum(n for name, n in self.failures.items() if name != "not_a_server_error")

    def summary(self) -> str:
        lines = [f"cases run: {self.cases} (stateful steps: {self.stateful_steps})",
                 f"5xx answers: {self.server_errors}",
                 f"schema mismatches: {self.schema_mismatches}",
                 "statuses: " + ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses.items())),
                 "schema-valid requests refused by cross-field rules (documented, named): "
                 + (", ".join(f"{k}×{n}" for k, n in sorted(self.semantic_refusals.items()))
                    or "none")]
        for name, count in sorted(self.failures.items()):
            lines.append(f"  {name}: {count}")
        for where, message in sorted(self.examples.items()):
            lines.append(f"  e.g. {where}: {message[:300]}")
        return "\n".join(lines)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 18), (90, 140, 200)).save(out, format="PNG")
    return out.getvalue()


@contextlib.contextmanager
def fuzz_app(root: Path | None = None) -> Iterator[Any]:
    """A videogen Flask app on fakes, with a folder ``trip`` holding two images."""
    from dependency_injector import providers

    from videogen_adapters.config import Settings
    from videogen_adapters.executors import ThreadPoolExecutorAdapter
    from videogen_adapters.fakes import (
        FakeClipRenderer,
        FakeMusicSource,
        FakeMuxer,
        FakeNarrator,
    )
    from videogen_adapters.storage import LocalDiskStorage
    from videogen_core.pipeline import VideoPipeline
    from videogen_http import Container, create_app

    with tempfile.TemporaryDirectory(prefix="videogen-fuzz-", dir=root) as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", storage="local", job_store="sqlite",
                            max_jobs=2, max_queue=64, host="127.0.0.1", port=8000,
                            threads=8, api_token=TOKEN)
        storage = LocalDiskStorage(settings.data_dir, public_base_url="http://127.0.0.1:8000")
        for n in (1, 2):
            folder = settings.data_dir / "trip"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"scene_{n}.png").write_bytes(_png())
        executor = ThreadPoolExecutorAdapter(2)
        pipeline = VideoPipeline(
            storage=storage, renderer=FakeClipRenderer(), narrator=FakeNarrator(),
            music=FakeMusicSource(), muxer=FakeMuxer(), executor=executor,
            video=settings.video(), animation=settings.animation(), audio=settings.audio(),
            workdir=Path(tmp) / "work")
        container = Container()
        container.storage.override(providers.Object(storage))
        container.renderer.override(providers.Object(pipeline.renderer))
        container.narrator.override(providers.Object(pipeline.narrator))
        container.music.override(providers.Object(pipeline.music))
        container.muxer.override(providers.Object(pipeline.muxer))
        container.executor.override(providers.Object(executor))
        container.pipeline.override(providers.Object(pipeline))
        app = create_app(settings, container=container)
        try:
            yield app
        finally:
            app.extensions["videogen"].close()
            executor.shutdown(wait=False)


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Silence the service's own log lines (thousands of 4xx) for the run only."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        positive_data_acceptance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance, negative_data_rejection, positive_data_acceptance]


def _record(report: FuzzReport, case: Any, response: Any) -> None:
    """Count one answer and run the checks on it (failures counted, never raised)."""
    report.cases += 1
    report.statuses[response.status_code] += 1
    if response.status_code >= 500:
        report.server_errors += 1
    try:
        case.validate_response(response, checks=_checks())
    except BaseException as exc:  # noqa: BLE001 - FailureGroup / a single Failure
        failures = getattr(exc, "exceptions", None) or [exc]
        for failure in failures:
            name = _check_name(failure)
            rule = _semantic_rule(case, response) if name == "positive_data_acceptance" else None
            if rule is not None:
                report.semantic_refusals[rule] += 1
                continue
            report.failures[name] += 1
            where = f"{case.operation.label} [{name}]"
            report.examples.setdefault(where, f"{response.status_code}: {failure}")


def _semantic_rule(case: Any, response: Any) -> str | None:
    """The field a schema-valid request was refused on, when the refusal is one of the
    rules the document describes in words but JSON Schema cannot state: the scene and
    transition rules of generateVideos (400 naming a body field), upload bytes that
    are not an image or do not decode whole (415, 422), two upload parts with one name
    (400 naming the part), and a preview text with nothing to speak or an unknown
    voice. None for any other refusal (a real mismatch)."""
    operation = case.operation.definition.raw.get("operationId")
    try:
        error = response.json()["error"]
    except Exception:  # noqa: BLE001 - not an error envelope: not semantic
        return None
    field_name = str(error.get("details", {}).get("field", ""))
    if (operation == "generateVideos" and response.status_code == 400
            and field_name.startswith(("sequence_data", "generation_params"))):
        return "generateVideos:" + re.sub(r"\[\d+\]", "[]", field_name)
    if operation == "uploadImages" and response.status_code in (415, 422):
        return "uploadImages:" + error.get("code", "")
    if (operation == "uploadImages" and response.status_code == 400
            and field_name.startswith("files[")):
        return "uploadImages:" + re.sub(r"\[\d+\]", "[]", field_name)
    if (operation == "narrationPreview" and response.status_code == 400
            and field_name in ("text", "voice")):
        return "narrationPreview:" + field_name
    return None


def _check_name(failure: Any) -> str:
    title = str(getattr(failure, "title", "") or type(failure).__name__).lower()
    if "server error" in title:
        return "not_a_server_error"
    if "status code" in title:
        return "status_code_conformance"
    if "content type" in title or "content-type" in title:
        return "content_type_conformance"
    if "request rejected" in title:
        return "positive_data_acceptance"
    if "request accepted" in title:
        return "negative_data_rejection"
    if "schema" in title:
        return "response_schema_conformance"
    return title or "failure"


def fuzz(cases_per_operation: int = 100, *, seed: int = 0, stateful: bool = False,
         stateful_steps: int = 0, negative: bool = True) -> FuzzReport:
    """Run schemathesis over every operation of the document (positive, and negative
    when ``negative``), ``cases_per_operation`` examples per operation and mode,
    deterministic for a ``seed``; then, when ``stateful``, ``stateful_steps`` steps of
    the state machine built from the document's links. Returns the report."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from schemathesis import GenerationMode

    report = FuzzReport()
    base = hypothesis.settings(
        max_examples=cases_per_operation, deadline=None, database=None, derandomize=False,
        suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
        print_blob=False)
    with _quiet("videogen", "videogen.http"), fuzz_app() as app:
        config = schemathesis.config.SchemathesisConfig.from_dict(
            {"auth": {"openapi": {"bearer": {"bearer": TOKEN}}}})
        schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=config,
                                                headers={"Authorization": f"Bearer {TOKEN}"})
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in modes:
                try:
                    strategy = operation.as_strategy(generation_mode=mode)
                except Exception as exc:  # noqa: BLE001 - e.g. nothing negative to generate
                    report.examples.setdefault(f"{operation.label} [{mode}]", repr(exc))
                    continue

                @hypothesis.seed(seed)
                @base
                @given(case=strategy)
                def run(case: Any) -> None:
                    _record(report, case, case.call())

                # Unsatisfiable: nothing to negate (an operation without parameters or body)
                with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                    run()
        if stateful:
            report.stateful_steps = _stateful(schema, report, stateful_steps)
    return report


def _stateful(schema: Any, report: FuzzReport, steps: int) -> int:
    """The state machine over the document's links; every step's answer is checked."""
    import hypothesis
    from hypothesis import HealthCheck, Phase
    from hypothesis.stateful import run_state_machine_as_test

    machine = schema.as_state_machine()
    counted = {"steps": 0}

    class Checked(machine):  # type: ignore[misc, valid-type]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            counted["steps"] += 1
            _record(report, case, response)

    runs = max(1, steps // 10)
    run_state_machine_as_test(Checked, settings=hypothesis.settings(
        max_examples=runs, stateful_step_count=10, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate],
        derandomize=True))  # deterministic: the same steps every run
    return counted["steps"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1200,
                        help="examples per operation and mode (default 1200: ≥ 20,000 in all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stateful-steps", type=int, default=2000)
    parser.add_argument("--no-stateful", action="store_true")
    parser.add_argument("--positive-only", action="store_true")
    args = parser.parse_args(argv)
    report = fuzz(args.cases, seed=args.seed, stateful=not args.no_stateful,
                  stateful_steps=args.stateful_steps, negative=not args.positive_only)
    print(report.summary())
    return 1 if report.server_errors or report.schema_mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
