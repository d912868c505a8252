"""Tests of the fetcher (generator/fetch.py) against a real HTTP server on 127.0.0.1.

No test reaches the internet: every edition's ``base_url`` points at the loopback server.
Expected digests are computed here with hashlib from the bytes served, or come from
editions.toml for NEMA's 2013 files (checked against ../shared in test_editions.py).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_http import LoopbackServer, Stall, publish, serve

from dicompile.generator.edition_lock import LockEntry, read_lock
from dicompile.generator.editions import EditionCatalog, load_editions
from dicompile.generator.fetch import (
    CacheState,
    Check,
    FetchOptions,
    Outcome,
    cache_state,
    fetch_edition,
)
from dicompile.runtime.errors import StandardFetchError, StandardSourceError

REPO_EDITIONS = Path(__file__).resolve().parents[2] / "standard-xml" / "editions.toml"
PS33 = b"<book><subtitle>DICOM PS3.3 2099a</subtitle></book>\n"
PS36 = b"<book><subtitle>DICOM PS3.6 2099a</subtitle>" + b"x" * 5000 + b"</book>\n"
TOML = """
base_url = "{base}"

[editions."2099a"]
parts = ["03", "06"]

[editions.current]
floating = true
parts = ["03"]
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_in(folder: Path) -> list[str]:
    """Every file below ``folder`` (temporary ones included), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def www(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    root.mkdir()
    return root


@pytest.fixture
def server(www: Path) -> Iterator[LoopbackServer]:
    with serve(www) as running:
        yield running


@pytest.fixture
def catalog(tmp_path: Path, server: LoopbackServer) -> EditionCatalog:
    path = tmp_path / "editions.toml"
    path.write_text(TOML.format(base=server.base_url), encoding="utf-8")
    return load_editions(path)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    return tmp_path / "editions.lock"


FAST = FetchOptions(timeout=0.5)


def test_first_fetch_writes_cache_and_lock(
    www: Path, server: LoopbackServer, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "2099a", "03", PS33)
    publish(www, "2099a", "06", PS36)
    lines: list[str] = []
    fetched = fetch_edition(
        catalog, "2099a", cache_root=cache, lock_path=lock, options=FAST, progress=lines.append
    )
    assert [(f.part, f.outcome, f.check) for f in fetched] == [
        ("03", Outcome.DOWNLOADED, Check.RECORDED),
        ("06", Outcome.DOWNLOADED, Check.RECORDED),
    ]
    assert (cache / "2099a" / "part03.xml").read_bytes() == PS33
    assert (cache / "2099a" / "part06.xml").read_bytes() == PS36
    assert files_in(cache) == ["2099a/part03.xml", "2099a/part06.xml"]
    url03 = f"{server.base_url}2099a/source/docbook/part03/part03.xml"
    # Built separately: replacing "03" would also rewrite a port number such as 39003.
    url06 = f"{server.base_url}2099a/source/docbook/part06/part06.xml"
    assert read_lock(lock).entries == (
        LockEntry("2099a", "03", sha(PS33), len(PS33), url03),
        LockEntry("2099a", "06", sha(PS36), len(PS36), url06),
    )
    assert server.requests == [
        "/2099a/source/docbook/part03/part03.xml",
        "/2099a/source/docbook/part06/part06.xml",
    ]
    assert any(url03 in line for line in lines)
    assert any(sha(PS36) in line and "recorded" in line for line in lines)


def test_second_fetch_with_same_content_passes(
    www: Path, server: LoopbackServer, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "2099a", "03", PS33)
    fetch_edition(catalog, "2099a", parts=["3"], cache_root=cache, lock_path=lock, options=FAST)
    locked = lock.read_bytes()
    # A verified cached copy is not downloaded again ...
    again = fetch_edition(catalog, "2099a", parts=["03"], cache_root=cache, lock_path=lock)
    assert [(f.outcome, f.check) for f in again] == [(Outcome.CACHED, Check.LOCKED)]
    assert len(server.requests) == 1
    # ... unless asked; the new download matches the lock, which stays byte-identical.
    refreshed = fetch_edition(
        catalog,
        "2099a",
        parts=["03"],
        cache_root=cache,
        lock_path=lock,
        options=FetchOptions(timeout=0.5, refresh=True),
    )
    assert [(f.outcome, f.check) for f in refreshed] == [(Outcome.DOWNLOADED, Check.LOCKED)]
    assert len(server.requests) == 2
    assert lock.read_bytes() == locked
    # A fresh cache elsewhere, with the same lock, also verifies against the lock.
    other = fetch_edition(
        catalog, "2099a", parts=["03"], cache_root=cache.parent / "c2", lock_path=lock
    )
    assert other[0].check is Check.LOCKED


def test_changed_content_fails_and_leaves_nothing(
    www: Path, server: LoopbackServer, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "2099a", "03", PS33)
    fetch_edition(catalog, "2099a", parts=["03"], cache_root=cache, lock_path=lock, options=FAST)
    locked = lock.read_bytes()
    changed = PS33.replace(b"2099a", b"2099b")
    publish(www, "2099a", "03", changed)
    fresh = cache.parent / "fresh-cache"
    url = f"{server.base_url}2099a/source/docbook/part03/part03.xml"
    with pytest.raises(StandardFetchError) as caught:
        fetch_edition(catalog, "2099a", parts=["03"], cache_root=fresh, lock_path=lock)
    message = str(caught.value)
    assert (caught.value.edition, caught.value.part, caught.value.url) == ("2099a", "03", url)
    for expected in ("edition 2099a part 03", url, sha(PS33), sha(changed), "--update-lock"):
        assert expected in message
    assert files_in(fresh) == []  # neither the file nor a temporary one
    # Refreshing the existing cache fails the same way and keeps the good copy.
    with pytest.raises(StandardFetchError, match="sha256 mismatch"):
        fetch_edition(
            catalog,
            "2099a",
            parts=["03"],
            cache_root=cache,
            lock_path=lock,
            options=FetchOptions(refresh=True),
        )
    assert (cache / "2099a" / "part03.xml").read_bytes() == PS33
    assert files_in(cache) == ["2099a/part03.xml"]
    assert lock.read_bytes() == locked


def test_update_lock_accepts_new_content_of_a_floating_edition(
    www: Path, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "current", "03", PS33)
    fetch_edition(catalog, "current", cache_root=cache, lock_path=lock)
    newer = PS33 + b"<!-- next release -->\n"
    publish(www, "current", "03", newer)
    refresh = FetchOptions(refresh=True)
    with pytest.raises(StandardFetchError, match=r"current is an alias .* --update-lock"):
        fetch_edition(catalog, "current", cache_root=cache, lock_path=lock, options=refresh)
    accepted = fetch_edition(
        catalog,
        "current",
        cache_root=cache,
        lock_path=lock,
        options=FetchOptions(refresh=True, update_lock=True),
    )
    assert accepted[0].check is Check.RELOCKED
    assert read_lock(lock).get("current", "03").sha256 == sha(newer)  # type: ignore[union-attr]
    assert (cache / "current" / "part03.xml").read_bytes() == newer


def test_2013_part_verifies_against_the_known_digest(
    shared_dir: Path, www: Path, server: LoopbackServer, cache: Path, lock: Path
) -> None:
    real = shared_dir / "standard-xml" / "2013" / "part01.xml"
    shutil.copyfile(real, publish(www, "2013", "01", b""))
    catalog = load_editions(REPO_EDITIONS)
    fetched = fetch_edition(
        catalog, "2013", parts=["01"], cache_root=cache, lock_path=lock, base_url=server.base_url
    )
    assert fetched[0].check is Check.KNOWN
    assert fetched[0].sha256 == catalog.edition("2013").part("01").sha256
    assert (cache / "2013" / "part01.xml").read_bytes() == real.read_bytes()
    assert not lock.exists()  # known digests are not repeated in the lock
    assert (
        cache_state(
            catalog,
            catalog.edition("2013"),
            catalog.edition("2013").part("01"),
            cache,
            read_lock(lock),
        )
        is CacheState.VERIFIED
    )


def test_known_digest_mismatch_fails(
    www: Path, server: LoopbackServer, cache: Path, lock: Path
) -> None:
    publish(www, "2013", "01", b"<book>not NEMA's PS3.1</book>\n")
    catalog = load_editions(REPO_EDITIONS)
    known = catalog.edition("2013").part("01").sha256
    assert known is not None
    # --update-lock never overrides a digest that editions.toml knows.
    options = FetchOptions(timeout=0.5, update_lock=True)
    with pytest.raises(StandardFetchError) as caught:
        fetch_edition(
            catalog,
            "2013",
            parts=["1"],
            cache_root=cache,
            lock_path=lock,
            base_url=server.base_url,
            options=options,
        )
    assert f"expected {known} (editions.toml)" in str(caught.value)
    assert files_in(cache) == [] and not lock.exists()


def test_404_names_the_url_and_keeps_earlier_parts(
    www: Path, server: LoopbackServer, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "2099a", "03", PS33)  # part 06 is missing
    with pytest.raises(StandardFetchError, match=r"HTTP 404") as caught:
        fetch_edition(catalog, "2099a", cache_root=cache, lock_path=lock, options=FAST)
    assert caught.value.url == f"{server.base_url}2099a/source/docbook/part06/part06.xml"
    assert caught.value.url in str(caught.value)
    # The part verified before the failure stays cached and locked.
    assert files_in(cache) == ["2099a/part03.xml"]
    assert [e.part for e in read_lock(lock).entries] == ["03"]


def test_unknown_edition_lists_known_editions(
    catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    with pytest.raises(
        StandardSourceError, match=r"unknown edition '2024c'; known editions: 2099a, current"
    ):
        fetch_edition(catalog, "2024c", cache_root=cache, lock_path=lock)


@pytest.mark.parametrize("stall", [Stall.BEFORE_HEADERS, Stall.MID_BODY])
def test_a_stalled_server_times_out(
    www: Path,
    server: LoopbackServer,
    catalog: EditionCatalog,
    cache: Path,
    lock: Path,
    stall: Stall,
) -> None:
    publish(www, "2099a", "03", PS36)
    server.stall["/2099a/source/docbook/part03/part03.xml"] = stall
    start = time.monotonic()
    with pytest.raises(StandardFetchError, match=r"timed out"):
        fetch_edition(
            catalog,
            "2099a",
            parts=["03"],
            cache_root=cache,
            lock_path=lock,
            options=FetchOptions(timeout=0.3),
        )
    assert time.monotonic() - start < 5
    assert files_in(cache) == [] and not lock.exists()


def test_size_limit(www: Path, catalog: EditionCatalog, cache: Path, lock: Path) -> None:
    publish(www, "2099a", "06", PS36)
    with pytest.raises(StandardFetchError, match=r"limit"):
        fetch_edition(
            catalog,
            "2099a",
            parts=["06"],
            cache_root=cache,
            lock_path=lock,
            options=FetchOptions(max_bytes=100),
        )
    assert files_in(cache) == []


def test_redirects_stay_within_http(
    www: Path, server: LoopbackServer, catalog: EditionCatalog, cache: Path, lock: Path
) -> None:
    publish(www, "moved", "03", PS33)
    server.redirect["/2099a/source/docbook/part03/part03.xml"] = (
        f"{server.base_url}moved/source/docbook/part03/part03.xml"
    )
    fetched = fetch_edition(catalog, "2099a", parts=["03"], cache_root=cache, lock_path=lock)
    assert fetched[0].sha256 == sha(PS33)
    # A redirect to a local file is refused, not followed.
    secret = www.parent / "secret.txt"
    secret.write_text("local file", encoding="utf-8")
    server.redirect["/2099a/source/docbook/part06/part06.xml"] = secret.as_uri()
    with pytest.raises(StandardFetchError, match=r"not allowed"):
        fetch_edition(catalog, "2099a", parts=["06"], cache_root=cache, lock_path=lock)
    assert files_in(cache) == ["2099a/part03.xml"]


@pytest.mark.parametrize("base", ["file:///srv/dicom/", "ftp://mirror/dicom/", "127.0.0.1/x"])
def test_only_http_base_urls(catalog: EditionCatalog, cache: Path, lock: Path, base: str) -> None:
    with pytest.raises(StandardSourceError, match=r"not an absolute http"):
        fetch_edition(catalog, "2099a", cache_root=cache, lock_path=lock, base_url=base)


def test_editions_and_lock_disagreeing_is_an_error(
    www: Path, server: LoopbackServer, cache: Path, lock: Path
) -> None:
    lock.write_text(
        'lock_version = 1\n[[part]]\nedition = "2013"\npart = "01"\n'
        f'sha256 = "{"0" * 64}"\nsize = 1\nurl = "http://x/"\n',
        encoding="utf-8",
    )
    with pytest.raises(StandardSourceError, match=r"in the lock file; correct one of them"):
        fetch_edition(
            load_editions(REPO_EDITIONS),
            "2013",
            parts=["01"],
            cache_root=cache,
            lock_path=lock,
            base_url=server.base_url,
        )
    assert server.requests == []


def test_cache_states(www: Path, catalog: EditionCatalog, cache: Path, lock: Path) -> None:
    edition = catalog.edition("2099a")
    p03, p06 = edition.parts
    assert cache_state(catalog, edition, p03, cache, read_lock(lock)) is CacheState.ABSENT
    publish(www, "2099a", "03", PS33)
    fetch_edition(catalog, "2099a", parts=["03"], cache_root=cache, lock_path=lock)
    assert cache_state(catalog, edition, p03, cache, read_lock(lock)) is CacheState.VERIFIED
    (cache / "2099a" / "part06.xml").write_bytes(PS36)  # put there by hand: nothing to check
    assert cache_state(catalog, edition, p06, cache, read_lock(lock)) is CacheState.UNVERIFIED
    (cache / "2099a" / "part03.xml").write_bytes(PS33 + b" ")
    assert cache_state(catalog, edition, p03, cache, read_lock(lock)) is CacheState.MISMATCH
