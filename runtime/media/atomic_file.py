"""Files that appear whole or not at all: written unseen, then given their name.

Theory of operation
-------------------
A reader must never see half a DICOM file, and a failed write must leave nothing behind
(DESIGN.md, "Errors and data safety"; the Storage SCP answers Success only once the file is
in place, PS3.4 B.2.3).  :func:`new_file` returns a :class:`NewFile`: an open file that no
one can reach by a name yet.  The caller writes its bytes (:func:`writev_all`), optionally
flushes them to the disk (:meth:`NewFile.sync`), then publishes it under its name, either

* :meth:`NewFile.replace`: the target is replaced atomically if it exists (a reader sees the
  old file or the whole new one; :func:`~dicompile.runtime.media.part10.write_file`), or
* :meth:`NewFile.link`: the name must be free, an existing file is never replaced
  (:class:`~dicompile.runtime.net.services.storage.FileStore`);

and, for durability, flushes the directory (:func:`fsync_directory`).  Leaving the ``with``
block closes the file and removes whatever is not published: on any error the target is
untouched and the directory holds nothing new.

Two kinds of unseen file, chosen per file:

1. Linux (3.11+, on file systems that support it: ext4, xfs, btrfs, tmpfs...): an unnamed
   inode in the target's directory, ``open(directory, O_TMPFILE)``, later given its name by
   ``linkat`` of ``/proc/self/fd/N`` with ``AT_SYMLINK_FOLLOW`` (linkat(2); the path is
   resolved at each call, so threads and forked children need nothing special).  Creating a
   new file costs one directory operation (the link) instead of two (create the temporary
   name, rename it), and a crash leaves no stray file: measured on ext4, writing 3000 new
   files of 4 KB took 26 us each this way against 38 us with a named temporary file (60 KB
   files: 40 against 53 us).  When the target exists (or another writer created it first),
   the inode is linked under a temporary name and renamed over it.
2. Elsewhere (no ``O_TMPFILE``: other systems, a file system without it -- EOPNOTSUPP,
   EISDIR from kernels before 3.11, EINVAL -- or no ``/proc``): a hidden file beside the
   target, ``.{name}.{pid}.{serial}.tmp``, created exclusively (``O_EXCL``: never an
   existing file, nor a symlink's target) and renamed or hard-linked into place.

Either way the file is created with mode 0666 less the umask, as any new file (a
``tempfile.mkstemp`` file would keep 0600 after the rename), and is not inherited by
child processes.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
from collections.abc import Iterator, Sequence
from typing import Final, TypeAlias

#: What :func:`writev_all` writes: any contiguous bytes.
Buffer: TypeAlias = bytes | bytearray | memoryview

#: Mode of new files before the umask, as ``open(..., "w")`` uses.
_MODE: Final = 0o666
#: A named temporary file: new (O_EXCL), write only, not inherited, binary on Windows.
_NAMED_FLAGS: Final = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
#: Where a process finds its open files by number (Linux procfs).
_PROC_FDS: Final = "/proc/self/fd"
#: open(O_TMPFILE) errors that mean "not here" rather than "cannot write here" (open(2)).
_NO_TMPFILE: Final = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL})
#: Longest target name (UTF-8 bytes) kept in a temporary name; longer ones are cut so the
#: temporary name stays under NAME_MAX (255 on common file systems).
_TEMP_STEM_MAX: Final = 200
#: Serial numbers of temporary names; with the process id they make a name no other live
#: writer uses (next() of itertools.count is atomic under the GIL, so threads are safe).
_temp_serial: Final = itertools.count()
#: Most buffers one writev takes (POSIX IOV_MAX; 1024 on Linux and the BSDs).
IOV_MAX: Final = 1024


def _unnamed_flags(proc_fds: str = _PROC_FDS) -> int:
    """The open flags of an unnamed file, or 0 where one could not be given a name later:
    no ``O_TMPFILE`` (not Linux), or no ``/proc`` to name its descriptor by."""
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir(proc_fds):
        return 0
    return os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC


#: See :func:`_unnamed_flags`; looked up once (neither changes while a process runs).
_UNNAMED_FLAGS: Final = _unnamed_flags()


def _temporary_names(directory: str, name: str) -> Iterator[str]:
    """Candidate temporary names ``.{name}.{pid}.{serial}.tmp`` beside the target.

    The caller takes the first one it can create exclusively: a name in use (left by a
    crashed process whose pid came back, or made by someone else) is skipped, never opened
    or replaced.
    """
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > _TEMP_STEM_MAX:
        name = encoded[:_TEMP_STEM_MAX].decode("utf-8", "ignore")
    prefix = os.path.join(directory, f".{name}.{os.getpid()}.")
    for _ in range(1000):
        yield f"{prefix}{next(_temp_serial)}.tmp"


def _no_free_name(directory: str, name: str) -> FileExistsError:
    where = directory or os.curdir
    return FileExistsError(errno.EEXIST, f"no free temporary name beside {name!r} in {where!r}")


class NewFile:
    """An open file not yet reachable by its name (see the module text).

    Use as a context manager: leaving the block closes the file and removes anything not
    published (an unnamed inode vanishes by itself; a named temporary file is unlinked).

    Attributes
    ----------
    fd
        The open descriptor, write only.
    unnamed
        True for an ``O_TMPFILE`` inode, False for a named temporary file.
    """

    __slots__ = ("_closed", "_directory", "_name", "_temp", "fd", "unnamed")

    def __init__(self, fd: int, directory: str, name: str, temp: str | None) -> None:
        self.fd = fd
        self.unnamed = temp is None
        self._directory = directory
        self._name = name
        self._temp = temp
        self._closed = False

    def __enter__(self) -> NewFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync(self) -> None:
        """Flush the file's data and metadata to the disk (fsync; before publishing)."""
        os.fsync(self.fd)

    def link(self, target: str | os.PathLike[str]) -> None:
        """Give the file the name ``target``, which must be free.

        Raises
        ------
        FileExistsError
            ``target`` exists; it is untouched and the file can be linked elsewhere.
        """
        if self._temp is None:
            # linkat(AT_SYMLINK_FOLLOW) of the /proc link to the open file.  os.link calls
            # linkat only when given a directory descriptor, and plain link(2) does not
            # follow the /proc link (EXDEV); the path is absolute, so linkat ignores the
            # descriptor given (linkat(2)) -- this file's own will do.
            os.link(f"{_PROC_FDS}/{self.fd}", target, src_dir_fd=self.fd, follow_symlinks=True)
        else:
            os.link(self._temp, target)

    def replace(self, target: str | os.PathLike[str]) -> None:
        """Give the file the name ``target``, atomically replacing any file of that name."""
        if self._temp is None:
            try:
                self.link(target)
                return
            except FileExistsError:
                # The target exists, or a racing writer made it after we looked: rename
                # over it, the last writer wins as with any replacement.
                self._temp = self._link_temporary()
        self._close_fd()  # Windows cannot rename an open file
        os.replace(self._temp, target)
        self._temp = None

    def _link_temporary(self) -> str:
        for temp in _temporary_names(self._directory, self._name):
            try:
                self.link(temp)
            except FileExistsError:
                continue
            return temp
        raise _no_free_name(self._directory, self._name)

    def close(self) -> None:
        """Close the file and remove its temporary name, if any (idempotent)."""
        self._close_fd()
        if self._temp is not None:
            temp, self._temp = self._temp, None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def _close_fd(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)


