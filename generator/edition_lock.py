"""The lock file: the sha256 of each part as first fetched, which later fetches must match.

Theory of operation
-------------------
* ``editions.toml`` knows the digests of few parts (those of 2013 that ../shared holds).  For
  every other part the first successful fetch records what it got in ``standard-xml/
  editions.lock``; that file is committed, so every later fetch, on any machine, must get the
  same bytes (trust on first use, as lock files of package managers do).
* The file is TOML, one ``[[part]]`` table per (edition, part), sorted by edition and part,
  with a fixed key order and no timestamps, so rewriting an unchanged lock is byte-identical
  and a diff shows exactly which digest was added or changed.
* It is written atomically (temporary file in the same folder, then rename).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path

import attrs

from dicompile.runtime.errors import StandardSourceError

LOCK_FILE = "editions.lock"
LOCK_VERSION = 1

_HEADER = """\
# sha256 of each part of the DICOM standard as first fetched by `dicompile standard fetch`.
# Later fetches of the same edition and part must match (standard-xml/README.md).
# Written by the fetcher, sorted by edition and part; commit it, do not edit it by hand.
"""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = ("edition", "part", "sha256", "size", "url")


@attrs.frozen(order=True)
class LockEntry:
    """What one first fetch of ``edition`` part ``part`` got, and from where."""

    edition: str
    part: str  # two digits
    sha256: str
    size: int
    url: str  # where it was first fetched from; informative, the digest is what is checked


@attrs.frozen
class EditionLock:
    """All lock entries, sorted and unique by (edition, part)."""

    entries: tuple[LockEntry, ...] = ()

    def get(self, edition: str, part: str) -> LockEntry | None:
        """The entry of (edition, part), if one was recorded."""
        for entry in self.entries:
            if (entry.edition, entry.part) == (edition, part):
                return entry
        return None

    def with_entry(self, new: LockEntry) -> EditionLock:
        """A lock with ``new`` added, or replacing the entry of the same (edition, part)."""
        kept = [e for e in self.entries if (e.edition, e.part) != (new.edition, new.part)]
        return EditionLock(tuple(sorted([*kept, new])))


def render_lock(lock: EditionLock) -> str:
    """The lock file's text: deterministic, sorted, TOML."""
    lines = [_HEADER, f"lock_version = {LOCK_VERSION}\n"]
    for entry in sorted(lock.entries):
        lines.append("\n[[part]]\n")
        for key in _ENTRY_KEYS:
            value = getattr(entry, key)
            # json.dumps writes an ASCII string with only escapes TOML basic strings also have.
            text = str(value) if isinstance(value, int) else json.dumps(value)
            lines.append(f"{key} = {text}\n")
    return "".join(lines)


def write_lock(path: Path, lock: EditionLock) -> None:
    """Write ``lock`` to ``path`` atomically (temporary file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(render_lock(lock))
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def read_lock(path: Path) -> EditionLock:
    """Read the lock file; a missing file is an empty lock (nothing fetched yet).

    Raises
    ------
    StandardSourceError
        The file is not TOML, has another ``lock_version``, or an entry is malformed or
        repeated (the entry's index and key are named).
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return EditionLock()
    except OSError as exc:
        raise StandardSourceError(f"cannot read: {exc.strerror}", source_file=where) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StandardSourceError(f"not valid TOML: {exc}", source_file=where) from exc
    if data.get("lock_version") != LOCK_VERSION:
        raise StandardSourceError(
            f"key lock_version: expected {LOCK_VERSION}, found {data.get('lock_version')!r}",
            source_file=where,
        )
    unknown = sorted(set(data) - {"lock_version", "part"})
    if unknown:
        raise StandardSourceError(f"unknown key {unknown[0]}", source_file=where)
    tables = data.get("part", [])
    if not isinstance(tables, list):
        raise StandardSourceError("key part: expected [[part]] tables", source_file=where)
    lock = EditionLock()
    for index, table in enumerate(tables):
        entry = _entry(table, f"part[{index}]", where)
        if lock.get(entry.edition, entry.part) is not None:
            raise StandardSourceError(
                f"key part[{index}]: edition {entry.edition} part {entry.part} is locked twice",
                source_file=where,
            )
        lock = lock.with_entry(entry)
    return lock


def _entry(table: object, key: str, where: str) -> LockEntry:
    if not isinstance(table, dict) or set(table) != set(_ENTRY_KEYS):
        raise StandardSourceError(
            f"key {key}: expected exactly the keys {', '.join(_ENTRY_KEYS)}", source_file=where
        )
    for name in ("edition", "part", "url"):
        if not isinstance(table[name], str) or not table[name]:
            raise StandardSourceError(
                f"key {key}.{name}: expected a non-empty string", source_file=where
            )
    if not isinstance(table["sha256"], str) or not _SHA256.fullmatch(table["sha256"]):
        raise StandardSourceError(
            f"key {key}.sha256: expected 64 lowercase hex digits", source_file=where
        )
    size = table["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise StandardSourceError(
            f"key {key}.size: expected a byte count (integer >= 0)", source_file=where
        )
    return LockEntry(
        edition=table["edition"],
        part=table["part"],
        sha256=table["sha256"],
        size=size,
        url=table["url"],
    )
