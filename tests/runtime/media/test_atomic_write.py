"""write_file's atomic write path: unseen new file, writev, link or rename, optional fsync
(PS3.10 §7; runtime/media/atomic_file.py).

Every failure must leave the target as it was and no temporary file behind; the temporary
name must never clobber an existing file; new files get the usual mode; ``durable`` decides
whether the file and its directory are fsynced.  Tests taking ``file_kind`` run with the
O_TMPFILE file of Linux and again with the named temporary file (conftest.py).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from atomic_support import force_named

import dicompile.runtime
from dicompile.runtime import read_file
from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.transfer_syntax import EXPLICIT_LE as EXPLICIT_VR_LITTLE_ENDIAN_SYNTAX
from dicompile.runtime.codec.transfer_syntax import IMPLICIT_LE as IMPLICIT_VR_LITTLE_ENDIAN_SYNTAX
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, DeferredSource, raw_element
from dicompile.runtime.core.vr import VR
from dicompile.runtime.media import atomic_file
from dicompile.runtime.media.part10 import file_bytes, write_file

_PIXELS = 0x7FE00010


def _dataset(pixels: bytes | DeferredSource = b"\x01\x02" * 8) -> Dataset:
    ds = Dataset(
        [
            DataElement(0x00080016, VR.UI, "1.2.840.10008.5.1.4.1.1.7"),
            DataElement(0x00080018, VR.UI, "1.2.3.4.5"),
            DataElement(0x00100010, VR.PN, "Doe^Jane"),
        ]
    )
    if isinstance(pixels, bytes):
        ds.add(DataElement(_PIXELS, VR.OB, pixels))
    else:
        ds.add(raw_element(_PIXELS, VR.OB, pixels, CodecContext()))
    return ds


@attrs.frozen
class _Source:
    """A deferred value of ``chunks`` chunks of ``size`` bytes that fails after ``good``
    chunks (a file that vanished or changed while it was being copied)."""

    size: int
    chunks: int
    good: int | None = None

    @property
    def length(self) -> int:
        return self.size * self.chunks

    def read(self) -> bytes:
        return b"".join(self.iter_chunks(self.size))

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        for index in range(self.chunks):
            if self.good is not None and index >= self.good:
                raise OSError(errno.EIO, "the source file went away")
            yield bytes([index % 251]) * self.size


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_streamed_value_is_written_whole(tmp_path: Path, file_kind: str) -> None:
    path = tmp_path / "big.dcm"
    source = _Source(size=1 << 16, chunks=40)  # 2.5 MiB: several writev calls
    size = write_file(path, _dataset(source))
    assert size == path.stat().st_size
    assert read_file(path, defer_size=None).dataset[_PIXELS].value == source.read()
    assert _names(tmp_path) == ["big.dcm"]


def test_failure_midway_through_a_deferred_value_leaves_nothing(
    tmp_path: Path, file_kind: str
) -> None:
    path = tmp_path / "keep.dcm"
    write_file(path, _dataset())
    before = path.read_bytes()
    # The data set encodes fine; the third chunk of its pixel data fails while streamed.
    broken = _dataset(_Source(size=1 << 20, chunks=4, good=2))
    with pytest.raises(OSError, match="went away"):
        write_file(path, broken)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["keep.dcm"]


def test_failure_of_the_disk_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    real_writev = os.writev
    calls: list[int] = []

    def writev(fd: int, buffers: list[bytes]) -> int:
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writev(fd, buffers)

    monkeypatch.setattr(os, "writev", writev)
    path = tmp_path / "new.dcm"
    with pytest.raises(OSError, match="No space"):
        write_file(path, _dataset(_Source(size=1 << 20, chunks=3)))
    assert len(calls) == 2  # the first chunk was on disk (in the temporary file)
    assert _names(tmp_path) == []  # no target, no temporary file


def test_short_writes_are_continued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    # writev may write less than asked (a signal, Linux's 2 GiB limit): the rest follows.
    real_writev = os.writev

    def writev(fd: int, buffers: list[bytes]) -> int:
        first = memoryview(buffers[0])
        return real_writev(fd, [first[: max(1, len(first) // 3)]])

    monkeypatch.setattr(os, "writev", writev)
    path = tmp_path / "short.dcm"
    dataset = _dataset(_Source(size=1000, chunks=5))
    assert write_file(path, dataset) == len(file_bytes(dataset))
    assert path.read_bytes() == file_bytes(dataset)


def test_failure_of_the_rename_leaves_nothing(tmp_path: Path, file_kind: str) -> None:
    target = tmp_path / "occupied"
    target.mkdir()  # a directory cannot be replaced by a file
    (target / "inside").write_bytes(b"x")
    with pytest.raises(OSError):
        write_file(target, _dataset())
    assert _names(tmp_path) == ["occupied"]
    assert _names(target) == ["inside"]


def test_temporary_name_in_use_is_skipped_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    force_named(monkeypatch)
    # Files left by another writer (a crashed process whose pid came back) under the names
    # the next serial numbers would give: they are skipped and survive untouched.
    path = tmp_path / "x.dcm"
    upcoming = next(atomic_file._temp_serial) + 1
    squatters = [tmp_path / f".x.dcm.{os.getpid()}.{upcoming + n}.tmp" for n in range(3)]
    for squatter in squatters:
        squatter.write_bytes(b"someone else's")
    write_file(path, _dataset())
    assert read_file(path).dataset == _dataset()
    assert all(squatter.read_bytes() == b"someone else's" for squatter in squatters)
    assert _names(tmp_path) == sorted(["x.dcm"] + [s.name for s in squatters])


@pytest.mark.parametrize("existing", [False, True])
def test_temporary_name_collision_never_follows_a_symlink(
    tmp_path: Path, file_kind: str, existing: bool
) -> None:
    # With O_TMPFILE a temporary name is used only to replace an existing target.
    if existing:
        write_file(tmp_path / "x.dcm", _dataset())
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    upcoming = next(atomic_file._temp_serial) + 1
    (tmp_path / f".x.dcm.{os.getpid()}.{upcoming}.tmp").symlink_to(victim)
    write_file(tmp_path / "x.dcm", _dataset())
    assert victim.read_bytes() == b"precious"
    assert read_file(tmp_path / "x.dcm").dataset == _dataset()


def test_no_free_temporary_name_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    force_named(monkeypatch)
    real_open = os.open

    def taken(path: str, flags: int, mode: int = 0o777, **kw: int | None) -> int:
        if flags & os.O_EXCL:
            raise FileExistsError(errno.EEXIST, "File exists")
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", taken)
    with pytest.raises(FileExistsError, match="no free temporary name"):
        write_file(tmp_path / "x.dcm", _dataset())


@pytest.mark.parametrize("existing", [False, True])
def test_long_target_names_get_a_temporary_name_that_fits(
    tmp_path: Path, file_kind: str, existing: bool
) -> None:
    name = "é" * 120 + ".dcm"  # 244 bytes in UTF-8: with the suffixes past NAME_MAX (255)
    if existing:
        (tmp_path / name).write_bytes(b"old")
    write_file(tmp_path / name, _dataset())
    assert read_file(tmp_path / name).dataset == _dataset()
    assert _names(tmp_path) == [name]


def test_relative_path_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_file("here.dcm", _dataset(), durable=True)
    assert _names(tmp_path) == ["here.dcm"]
    assert read_file(tmp_path / "here.dcm").dataset == _dataset()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_mode_follows_the_umask(tmp_path: Path, umask: int, file_kind: str) -> None:
    path = tmp_path / "mode.dcm"
    old = os.umask(umask)
    try:
        write_file(path, _dataset())
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_temporary_file_is_not_inherited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    seen: list[bool] = []
    real_writev = os.writev

    def writev(fd: int, buffers: list[bytes]) -> int:
        seen.append(os.get_inheritable(fd))
        return real_writev(fd, buffers)

    monkeypatch.setattr(os, "writev", writev)
    write_file(tmp_path / "x.dcm", _dataset())
    assert seen == [False]


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each fsync as "file" or "directory" (what the descriptor is)."""
    calls: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


