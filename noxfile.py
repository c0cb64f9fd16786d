"""Developer sessions: ``nox -s lint typing tests``."""

import nox

nox.options.sessions = ["lint", "typing", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over sources, tests and benchmarks."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy, strict on the pure core and the job lifecycle layer."""
    session.install("-e", ".", "mypy>=1.10")
    session.run("mypy", "src/videogen_core", "src/videogen_jobs")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and contract tests, with the real servers the contracts need."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)
