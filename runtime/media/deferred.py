"""Values left in their file until used (PS3.10 files; the reader's ``defer_size``).

A large value -- Pixel Data above all -- is not copied when a file is parsed: the element
holds a :class:`FileSpan` (path, offset, length) and reads the bytes on first access.
Writers stream a span in chunks (:meth:`FileSpan.iter_chunks`), so copying a file of any
size needs memory for its header only.

The file may change after it was parsed.  A span remembers the file's size, modification
time and inode, and refuses to read (:class:`DecodeError`) when any of them differ, rather
than return bytes of another file.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from typing import BinaryIO

import attrs

from dicompile.runtime.errors import DecodeError


@attrs.frozen
class FileIdentity:
    """What identifies one version of a file: size, modification time, device and inode."""

    size: int
    mtime_ns: int
    device: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


@attrs.frozen
class FileSpan:
    """``length`` bytes at ``offset`` of the file at ``path`` (a deferred value)."""

    path: str
    offset: int
    length: int
    identity: FileIdentity = attrs.field(repr=False)

    def _open_checked(self) -> BinaryIO:
        try:
            stream = open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise DecodeError(
                f"deferred value cannot be read: {exc}", source=self.path, offset=self.offset
            ) from exc
        if FileIdentity.of(os.fstat(stream.fileno())) != self.identity:
            stream.close()
            raise DecodeError(
                "the file changed since it was read; its deferred value is gone "
                "(read the file again)",
                source=self.path,
                offset=self.offset,
            )
        return stream

    def read(self) -> bytes:
        """The bytes of the value (one read; checks the file is the one parsed)."""
        return b"".join(self.iter_chunks(max(self.length, 1)))

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        """The bytes in chunks of at most ``chunk_size``."""
        with self._open_checked() as stream:
            stream.seek(self.offset)
            remaining = self.length
            while remaining > 0:
                chunk = stream.read(min(chunk_size, remaining))
                if not chunk:
                    raise DecodeError(
                        f"file ended {remaining} bytes before the end of a deferred value",
                        source=self.path,
                        offset=self.offset + self.length - remaining,
                    )
                remaining -= len(chunk)
                yield chunk

    def read_range(self, start: int, length: int) -> bytes:
        """``length`` bytes from ``start`` within the value (one frame of pixel data)."""
        if start < 0 or length < 0 or start + length > self.length:
            raise ValueError(f"bytes {start}-{start + length} are outside the value")
        return b"".join(
            FileSpan(self.path, self.offset + start, length, self.identity).iter_chunks(
                max(length, 1)
            )
        )

    def map(self) -> memoryview:
        """The value as a read-only memoryview of a mapping of the file (no read until used).

        The mapping lives as long as the view (and views of it) do.
        """
        with self._open_checked() as stream:
            aligned = self.offset - self.offset % mmap.ALLOCATIONGRANULARITY
            mapping = mmap.mmap(
                stream.fileno(),
                self.offset - aligned + self.length,
                offset=aligned,
                access=mmap.ACCESS_READ,
            )
        view = memoryview(mapping)
        return view[self.offset - aligned : self.offset - aligned + self.length]


@attrs.frozen
class SpanFactory:
    """Makes :class:`FileSpan` objects for one parsed file (the reader's ``defer``)."""

    path: str
    identity: FileIdentity
    #: Added to buffer offsets to get file offsets (the buffer may start inside the file).
    base: int = 0

    def __call__(self, offset: int, length: int) -> FileSpan:
        return FileSpan(self.path, self.base + offset, length, self.identity)
