"""The editions of the standard and where NEMA publishes their DocBook parts (``editions.toml``).

Theory of operation
-------------------
* ``standard-xml/editions.toml`` names, per edition ("2013", "2024c", "current"), the parts it
  has and, where known, each part's sha256.  A part's URL is ``base_url`` joined with its path,
  by default ``<edition>/source/docbook/partNN/partNN.xml`` (NEMA's layout under
  ``https://dicom.nema.org/medical/dicom/``); a ``paths`` table overrides it per part.  Paths
  are relative so that one ``--base-url`` redirects every part (to a mirror, or to a test
  server on 127.0.0.1).
* The file is read strictly: an unknown key, a malformed part number or digest, or a digest for a
  part the edition does not list is a :class:`StandardSourceError` naming the file and the key,
  because a typo there would silently disable a check.
* Editions keep the file's order (oldest first, by convention).

The folder is found by :func:`find_standard_dir`: ``./standard-xml`` when the command runs in a
checkout, else the checkout this package was imported from; an installed copy has neither, so
the command line then asks for ``--editions FILE``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import attrs

from dicompile.runtime.errors import StandardSourceError

EDITIONS_FILE = "editions.toml"
NEMA_BASE_URL = "https://dicom.nema.org/medical/dicom/"

_EDITION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PART = re.compile(r"\d{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOP_KEYS = frozenset({"base_url", "editions"})
_EDITION_KEYS = frozenset({"parts", "sha256", "paths", "floating", "note"})


@attrs.frozen
class PartSource:
    """One part of one edition: ``part`` is two digits ("03" for PS3.3)."""

    part: str
    path: str  # relative to the base URL, e.g. "2013/source/docbook/part03/part03.xml"
    sha256: str | None  # lowercase hex when known; otherwise the lock file records it

    @property
    def file_name(self) -> str:
        """The cached file's name, ``partNN.xml``."""
        return f"part{self.part}.xml"


@attrs.frozen
class Edition:
    """An edition of the standard as published by NEMA."""

    name: str
    parts: tuple[PartSource, ...]
    floating: bool = False  # an alias such as "current" whose content changes with each release
    note: str = ""

    def part(self, number: str) -> PartSource:
        """The part ``number`` ("3", "03"); :class:`StandardSourceError` if not in the edition."""
        wanted = normalise_part(number)
        for source in self.parts:
            if source.part == wanted:
                return source
        raise StandardSourceError(
            f"edition {self.name} has no part {wanted}; its parts are "
            + ", ".join(p.part for p in self.parts)
        )

    def select(self, numbers: Iterable[str] | None) -> tuple[PartSource, ...]:
        """The parts named in ``numbers`` in the edition's order, or all parts for ``None``."""
        if numbers is None:
            return self.parts
        wanted = {self.part(n).part for n in numbers}
        return tuple(p for p in self.parts if p.part in wanted)

    def url(self, part: PartSource, base_url: str) -> str:
        """The absolute URL of ``part`` under ``base_url`` (which ends with ``/``)."""
        return urljoin(base_url, part.path)


