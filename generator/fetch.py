"""Download the DocBook parts of an edition into the cache, verified (``standard fetch``).

Theory of operation
-------------------
* A part lands at ``<cache>/<edition>/partNN.xml`` (default cache: ``standard-xml/cache``,
  ignored by git).  It is streamed into a temporary file in that folder while its sha256 is
  computed, checked, flushed and fsynced, and only then renamed into place: an interrupted,
  oversized, timed-out or mismatching download leaves no file behind, and a good cached copy is
  never replaced by a bad one.
* The expected digest comes from ``editions.toml`` when known there, else from the lock file
  (:mod:`dicompile.generator.edition_lock`).  With neither, the download is a first fetch and its
  digest is recorded in the lock; from then on every fetch must match it.  The lock is written
  after each recorded part, so a run that fails half-way keeps what it verified.
* A part already cached whose digest matches is not downloaded again (``refresh`` forces it).
* Only ``http:`` and ``https:`` are spoken (the opener has no ``file:`` or ``ftp:`` handler, so
  a redirect cannot leave them either); loopback hosts are never sent through a proxy.
* ``timeout`` bounds every connect and every read (a stalled server fails, never hangs);
  ``max_bytes`` bounds the size.  Nothing here runs during generation or tests against NEMA:
  the generator reads local files only.
"""

from __future__ import annotations

import enum
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from dicompile.generator.edition_lock import EditionLock, LockEntry, read_lock, write_lock
from dicompile.generator.editions import Edition, EditionCatalog, PartSource, check_base_url
from dicompile.runtime.errors import StandardFetchError, StandardSourceError

_CHUNK = 1 << 16
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

Progress = Callable[[str], None]


class DigestOrigin(enum.Enum):
    """Where an expected sha256 comes from."""

    EDITIONS = "editions.toml"  # known in advance (for example NEMA's 2013 files in ../shared)
    LOCK = "lock file"  # recorded by the first fetch


class Check(enum.Enum):
    """How a fetched part was verified."""

    KNOWN = "matches the sha256 in editions.toml"
    LOCKED = "matches the sha256 in the lock file"
    RECORDED = "first fetch: sha256 recorded in the lock file"
    RELOCKED = "sha256 changed and re-recorded in the lock file (--update-lock)"


class Outcome(enum.Enum):
    """Whether a part was downloaded or found verified in the cache."""

    DOWNLOADED = "downloaded"
    CACHED = "already cached"


class CacheState(enum.Enum):
    """What the cache holds for a part (``dicompile standard list``)."""

    ABSENT = "absent"
    VERIFIED = "verified"  # cached, and its sha256 is the known or locked one
    UNVERIFIED = "unverified"  # cached, but no sha256 is known or locked to compare with
    MISMATCH = "MISMATCH"  # cached, and its sha256 differs: do not use it


@attrs.frozen
class Expected:
    """The sha256 a part must have, and where that requirement comes from."""

    sha256: str
    origin: DigestOrigin


@attrs.frozen
class FetchOptions:
    """Limits and policies of one fetch run."""

    timeout: float = 60.0  # seconds, per connect and per read
    max_bytes: int = 512 * 1024 * 1024  # the largest parts (PS3.3, PS3.16) are tens of MB
    refresh: bool = False  # download even when a verified copy is cached
    update_lock: bool = False  # accept a digest that differs from the lock (never editions.toml)


@attrs.frozen
class FetchedPart:
    """One part that is now in the cache and verified."""

    edition: str
    part: str
    path: Path
    url: str
    sha256: str
    size: int
    outcome: Outcome
    check: Check


def cache_path(cache_root: Path, edition: str, part: str) -> Path:
    """Where the cache keeps ``edition`` part ``part``: ``<cache>/<edition>/partNN.xml``."""
    return cache_root / edition / f"part{part}.xml"


