"""atomic_file: a new file is invisible until published, and nothing is left on failure.

Each behaviour is checked on both kinds of unseen file (``file_kind``: the Linux O_TMPFILE
inode, and the named temporary file forced by refusing O_TMPFILE).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from atomic_support import force_named, is_unnamed_open, unnamed_supported

from dicompile.runtime.media import atomic_file
from dicompile.runtime.media.atomic_file import fsync_directory, new_file, writev_all


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _write(folder: Path, name: str, data: bytes, *, replace: bool = True) -> None:
    with new_file(folder, name) as pending:
        writev_all(pending.fd, [data[:3], data[3:]])
        if replace:
            pending.replace(folder / name)
        else:
            pending.link(folder / name)


def test_the_file_is_unseen_until_published(tmp_path: Path, file_kind: str) -> None:
    with new_file(tmp_path, "a.dcm") as pending:
        assert pending.unnamed is (file_kind == "unnamed")
        assert writev_all(pending.fd, [b"abc", bytearray(b"de"), memoryview(b"f")]) == 6
        # No name yet that a reader could open as the target; a named temporary is hidden.
        assert all(name.startswith(".a.dcm.") for name in _names(tmp_path))
        assert len(_names(tmp_path)) == (0 if pending.unnamed else 1)
        pending.replace(tmp_path / "a.dcm")
    assert _names(tmp_path) == ["a.dcm"]
    assert (tmp_path / "a.dcm").read_bytes() == b"abcdef"


@pytest.mark.parametrize("code", [errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL])
def test_fallback_when_the_file_system_refuses_o_tmpfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    refused = force_named(monkeypatch, code)
    with new_file(tmp_path, "x.dcm") as pending:
        assert not pending.unnamed
        writev_all(pending.fd, [b"data"])
        pending.replace(tmp_path / "x.dcm")
    assert len(refused) == (1 if atomic_file._UNNAMED_FLAGS else 0)
    assert _names(tmp_path) == ["x.dcm"]
    assert (tmp_path / "x.dcm").read_bytes() == b"data"


def test_no_unnamed_files_without_proc_or_o_tmpfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without /proc an O_TMPFILE inode could be written but never named: not even tried.
    assert atomic_file._unnamed_flags(str(tmp_path / "no-proc")) == 0
    if atomic_file._UNNAMED_FLAGS:
        assert atomic_file._unnamed_flags() == atomic_file._UNNAMED_FLAGS
    real_open = os.open
    tried: list[bool] = []

    def recording_open(path: str, flags: int, mode: int = 0o777, **kw: int | None) -> int:
        tried.append(is_unnamed_open(flags))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(atomic_file, "_UNNAMED_FLAGS", 0)
    _write(tmp_path, "x.dcm", b"no proc")
    assert tried == [False]
    assert (tmp_path / "x.dcm").read_bytes() == b"no proc"
    assert _names(tmp_path) == ["x.dcm"]


def test_other_open_errors_are_not_hidden_by_the_fallback(tmp_path: Path, file_kind: str) -> None:
    with pytest.raises(FileNotFoundError):
        new_file(tmp_path / "missing", "x.dcm")
    assert _names(tmp_path) == []


def test_replace_over_an_existing_file(tmp_path: Path, file_kind: str) -> None:
    target = tmp_path / "x.dcm"
    target.write_bytes(b"old contents")
    with target.open("rb") as reader:  # a reader of the old file keeps reading it whole
        _write(tmp_path, "x.dcm", b"new")
        assert reader.read() == b"old contents"
    assert target.read_bytes() == b"new"
    assert _names(tmp_path) == ["x.dcm"]


def test_a_racing_writer_creates_the_target_before_the_link(tmp_path: Path, file_kind: str) -> None:
    # The target did not exist when the file was made; another writer creates it before
    # ours is published: ours still replaces it (last writer wins), nothing stays behind.
    target = tmp_path / "x.dcm"
    with new_file(tmp_path, "x.dcm") as pending:
        writev_all(pending.fd, [b"ours"])
        target.write_bytes(b"theirs")
        pending.replace(target)
    assert target.read_bytes() == b"ours"
    assert _names(tmp_path) == ["x.dcm"]


def test_unnamed_file_linked_to_a_temporary_name_skips_names_in_use(tmp_path: Path) -> None:
    if not unnamed_supported(tmp_path):
        pytest.skip("O_TMPFILE is not usable here")
    target = tmp_path / "x.dcm"
    target.write_bytes(b"old")
    upcoming = next(atomic_file._temp_serial) + 1
    squatters = [tmp_path / f".x.dcm.{os.getpid()}.{upcoming + n}.tmp" for n in range(3)]
    for squatter in squatters:
        squatter.write_bytes(b"someone else's")
    _write(tmp_path, "x.dcm", b"new")
    assert target.read_bytes() == b"new"
    assert all(squatter.read_bytes() == b"someone else's" for squatter in squatters)
    assert _names(tmp_path) == sorted(["x.dcm"] + [s.name for s in squatters])


def test_link_never_replaces(tmp_path: Path, file_kind: str) -> None:
    taken = tmp_path / "x.dcm"
    taken.write_bytes(b"someone else's")
    with new_file(tmp_path, "x.dcm") as pending:
        writev_all(pending.fd, [b"mine"])
        with pytest.raises(FileExistsError):
            pending.link(taken)
        pending.link(tmp_path / "x.1.dcm")
    assert taken.read_bytes() == b"someone else's"
    assert (tmp_path / "x.1.dcm").read_bytes() == b"mine"
    assert _names(tmp_path) == ["x.1.dcm", "x.dcm"]


@pytest.mark.parametrize("existing", [False, True])
def test_error_while_writing_leaves_nothing_and_the_target_untouched(
    tmp_path: Path, file_kind: str, existing: bool
) -> None:
    target = tmp_path / "x.dcm"
    if existing:
        target.write_bytes(b"keep me")
    with pytest.raises(RuntimeError, match="encoder broke"), new_file(tmp_path, "x.dcm") as pending:
        writev_all(pending.fd, [b"half a file"])
        raise RuntimeError("encoder broke")
    assert _names(tmp_path) == (["x.dcm"] if existing else [])
    if existing:
        assert target.read_bytes() == b"keep me"


def test_failed_publication_leaves_nothing(tmp_path: Path, file_kind: str) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()  # a directory is never replaced by a file
    with pytest.raises(OSError), new_file(tmp_path, "occupied") as pending:
        writev_all(pending.fd, [b"x"])
        pending.replace(occupied)
    assert _names(tmp_path) == ["occupied"]
    assert occupied.is_dir()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
@pytest.mark.parametrize("existing", [False, True])
def test_mode_is_0666_less_the_umask(
    tmp_path: Path, file_kind: str, umask: int, existing: bool
) -> None:
    target = tmp_path / "x.dcm"
    if existing:
        target.write_bytes(b"old")
        target.chmod(0o600)
    old = os.umask(umask)
    try:
        _write(tmp_path, "x.dcm", b"data")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_the_descriptor_is_not_inherited(tmp_path: Path, file_kind: str) -> None:
    with new_file(tmp_path, "x.dcm") as pending:
        assert not os.get_inheritable(pending.fd)


@pytest.mark.parametrize("length", [255, 300])
@pytest.mark.parametrize("existing", [False, True])
def test_names_too_long_for_the_file_system_fail_cleanly(
    tmp_path: Path, file_kind: str, length: int, existing: bool
) -> None:
    # 255 bytes is the longest name ext4 & co. take; the temporary name must still fit.
    name = "é" * ((length - 4) // 2) + "a" * ((length - 4) % 2) + ".dcm"
    assert len(name.encode()) == length
    target = tmp_path / name
    if length > 255:
        with pytest.raises(OSError) as caught:
            _write(tmp_path, name, b"data")
        assert caught.value.errno == errno.ENAMETOOLONG
        assert _names(tmp_path) == []
        return
    if existing:
        target.write_bytes(b"old")
    _write(tmp_path, name, b"data")
    assert target.read_bytes() == b"data"
    assert _names(tmp_path) == [name]


def test_close_is_idempotent(tmp_path: Path, file_kind: str) -> None:
    pending = new_file(tmp_path, "x.dcm")
    pending.close()
    pending.close()
    assert _names(tmp_path) == []
    with pytest.raises(OSError):
        os.fstat(pending.fd)


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_writev = os.writev
    calls: list[int] = []

    def writev(fd: int, buffers: list[bytes]) -> int:
        calls.append(len(buffers))
        first = memoryview(buffers[0])
        return real_writev(fd, [first[: max(1, len(first) // 3)]])

    monkeypatch.setattr(os, "writev", writev)
    parts = [b"", b"0123456789", b"", b"abcdef", b"XY"]
    with new_file(tmp_path, "x.dcm") as pending:
        assert writev_all(pending.fd, parts) == 18
        pending.replace(tmp_path / "x.dcm")
    assert (tmp_path / "x.dcm").read_bytes() == b"".join(parts)
    assert len(calls) > 3


def test_fsync_directory_reports_errors_but_not_einval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def fsync(fd: int) -> None:
        seen.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)
    code = errno.EINVAL  # nothing to flush on this file system
    fsync_directory(tmp_path)
    code = errno.EIO
    with pytest.raises(OSError) as caught:
        fsync_directory(tmp_path)
    assert caught.value.errno == errno.EIO
    assert seen == [True, True]
    with pytest.raises(FileNotFoundError):
        fsync_directory(tmp_path / "missing")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_links_its_own_files(tmp_path: Path) -> None:
    # /proc/self names the calling process: a forked child links its own file.
    _write(tmp_path, "parent.dcm", b"parent")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            _write(tmp_path, "child.dcm", b"child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "child.dcm").read_bytes() == b"child"
    assert _names(tmp_path) == ["child.dcm", "parent.dcm"]


def test_writev_all_takes_more_buffers_than_one_call_may(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # POSIX writev takes at most IOV_MAX buffers; writev_all splits longer lists itself.
    calls: list[int] = []
    real = os.writev

    def counting(fd: int, buffers: list[bytes]) -> int:
        calls.append(len(buffers))
        assert len(buffers) <= atomic_file.IOV_MAX
        return real(fd, buffers)

    monkeypatch.setattr(os, "writev", counting)
    parts = [bytes([i % 256]) * 3 for i in range(2 * atomic_file.IOV_MAX + 5)]
    target = tmp_path / "many"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    try:
        assert writev_all(fd, parts) == 3 * len(parts)
    finally:
        os.close(fd)
    assert calls == [atomic_file.IOV_MAX, atomic_file.IOV_MAX, 5]
    assert target.read_bytes() == b"".join(parts)