@pytest.mark.parametrize("existing", [False, True])
def test_durable_fsyncs_the_file_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str, existing: bool
) -> None:
    path = tmp_path / "durable.dcm"
    if existing:
        path.write_bytes(b"old")
    calls: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        # What is flushed, and whether the target already holds the new file by then.
        what = "directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        calls.append((what, path.exists() and path.stat().st_size > 3))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_file(path, _dataset(), durable=True)
    # The file before it gets its name, the directory after.
    assert calls == [("file", False), ("directory", True)]
    assert read_file(path).dataset == _dataset()


@pytest.mark.parametrize("front_door", [True, False])
def test_default_is_atomic_without_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, front_door: bool, file_kind: str
) -> None:
    calls = _count_fsyncs(monkeypatch)
    writer = dicompile.runtime.write_file if front_door else write_file
    writer(tmp_path / "quick.dcm", _dataset())
    assert calls == []
    assert _names(tmp_path) == ["quick.dcm"]


def test_meta_elements_follow_each_call_not_the_first(tmp_path: Path) -> None:
    # The constant part of the meta group is made once per combination and shared: each
    # file must still get its own syntax, implementation and SOP Instance UID.
    from dicompile.runtime.media.part10 import IMPLEMENTATION_CLASS_UID, build_meta

    first = _dataset()
    second = _dataset()
    second.add(DataElement(0x00080018, VR.UI, "1.2.3.4.6"))
    plain = build_meta(first, EXPLICIT_VR_LITTLE_ENDIAN_SYNTAX)
    other = build_meta(
        second,
        IMPLICIT_VR_LITTLE_ENDIAN_SYNTAX,
        implementation_class_uid="1.2.3.99",
        implementation_version_name=None,
    )
    again = build_meta(first, EXPLICIT_VR_LITTLE_ENDIAN_SYNTAX)
    assert plain[0x00020010].value == again[0x00020010].value == "1.2.840.10008.1.2.1"
    assert plain[0x00020012].value == IMPLEMENTATION_CLASS_UID
    assert plain[0x00020003].value == "1.2.3.4.5"
    assert 0x00020013 in plain and 0x00020013 in again
    assert other[0x00020010].value == "1.2.840.10008.1.2"
    assert other[0x00020012].value == "1.2.3.99"
    assert other[0x00020003].value == "1.2.3.4.6"
    assert 0x00020013 not in other  # None: no Implementation Version Name
    base = Dataset([DataElement(0x00020013, VR.SH, "OLD NAME")])
    assert 0x00020013 not in build_meta(
        first, EXPLICIT_VR_LITTLE_ENDIAN_SYNTAX, base=base, implementation_version_name=None
    )
    for name, syntax in (("e.dcm", None), ("i.dcm", "1.2.840.10008.1.2")):
        write_file(tmp_path / name, first, transfer_syntax=syntax)
    assert read_file(tmp_path / "e.dcm").transfer_syntax.uid == "1.2.840.10008.1.2.1"
    assert read_file(tmp_path / "i.dcm").transfer_syntax.uid == "1.2.840.10008.1.2"
    assert read_file(tmp_path / "i.dcm").dataset[0x00100010].value == "Doe^Jane"


