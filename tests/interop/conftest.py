"""Fixtures of the interop suite: test certificates made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from .peers import make_certificates


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_certificates(tmp_path_factory.mktemp("pki"))
