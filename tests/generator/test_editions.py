"""Tests of editions.toml and its reader (generator/editions.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dicompile.generator.editions import (
    NEMA_BASE_URL,
    find_standard_dir,
    load_editions,
    normalise_part,
)
from dicompile.runtime.errors import StandardSourceError

REPO_ROOT = Path(__file__).resolve().parents[2]
EDITIONS = REPO_ROOT / "standard-xml" / "editions.toml"

MINIMAL = """
base_url = "http://127.0.0.1:9/mirror"

[editions."2099a"]
parts = ["03", "06"]
paths = { "06" = "elsewhere/ps36.xml" }
sha256 = { "03" = "%s" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "editions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_project_editions_file() -> None:
    catalog = load_editions(EDITIONS)
    assert catalog.base_url == NEMA_BASE_URL
    assert catalog.names[0] == "2013"
    assert {"2016c", "2020b", "2024c", "current"} <= set(catalog.names)
    e2013 = catalog.edition("2013")
    numbers = [p.part for p in e2013.parts]
    # PS3.9 and PS3.13 were retired before the first DocBook edition.
    assert "09" not in numbers and "13" not in numbers and len(numbers) == 18
    unknown = [p.part for p in e2013.parts if p.sha256 is None]
    assert unknown == ["03", "16"]  # the two parts ../shared does not have
    assert e2013.url(e2013.part("3"), catalog.base_url) == (
        "https://dicom.nema.org/medical/dicom/2013/source/docbook/part03/part03.xml"
    )
    current = catalog.edition("current")
    assert current.floating and not e2013.floating
    assert all(p.sha256 is None for e in catalog.editions[1:] for p in e.parts)


def test_2013_digests_are_those_of_the_files_in_shared(xml_2013: Path, shared_dir: Path) -> None:
    e2013 = load_editions(EDITIONS).edition("2013")
    known = {p.part: p.sha256 for p in e2013.parts if p.sha256 is not None}
    on_disk = {
        path.stem.removeprefix("part"): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(xml_2013.glob("part*.xml"))
    }
    assert known == on_disk
    # ../shared/SHA256SUMS is an independent record of the same files.
    sums = {}
    for line in (shared_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if name.startswith("standard-xml/2013/part"):
            sums[Path(name).stem.removeprefix("part")] = digest
    assert sums == known


def test_paths_base_url_and_selection(tmp_path: Path) -> None:
    digest = "ab" * 32
    catalog = load_editions(write(tmp_path, MINIMAL % digest))
    assert catalog.base_url == "http://127.0.0.1:9/mirror/"  # a trailing slash is added
    edition = catalog.edition("2099a")
    p03, p06 = edition.parts
    assert (p03.sha256, p06.sha256) == (digest, None)
    assert edition.url(p03, catalog.base_url) == (
        "http://127.0.0.1:9/mirror/2099a/source/docbook/part03/part03.xml"
    )
    assert edition.url(p06, "http://h/x/") == "http://h/x/elsewhere/ps36.xml"
    # Selection keeps the edition's order and accepts loose spellings.
    assert [p.part for p in edition.select(["6", "part03"])] == ["03", "06"]
    assert edition.select(None) == edition.parts
    with pytest.raises(
        StandardSourceError, match=r"edition 2099a has no part 04; its parts are 03, 06"
    ):
        edition.select(["4"])


def test_unknown_edition_lists_the_known_ones(tmp_path: Path) -> None:
    catalog = load_editions(write(tmp_path, MINIMAL % ("ab" * 32)))
    with pytest.raises(
        StandardSourceError, match=r"unknown edition '2024c'; known editions: 2099a"
    ):
        catalog.edition("2024c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("base_url = ", r"not valid TOML"),
        ("[editions.x]\nparts = ['03']\nsha265 = {}", r"unknown key editions\.x\.sha265"),
        ("colour = 1\n[editions.x]\nparts = ['03']", r"unknown key colour"),
        ("[editions.x]\nparts = ['3']", r"key editions\.x\.parts: '3' is not a two-digit"),
        ("[editions.x]\nparts = []", r"key editions\.x\.parts: expected a non-empty list"),
        ("[editions.x]\nparts = ['03', '03']", r"listed twice"),
        (
            "[editions.x]\nparts = ['03']\nsha256 = { '03' = 'ABC' }",
            r"key editions\.x\.sha256\.03: expected 64 lowercase hex digits",
        ),
        (
            "[editions.x]\nparts = ['03']\nsha256 = { '06' = '%s' }" % ("0" * 64),
            r"key editions\.x\.sha256\.06: part 06 is not in editions\.x\.parts",
        ),
        (
            "[editions.x]\nparts = ['03']\npaths = { '03' = '../../etc/passwd' }",
            r"key editions\.x\.paths\.03: a path is relative",
        ),
        (
            "[editions.x]\nparts = ['03']\npaths = { '03' = 'https://evil/part03.xml' }",
            r"key editions\.x\.paths\.03",
        ),
        ("[editions.'a b']\nparts = ['03']", r"key editions\.a b: an edition name"),
        ("[editions.x]\nparts = ['03']\nfloating = 'yes'", r"key editions\.x\.floating"),
        ("base_url = 'file:///srv/dicom'\n[editions.x]\nparts = ['03']", r"not an absolute http"),
        ("base_url = 'dicom.nema.org'\n[editions.x]\nparts = ['03']", r"not an absolute http"),
        ("editions = 3", r"key editions: expected a table"),
    ],
)
def test_malformed_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StandardSourceError, match=message) as caught:
        load_editions(path)
    assert caught.value.source_file == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StandardSourceError, match=r"cannot read"):
        load_editions(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("given", "part"), [("3", "03"), ("03", "03"), ("part16", "16"), (" 6 ", "06")]
)
def test_normalise_part(given: str, part: str) -> None:
    assert normalise_part(given) == part


@pytest.mark.parametrize("given", ["", "x", "0", "100", "-3", "3.0"])
def test_normalise_part_rejects(given: str) -> None:
    with pytest.raises(StandardSourceError, match="not a part number"):
        normalise_part(given)


def test_find_standard_dir(tmp_path: Path) -> None:
    # A checkout in the current directory wins ...
    local = tmp_path / "here" / "standard-xml"
    local.mkdir(parents=True)
    (local / "editions.toml").write_text("", encoding="utf-8")
    assert find_standard_dir(tmp_path / "here") == local
    # ... else the checkout the package was imported from (this repository).
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert find_standard_dir(empty) == REPO_ROOT / "standard-xml"