def test_meta_sop_uids_are_the_data_set_bytes(tmp_path: Path) -> None:
    # A data set as read: its SOP Class/Instance UIDs go into the meta group byte for byte.
    from dicompile.runtime.media.part10 import build_meta

    path = tmp_path / "read.dcm"
    write_file(path, _dataset(), transfer_syntax="1.2.840.10008.1.2.2")  # big endian
    read = read_file(path)
    meta = build_meta(read.dataset, read.transfer_syntax)
    assert meta[0x00020003].raw == read.dataset[0x00080018].raw == b"1.2.3.4.5\x00"
    assert meta[0x00020002].value == "1.2.840.10008.5.1.4.1.1.7"
    copy = tmp_path / "copy.dcm"
    write_file(copy, read, transfer_syntax="1.2.840.10008.1.2.1")
    again = read_file(copy)
    assert again.meta[0x00020003].value == again.dataset[0x00080018].value == "1.2.3.4.5"
    assert again.meta[0x00020010].value == "1.2.840.10008.1.2.1"


def test_write_pieces_to_a_stream_keeps_order_and_bytes() -> None:
    # The plain-stream writer: small pieces joined, large ones written alone, deferred
    # ones streamed; the bytes and their order must be those of the encoding.
    import io

    from dicompile.runtime.codec.writer import write_pieces

    class Recording(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.sizes.append(len(data))
            return super().write(data)

    big = bytearray(b"B" * 100_000)
    pieces: list[bytearray | DeferredSource] = [
        bytearray(b"a" * 10),
        bytearray(b"b" * 20),
        big,
        bytearray(b"c" * 5),
        _Source(size=7, chunks=3),
        bytearray(b"d" * 3),
    ]
    stream = Recording()
    expected = b"a" * 10 + b"b" * 20 + bytes(big) + b"c" * 5 + _Source(7, 3).read() + b"d" * 3
    assert write_pieces(pieces, stream) == len(expected)
    assert stream.getvalue() == expected
    assert stream.sizes == [30, 100_000, 5, 7, 7, 7, 3]