def sha256_file(path: Path) -> str:
    """The sha256 of a file, as lowercase hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def expected_digest(
    catalog: EditionCatalog, edition: Edition, part: PartSource, lock: EditionLock
) -> Expected | None:
    """The sha256 ``part`` must have: from editions.toml, else from the lock, else ``None``.

    A part with a digest in both files that disagree is an error: one of the files is wrong.
    """
    locked = lock.get(edition.name, part.part)
    if part.sha256 is not None:
        if locked is not None and locked.sha256 != part.sha256:
            raise StandardSourceError(
                f"edition {edition.name} part {part.part}: sha256 {part.sha256} here but "
                f"{locked.sha256} in the lock file; correct one of them",
                source_file=str(catalog.source_file),
            )
        return Expected(part.sha256, DigestOrigin.EDITIONS)
    if locked is not None:
        return Expected(locked.sha256, DigestOrigin.LOCK)
    return None


def cache_state(
    catalog: EditionCatalog, edition: Edition, part: PartSource, cache_root: Path, lock: EditionLock
) -> CacheState:
    """Whether the cached copy of ``part`` exists and matches its expected sha256."""
    path = cache_path(cache_root, edition.name, part.part)
    if not path.is_file():
        return CacheState.ABSENT
    expected = expected_digest(catalog, edition, part, lock)
    if expected is None:
        return CacheState.UNVERIFIED
    return CacheState.VERIFIED if sha256_file(path) == expected.sha256 else CacheState.MISMATCH


def fetch_edition(
    catalog: EditionCatalog,
    edition_name: str,
    *,
    cache_root: Path,
    lock_path: Path,
    parts: Iterable[str] | None = None,
    base_url: str | None = None,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
) -> tuple[FetchedPart, ...]:
    """Fetch the parts of an edition into the cache, verifying each and updating the lock.

    Parameters
    ----------
    catalog
        The editions (``load_editions``).
    edition_name
        "2013", "2024c", ...; an unknown name raises, listing the known editions.
    cache_root, lock_path
        The cache folder and the lock file.
    parts
        Part numbers to fetch ("03", "6"); all of the edition's parts when ``None``.
    base_url
        Overrides ``catalog.base_url`` (a mirror, or a test server); http(s) only.
    options
        Timeout, size limit, refresh and lock policy.
    progress
        Called with one line per step (the command line prints them to stderr).

    Raises
    ------
    StandardFetchError
        A download failed (HTTP status, timeout, size) or a sha256 differs from the expected one;
        stops at the first such part.  Parts fetched before it stay cached and locked.

    References
    ----------
    NEMA's layout: ``<base>/<edition>/source/docbook/partNN/partNN.xml``.
    """
    edition = catalog.edition(edition_name)
    selected = edition.select(parts)
    base = check_base_url(base_url or catalog.base_url, origin="base URL")
    opts = options or FetchOptions()
    say = progress or (lambda _line: None)
    lock = read_lock(lock_path)
    fetched: list[FetchedPart] = []
    for part in selected:
        result, lock_entry = _fetch_part(catalog, edition, part, base, cache_root, lock, opts, say)
        if lock_entry is not None:
            lock = lock.with_entry(lock_entry)
            write_lock(lock_path, lock)
        fetched.append(result)
    return tuple(fetched)


def _fetch_part(
    catalog: EditionCatalog,
    edition: Edition,
    part: PartSource,
    base_url: str,
    cache_root: Path,
    lock: EditionLock,
    options: FetchOptions,
    say: Progress,
) -> tuple[FetchedPart, LockEntry | None]:
    """Fetch one part; returns it and the lock entry to record, if any."""
    url = edition.url(part, base_url)
    target = cache_path(cache_root, edition.name, part.part)
    label = f"{edition.name} part{part.part}"
    expected = expected_digest(catalog, edition, part, lock)
    if expected is not None and not options.refresh and target.is_file():
        digest = sha256_file(target)
        if digest == expected.sha256:
            say(f"{label}: already cached and verified ({target})")
            check = Check.KNOWN if expected.origin is DigestOrigin.EDITIONS else Check.LOCKED
            size = target.stat().st_size
            cached = FetchedPart(
                edition.name, part.part, target, url, digest, size, Outcome.CACHED, check
            )
            return cached, None
    say(f"{label}: downloading {url}")
    temp, digest, size = _download(url, target.parent, options, edition.name, part.part)
    try:
        check, entry = _verify(edition, part, url, digest, size, expected, options)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    say(f"{label}: {size} bytes, sha256 {digest}: {check.value}")
    return FetchedPart(
        edition.name, part.part, target, url, digest, size, Outcome.DOWNLOADED, check
    ), entry


def _verify(
    edition: Edition,
    part: PartSource,
    url: str,
    digest: str,
    size: int,
    expected: Expected | None,
    options: FetchOptions,
) -> tuple[Check, LockEntry | None]:
    """Compare a download's digest with the expected one; decide what the lock records."""
    entry = LockEntry(edition=edition.name, part=part.part, sha256=digest, size=size, url=url)
    if expected is None:
        return Check.RECORDED, entry
    if digest == expected.sha256:
        return (Check.KNOWN if expected.origin is DigestOrigin.EDITIONS else Check.LOCKED), None
    if expected.origin is DigestOrigin.LOCK and options.update_lock:
        return Check.RELOCKED, entry
    hint = ""
    if expected.origin is DigestOrigin.LOCK:
        hint = (
            f"; edition {edition.name} is an alias that moves with NEMA's releases: "
            "rerun with --update-lock to accept the new content"
            if edition.floating
            else "; if NEMA really republished it, rerun with --update-lock to accept it"
        )
    raise StandardFetchError(
        f"sha256 mismatch: expected {expected.sha256} ({expected.origin.value}), got {digest}; "
        f"the download was discarded{hint}",
        edition=edition.name,
        part=part.part,
        url=url,
    )


