"""Tests of the lock file (generator/edition_lock.py): format, determinism, strict reading."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dicompile.generator.edition_lock import (
    EditionLock,
    LockEntry,
    read_lock,
    render_lock,
    write_lock,
)
from dicompile.runtime.errors import StandardSourceError

A = LockEntry("2024c", "06", "a" * 64, 10, "https://dicom.nema.org/medical/dicom/2024c/x.xml")
B = LockEntry("2016c", "03", "b" * 64, 20, 'http://127.0.0.1:1/we"ird\\path\u00e9.xml')
C = LockEntry("2024c", "03", "c" * 64, 0, "http://127.0.0.1:1/c.xml")


def test_round_trip_sorted_and_deterministic(tmp_path: Path) -> None:
    lock = EditionLock().with_entry(A).with_entry(B).with_entry(C)
    assert lock.entries == (B, C, A)  # by edition, then part
    path = tmp_path / "editions.lock"
    write_lock(path, lock)
    text = path.read_text(encoding="utf-8")
    assert text == render_lock(lock) and text.startswith("# sha256 of each part")
    assert read_lock(path) == lock
    # The same entries added in another order give the same bytes.
    write_lock(path, EditionLock().with_entry(C).with_entry(A).with_entry(B))
    assert path.read_text(encoding="utf-8") == text
    # It is plain TOML, readable by any TOML reader, with the odd URL intact.
    data = tomllib.loads(text)
    assert data["lock_version"] == 1
    assert [t["url"] for t in data["part"]] == [B.url, C.url, A.url]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_with_entry_replaces_the_same_part() -> None:
    newer = LockEntry(A.edition, A.part, "d" * 64, 11, A.url)
    lock = EditionLock().with_entry(A).with_entry(newer)
    assert lock.entries == (newer,)
    assert lock.get("2024c", "06") == newer and lock.get("2024c", "03") is None


def test_missing_lock_is_empty(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "none.lock") == EditionLock()


ENTRY = 'edition = "x"\npart = "03"\nsha256 = "%s"\nsize = 1\nurl = "http://h/"\n' % ("0" * 64)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lock_version = ", r"not valid TOML"),
        ("lock_version = 2", r"key lock_version: expected 1, found 2"),
        ("part = []", r"key lock_version"),
        ("lock_version = 1\nextra = 1", r"unknown key extra"),
        ("lock_version = 1\n[[part]]\nedition = 'x'", r"key part\[0\]: expected exactly the keys"),
        (
            "lock_version = 1\n[[part]]\n" + ENTRY.replace("0" * 64, "0" * 63),
            r"key part\[0\]\.sha256",
        ),
        ("lock_version = 1\n[[part]]\n" + ENTRY.replace("size = 1", "size = -1"), r"\.size"),
        ("lock_version = 1\n[[part]]\n" + ENTRY.replace('part = "03"', "part = 3"), r"\.part"),
        ("lock_version = 1\n[[part]]\n" + ENTRY + "[[part]]\n" + ENTRY, r"part\[1\].*twice"),
    ],
)
def test_malformed_lock_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "editions.lock"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardSourceError, match=message) as caught:
        read_lock(path)
    assert caught.value.source_file == str(path)