@attrs.frozen
class EditionCatalog:
    """Everything ``editions.toml`` says."""

    source_file: Path
    base_url: str
    editions: tuple[Edition, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The edition names in file order."""
        return tuple(e.name for e in self.editions)

    def edition(self, name: str) -> Edition:
        """The edition called ``name``; the error lists the known editions."""
        for edition in self.editions:
            if edition.name == name:
                return edition
        raise StandardSourceError(
            f"unknown edition {name!r}; known editions: {', '.join(self.names)}",
            source_file=str(self.source_file),
        )


def normalise_part(number: str) -> str:
    """``"3"``, ``"03"`` or ``"part03"`` → ``"03"``; anything else is a StandardSourceError."""
    text = number.strip().removeprefix("part")
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise StandardSourceError(f"not a part number: {number!r} (expected e.g. 3 or 03)")
    return f"{int(text):02d}"


def default_part_path(edition: str, part: str) -> str:
    """NEMA's location of a part's DocBook below the base URL."""
    return f"{edition}/source/docbook/part{part}/part{part}.xml"


def check_base_url(url: str, *, origin: str) -> str:
    """``url`` with a trailing ``/``; only absolute http(s) URLs are accepted.

    Other schemes (``file:``, ``ftp:``) are refused: the fetcher's job is to download and
    verify, and a local folder is given to the generator directly instead.  ``origin`` names
    where the URL came from (``editions.toml``, ``--base-url``) for the error message.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StandardSourceError(
            f"base URL {url!r} is not an absolute http:// or https:// URL", source_file=origin
        )
    return url if url.endswith("/") else url + "/"


def find_standard_dir(cwd: Path | None = None) -> Path | None:
    """The project's ``standard-xml/`` folder, or ``None`` when there is none to be found.

    Looks for ``standard-xml/editions.toml`` in ``cwd`` (default: the current directory), then
    in the source checkout this module was imported from (``generator/..``, through symlinks).
    An installed package carries no ``standard-xml/``: callers then need an explicit path.
    """
    here = Path.cwd() if cwd is None else cwd
    checkout = Path(__file__).resolve().parent.parent
    for root in (here, checkout):
        candidate = root / "standard-xml"
        if (candidate / EDITIONS_FILE).is_file():
            return candidate
    return None


def load_editions(path: Path) -> EditionCatalog:
    """Read and check ``editions.toml``.

    Raises
    ------
    StandardSourceError
        The file is missing, not TOML, or a key is unknown or malformed (the key is named).

    References
    ----------
    NEMA publishes each edition's DocBook source at
    ``https://dicom.nema.org/medical/dicom/<edition>/source/docbook/partNN/partNN.xml``.
    """
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StandardSourceError(f"cannot read: {exc.strerror}", source_file=where) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StandardSourceError(f"not valid TOML: {exc}", source_file=where) from exc
    _no_unknown_keys(data, _TOP_KEYS, "", where)
    base_url = NEMA_BASE_URL
    if "base_url" in data:
        base_url = check_base_url(_string(data, "base_url", "base_url", where), origin=where)
    tables = data.get("editions")
    if not isinstance(tables, dict) or not tables:
        raise StandardSourceError("key editions: expected a table of editions", source_file=where)
    editions = tuple(_edition(name, table, where) for name, table in tables.items())
    return EditionCatalog(source_file=path, base_url=base_url, editions=editions)


def _edition(name: str, table: object, where: str) -> Edition:
    key = f"editions.{name}"
    if not _EDITION_NAME.fullmatch(name):
        raise StandardSourceError(
            f"key {key}: an edition name is letters, digits, '.', '_' or '-'", source_file=where
        )
    if not isinstance(table, dict):
        raise StandardSourceError(f"key {key}: expected a table", source_file=where)
    _no_unknown_keys(table, _EDITION_KEYS, key, where)
    numbers = table.get("parts")
    if not isinstance(numbers, list) or not numbers:
        raise StandardSourceError(
            f"key {key}.parts: expected a non-empty list of part numbers", source_file=where
        )
    for number in numbers:
        if not isinstance(number, str) or not _PART.fullmatch(number):
            raise StandardSourceError(
                f"key {key}.parts: {number!r} is not a two-digit part number string",
                source_file=where,
            )
    if len(set(numbers)) != len(numbers):
        raise StandardSourceError(f"key {key}.parts: a part is listed twice", source_file=where)
    digests = _part_table(table, "sha256", key, numbers, where)
    for number, digest in digests.items():
        if not _SHA256.fullmatch(digest):
            raise StandardSourceError(
                f"key {key}.sha256.{number}: expected 64 lowercase hex digits", source_file=where
            )
    paths = _part_table(table, "paths", key, numbers, where)
    for number, path in paths.items():
        if urlsplit(path).scheme or path.startswith("/") or ".." in path.split("/"):
            raise StandardSourceError(
                f"key {key}.paths.{number}: a path is relative to base_url, without '..'",
                source_file=where,
            )
    floating = table.get("floating", False)
    if not isinstance(floating, bool):
        raise StandardSourceError(f"key {key}.floating: expected true or false", source_file=where)
    note = _string(table, "note", f"{key}.note", where) if "note" in table else ""
    parts = tuple(
        PartSource(
            part=number,
            path=paths.get(number, default_part_path(name, number)),
            sha256=digests.get(number),
        )
        for number in numbers
    )
    return Edition(name=name, parts=parts, floating=floating, note=note)


def _part_table(
    table: Mapping[str, object], name: str, key: str, numbers: list[str], where: str
) -> dict[str, str]:
    """A ``part -> string`` table such as ``sha256``; every part must be listed in ``parts``."""
    found = table.get(name, {})
    if not isinstance(found, dict):
        raise StandardSourceError(f"key {key}.{name}: expected a table", source_file=where)
    result: dict[str, str] = {}
    for number, value in found.items():
        if number not in numbers:
            raise StandardSourceError(
                f"key {key}.{name}.{number}: part {number} is not in {key}.parts",
                source_file=where,
            )
        if not isinstance(value, str):
            raise StandardSourceError(
                f"key {key}.{name}.{number}: expected a string", source_file=where
            )
        result[number] = value
    return result


def _string(table: Mapping[str, object], name: str, key: str, where: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value:
        raise StandardSourceError(f"key {key}: expected a non-empty string", source_file=where)
    return value


def _no_unknown_keys(
    table: Mapping[str, object], allowed: frozenset[str], key: str, where: str
) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        prefix = f"{key}." if key else ""
        raise StandardSourceError(
            f"unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})",
            source_file=where,
        )
