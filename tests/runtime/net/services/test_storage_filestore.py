"""FileStore.write without a network: each instance becomes a whole Part 10 file, never
replacing another, fsynced (file, then folder) before it is reported stored; nothing is left
behind on failure.  Both kinds of unseen file run (O_TMPFILE and the named fallback).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from atomic_support import force_named, unnamed_supported

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.media.part10 import read_file
from dicompile.runtime.net.services.storage import FileStore, ReceivedInstance

_CT: str = "1.2.840.10008.5.1.4.1.1.2"
_EXPLICIT_LE: str = "1.2.840.10008.1.2.1"


@pytest.fixture(params=["unnamed", "named"])
def file_kind(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    kind: str = request.param
    if kind == "named":
        force_named(monkeypatch)
    elif not unnamed_supported(tmp_path):
        pytest.skip(f"O_TMPFILE and /proc/self/fd are not usable in {tmp_path}")
    return kind


def _instance(uid: str, name: str = "Doe^Jane") -> ReceivedInstance:
    dataset = Dataset(
        [
            DataElement(0x00080016, VR.UI, _CT),
            DataElement(0x00080018, VR.UI, uid),
            DataElement(0x00100010, VR.PN, name),
        ]
    )
    return ReceivedInstance(
        sop_class_uid=_CT,
        sop_instance_uid=uid,
        transfer_syntax=_EXPLICIT_LE,
        data_set=encode_dataset(dataset, CodecContext()),
        calling_ae_title="SCU",
        called_ae_title="SCP",
        message_id=1,
    )


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_each_instance_is_a_whole_file_and_never_replaces_another(
    tmp_path: Path, file_kind: str
) -> None:
    store = FileStore(tmp_path, fsync=False)
    first = store.write(_instance("1.2.3", "First"))
    second = store.write(_instance("1.2.3", "Second"))
    assert (first.name, second.name) == ("1.2.3.dcm", "1.2.3.1.dcm")
    assert _names(tmp_path) == ["1.2.3.1.dcm", "1.2.3.dcm"]
    assert read_file(first).dataset[0x00100010].value == "First"
    assert read_file(second).dataset[0x00100010].value == "Second"
    meta = read_file(second).meta
    assert meta[0x00020003].value == "1.2.3"
    assert meta[0x00020016].value == "SCU"  # Source AE Title


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_mode_is_0666_less_the_umask(tmp_path: Path, file_kind: str, umask: int) -> None:
    store = FileStore(tmp_path, fsync=False)
    old = os.umask(umask)
    try:
        path = store.write(_instance("1.2.3"))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_fsync_of_file_then_folder_before_it_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    events: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        events.append("directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    store = FileStore(tmp_path, fsync=True, on_stored=lambda i, p: events.append(p.name))
    store.write(_instance("1.2.3"))
    assert events == ["file", "directory", "1.2.3.dcm"]
    events.clear()
    FileStore(tmp_path, fsync=False).write(_instance("1.2.4"))
    assert events == []


@pytest.mark.parametrize("failing", ["writev", "fsync"])
def test_failure_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str, failing: str
) -> None:
    store = FileStore(tmp_path, fsync=True)
    kept = store.write(_instance("1.2.3"))

    def fail(*args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space"):
        store.write(_instance("1.2.4"))
    assert _names(tmp_path) == [kept.name]


def test_folder_fsync_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_kind: str
) -> None:
    # The name may not survive a power loss: the store must not answer Success.
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    stored: list[Path] = []
    store = FileStore(tmp_path, fsync=True, on_stored=lambda i, p: stored.append(p))
    with pytest.raises(OSError, match="Input/output"):
        store.write(_instance("1.2.3"))
    assert stored == []