def new_file(directory: str | os.PathLike[str], name: str) -> NewFile:
    """An unseen new file in ``directory``, to be published as ``name`` or another name.

    ``name`` only makes the temporary name recognisable (when one is needed); the file is
    published by :meth:`NewFile.replace` or :meth:`NewFile.link`.

    Raises
    ------
    OSError
        The directory cannot hold a new file (missing, not writable, full...).

    References
    ----------
    DESIGN.md "Errors and data safety"; open(2) O_TMPFILE, linkat(2) AT_SYMLINK_FOLLOW.
    """
    folder = os.fspath(directory)
    if _UNNAMED_FLAGS:
        try:
            fd = os.open(folder or os.curdir, _UNNAMED_FLAGS, _MODE)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
        else:
            return NewFile(fd, folder, name, None)
    for temp in _temporary_names(folder, name):
        try:
            fd = os.open(temp, _NAMED_FLAGS, _MODE)
        except FileExistsError:
            continue
        return NewFile(fd, folder, name, temp)
    raise _no_free_name(folder, name)


def writev_all(fd: int, buffers: Sequence[Buffer]) -> int:
    """Write every byte of ``buffers`` to ``fd`` with ``writev``, :data:`IOV_MAX` buffers a
    call, continued where the system wrote less (signals, Linux's 2 GiB per call); returns
    the bytes written."""
    if len(buffers) > IOV_MAX:
        return sum(
            writev_all(fd, buffers[start : start + IOV_MAX])
            for start in range(0, len(buffers), IOV_MAX)
        )
    if not hasattr(os, "writev"):  # pragma: no cover - Windows
        for buffer in buffers:
            view = memoryview(buffer)
            while view:
                view = view[os.write(fd, view) :]
        return sum(map(len, buffers))
    total = sum(map(len, buffers))
    done = os.writev(fd, buffers)
    if done == total:
        return total
    views = [memoryview(buffer) for buffer in buffers if len(buffer)]
    while True:
        while done >= len(views[0]):
            done -= len(views.pop(0))
            if not views:
                return total
        views[0] = views[0][done:]
        done = os.writev(fd, views)


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Flush a directory's entries to the disk, making a new name durable (fsync(2)).

    A no-op where directories cannot be opened (Windows) or fsynced (EINVAL: the file
    system has nothing to flush).

    Raises
    ------
    OSError
        The directory cannot be opened or flushed (EIO...): the name may not be durable.
    """
    if os.name == "nt":  # pragma: no cover - Windows
        return
    fd = os.open(os.fspath(directory) or os.curdir, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


__all__ = ["IOV_MAX", "Buffer", "NewFile", "fsync_directory", "new_file", "writev_all"]
