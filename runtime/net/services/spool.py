"""A received data set spooled to its unpublished Part 10 file as its fragments arrive.

Theory of operation
-------------------
A Storage SCP that writes each instance to a file (PS3.4 B.4.2, PS3.10 §7.1) need not hold
the data set in memory: :class:`FileSpool` is the
:class:`~dicompile.runtime.net.dimse.DataSink` the reassembler gives each data fragment
(PS3.8 Annex E) of one C-STORE-RQ.

* Up to ``threshold`` bytes the fragments are kept in memory; a data set that ends there is
  handed back whole (:meth:`FileSpool.finish` returns its bytes), and is stored exactly as
  before -- small instances cost no extra file operation.
* Past it, an unseen new file is opened beside its final name
  (:func:`~dicompile.runtime.media.atomic_file.new_file`: an ``O_TMPFILE`` inode, or a
  hidden temporary name), the preamble, "DICM" and File Meta Information are written, then
  the fragments kept and every later one, gathered into ``writev`` calls of up to
  :data:`FLUSH_BYTES` (or :data:`~dicompile.runtime.media.atomic_file.IOV_MAX` buffers).
  The memory held per association is therefore at most ``threshold`` + ``FLUSH_BYTES``
  plus one PDU, whatever the data set's size.
* Once the last fragment came, the store publishes the file (:attr:`FileSpool.file`, linked
  under a free name after an optional fsync) and only then answers Success.
* A failure to write (a full disk...) does not break the association: it is remembered
  (:attr:`FileSpool.error`), the file is dropped and later fragments are ignored, and the
  store answers with a failure status once the data set is complete (PS3.4 Table B.2-1).
* :meth:`FileSpool.discard` (an aborted association, a malformed message) closes the file:
  an unnamed inode vanishes, a named temporary file is unlinked.  Nothing half written is
  ever visible under a DICOM file name.

References
----------
PS3.4 B.2.3, B.4.2; PS3.8 Annex E; PS3.10 §7.1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

from dicompile.runtime.media.atomic_file import IOV_MAX, NewFile, new_file, writev_all

#: Default size past which a received data set goes to its file rather than memory.
DEFAULT_STREAM_THRESHOLD: Final = 1 << 20
#: Bytes of fragments gathered before one ``writev``.
FLUSH_BYTES: Final = 1 << 18


class FileSpool:
    """The data set of one C-STORE-RQ, kept in memory up to ``threshold`` bytes, then
    written to an unpublished file (see the module text).

    Parameters
    ----------
    directory
        Where the file will be published (the unseen file is made there).
    name
        The intended file name (used only in a temporary name, when one is needed).
    prefix
        Makes the preamble, "DICM" and File Meta Information written before the data set.
    threshold
        Bytes kept in memory before spooling to the file (0: always spool).

    Attributes
    ----------
    length
        Bytes of data set received so far.
    error
        The error that stopped the writing, if any (nothing is then stored): an
        ``OSError`` from the file system, or the File Meta Information's encoding error.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        name: str,
        prefix: Callable[[], bytes],
        *,
        threshold: int = DEFAULT_STREAM_THRESHOLD,
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.length = 0
        self.error: Exception | None = None
        self._prefix = prefix
        self._threshold = threshold
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._file: NewFile | None = None
        self._done = False

    @property
    def file(self) -> NewFile:
        """The unpublished file holding the whole data set (after :meth:`finish` returned
        None, without :attr:`error`); the caller publishes it and then :meth:`discard`\\ s.

        Raises
        ------
        Exception
            The data set could not be written (:attr:`error`); OSError when it was not
            spooled.
        """
        if self.error is not None:
            raise self.error
        if self._file is None or not self._done:
            raise OSError(f"{self.name}: the data set is not in a finished file")
        return self._file

    @property
    def spooled(self) -> bool:
        """True once the data set goes to the file rather than memory (or failed to)."""
        return self._file is not None or self.error is not None

    def write(self, fragment: bytes) -> None:
        """Take the next data fragment (never raises: a write error is kept in :attr:`error`)."""
        self.length += len(fragment)
        if self.error is not None or not fragment:
            return
        self._held.append(fragment)
        self._held_bytes += len(fragment)
        if self._file is None:
            if self._held_bytes > self._threshold:
                self._open()
        elif self._held_bytes >= FLUSH_BYTES or len(self._held) >= IOV_MAX:
            self._flush()

    def finish(self) -> bytes | None:
        """The last fragment came: the data set's bytes if it stayed in memory, else None
        (the file is complete, or :attr:`error` says why not)."""
        self._done = True
        if not self.spooled:
            data = b"".join(self._held)
            self._held, self._held_bytes = [], 0
            return data
        if self.error is None:
            self._flush()
        return None

    def discard(self) -> None:
        """Close the file, removing it unless it was published (idempotent)."""
        self._held, self._held_bytes = [], 0
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def _open(self) -> None:
        try:
            prefix = self._prefix()
            self._file = new_file(self.directory, self.name)
        except Exception as exc:  # kept for the response; the association goes on
            self._failed(exc)
            return
        self._held.insert(0, prefix)
        self._flush()

    def _flush(self) -> None:
        assert self._file is not None
        held, self._held, self._held_bytes = self._held, [], 0
        try:
            writev_all(self._file.fd, held)
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self.error = exc
        self.discard()


__all__ = ["DEFAULT_STREAM_THRESHOLD", "FLUSH_BYTES", "FileSpool"]