def _download(
    url: str, directory: Path, options: FetchOptions, edition: str, part: str
) -> tuple[Path, str, int]:
    """Stream ``url`` into a temporary file in ``directory``; returns (file, sha256, size).

    The temporary file is removed on any failure, which is reported as StandardFetchError.
    """

    def fail(message: str) -> StandardFetchError:
        return StandardFetchError(message, edition=edition, part=part, url=url)

    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".part{part}.", suffix=".download")
    temp = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, _opener(url).open(url, timeout=options.timeout) as reply:
            if reply.status != 200:
                raise fail(f"HTTP {reply.status} {reply.reason}: expected 200")
            announced = reply.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and int(announced) > options.max_bytes:
                raise fail(f"{announced} bytes announced, more than the limit {options.max_bytes}")
            while chunk := reply.read(_CHUNK):
                size += len(chunk)
                if size > options.max_bytes:
                    raise fail(f"more than the limit of {options.max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except (http.client.HTTPException, OSError) as exc:
        temp.unlink(missing_ok=True)
        raise fail(_describe(exc, options.timeout)) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest.hexdigest(), size


def _describe(exc: http.client.HTTPException | OSError, timeout: float) -> str:
    """A one-line account of a failed transfer."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, TimeoutError):
            return f"timed out: no answer within {timeout:g} s"
        return f"cannot download: {exc.reason}"
    if isinstance(exc, TimeoutError):
        return f"timed out: no data for {timeout:g} s"
    return f"transfer failed: {type(exc).__name__}: {exc}"


def _opener(url: str) -> urllib.request.OpenerDirector:
    """An opener that speaks http(s) only, follows redirects, and never proxies loopback."""
    host = urlsplit(url).hostname or ""
    proxies = urllib.request.ProxyHandler({} if host in _LOOPBACK else None)
    opener = urllib.request.OpenerDirector()
    for handler in (
        proxies,
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener
