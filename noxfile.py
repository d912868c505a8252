"""Developer and CI sessions (DESIGN.md, "Tests and measurements").

Every session installs what it needs into its own virtualenv, so a fresh
machine with only Python 3.11+ and ``pip install nox`` can run any of them.
Sessions that read the standard's sources look for them in ``../shared``
(override with ``DICOMPILE_SHARED``); tests that need them skip without.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests", "generate_check"]

ROOT = Path(__file__).parent
SHARED = Path(os.environ.get("DICOMPILE_SHARED", ROOT.parent / "shared"))
PACKAGES = ["dicompile.generator", "dicompile.runtime", "dicompile.generated"]
# The editions the committed generated/ code is made from (issue 2): the 2013
# DocBook parts and the 2020 JSON rendition of PS3.3/PS3.6; newer wins.
STANDARD_SOURCES = [
    SHARED / "standard-xml" / "2013",
    SHARED / "standard-xml" / "2016c-part03-excerpt",
    SHARED / "standard-json" / "innolitics-2020",
]


def _install(session: nox.Session, extras: str = "test") -> None:
    # Strict editable mode links every file into one tree that mypy can see
    # (a finder-based editable install hides the remapped packages from it).
    session.install("-e", f".[{extras}]", "--config-settings", "editable_mode=strict")


def _standard_args() -> list[str]:
    args: list[str] = []
    for src in STANDARD_SOURCES:
        args += ["--standard", str(src)]
    return args


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, property and golden tests (interop tests run when their peers exist)."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over runtime, generator and generated code."""
    _install(session, "test,dev")
    args = [a for p in PACKAGES for a in ("-p", p)]
    session.run("mypy", "--strict", *args)
    # The typed examples (generated classes used as an application would); mypy takes
    # packages or files in one run, not both.
    session.run("mypy", "--strict", "examples")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from the standard's sources in ../shared."""
    _install(session, "test")
    session.run("dicompile", "generate", *_standard_args(), "--out", "generated")


@nox.session
def generate_check(session: nox.Session) -> None:
    """Regenerate into a temporary folder and fail on any difference with generated/."""
    _install(session, "test")
    if not SHARED.is_dir():
        session.skip(f"{SHARED} not found: the standard's sources are needed to regenerate")
    session.run("dicompile", "generate", *_standard_args(), "--out", "generated", "--check")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on bundled defaults: no network beyond loopback, no ../shared needed."""
    _install(session, "test")
    session.run("python", "-m", "dicompile.runtime.cli", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers (pydicom, pynetdicom, dcmtk, dciodvfy, dicom-validator)."""
    _install(session, "test,bench")
    session.run("python", "-m", "tests.bench", *session.posargs)


@nox.session
def state_diagram(session: nox.Session) -> None:
    """Draw the PS3.8 upper layer state machine (Table 9-10) into build/ (DOT; SVG with dot)."""
    _install(session, "test")
    out = session.posargs[0] if session.posargs else "build/ul-state-diagram.dot"
    session.run("python", "-m", "dicompile.generator.ul_diagram", out)
