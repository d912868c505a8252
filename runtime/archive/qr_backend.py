"""The archive behind the Query/Retrieve and Storage SCPs: the SQLite index adapted to
:class:`~dicompile.runtime.net.services.query_retrieve.QueryRetrieveArchive`, and a file
store that indexes what it stores.

Theory of operation
-------------------
* An archive is one folder: the Part 10 files written by
  :class:`~dicompile.runtime.net.services.storage.FileStore` and the index
  ``instances.sqlite`` beside them (:data:`INDEX_NAME`).
* Every instance is indexed once it is durable and before Success is answered (the store's
  ``on_stored`` hook, run in the store's worker thread with fsync, in the event loop's
  without: the index serialises its transactions under its own lock).  The index commits
  as durably as the files are written: ``synchronous=FULL`` with fsync, ``NORMAL``
  without (see :class:`SQLiteIndex`).  An
  instance the index refuses (no Study, Series or SOP Instance UID, PS3.4 C.2.2.1.1) stays
  stored but cannot be found; it is logged.
* Opening an archive whose index is empty indexes the ``*.dcm`` files already in the folder
  (for folders filled by ``dicompile serve`` before the index existed, or by hand).
* The archive's levels and models are its own enums (``levels.py``); this module maps the
  network layer's to them, so neither package changes shape for the other.

References
----------
PS3.4 B.4.2 (Storage SCP), C.4.1-C.4.3 (Query/Retrieve SCP behaviour), C.6.1, C.6.2.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final

from dicompile.runtime.archive.index import InstanceIndex, SQLiteIndex
from dicompile.runtime.archive.levels import QueryLevel
from dicompile.runtime.archive.levels import QueryModel as ArchiveModel
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.errors import DecodeError, DicomWarning, ValidationError
from dicompile.runtime.media.part10 import read_bytes, read_file
from dicompile.runtime.net.services.query_retrieve import Level, QueryModel
from dicompile.runtime.net.services.spool import DEFAULT_STREAM_THRESHOLD
from dicompile.runtime.net.services.storage import FileStore, ReceivedInstance

log = logging.getLogger("dicompile.archive")

#: The index file inside an archive folder.
INDEX_NAME: Final = "instances.sqlite"

#: Data sets up to this size are indexed from the bytes received (one copy in memory).
_COPY_LIMIT: Final = 16 * 1024 * 1024

_MODELS: Final = {
    QueryModel.PATIENT: ArchiveModel.PATIENT_ROOT,
    QueryModel.STUDY: ArchiveModel.STUDY_ROOT,
}


class IndexArchive:
    """An :class:`InstanceIndex` as the Q/R SCP's archive.

    References
    ----------
    PS3.4 C.4.1.2 (matching), C.4.2.2, C.4.3.2 (retrieve by unique keys).
    """

    def __init__(self, index: InstanceIndex) -> None:
        self.index = index

    def find(
        self, level: Level, identifier: Dataset, model: QueryModel, *, relational: bool
    ) -> Iterator[Dataset]:
        return self.index.find(
            QueryLevel(level.value), identifier, model=_MODELS[model], relational=relational
        )

    def locate(self, level: Level, uids: Sequence[str]) -> Iterator[str]:
        return self.index.instances(QueryLevel(level.value), uids)


def index_file(index: InstanceIndex, path: str | os.PathLike[str]) -> bool:
    """Add one Part 10 file to ``index``; False (logged) when it cannot be read or indexed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            dataset = read_file(path, stop_before_pixels=True, defer_size=None).dataset
        index.add(dataset, Path(path))
    except (OSError, DecodeError, ValidationError) as exc:
        log.warning("not indexed: %s: %s", path, exc)
        return False
    return True


def index_received(index: InstanceIndex, instance: ReceivedInstance, path: Path) -> bool:
    """Add an instance the store just wrote at ``path``, decoded from the bytes received
    (the same bytes as the file's, without opening and mapping it again); False (logged)
    when it cannot be decoded or indexed.

    A data set larger than :data:`_COPY_LIMIT` is read from the file instead (mapped, up to
    its pixel data), rather than copied whole behind its File Meta Information; so is a
    data set that was streamed to its file (``streamed_length`` set, no bytes held): the
    file holds exactly the bytes received, and reading its elements up to the pixel data
    indexes every attribute, where a bounded prefix could cut an element or miss the
    attributes after a large one.
    """
    if instance.streamed_length is not None or len(instance.data_set) > _COPY_LIMIT:
        return index_file(index, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            data = instance.file_prefix() + instance.data_set
            dataset = read_bytes(data, source=str(path), stop_before_pixels=True).dataset
        index.add(dataset, path)
    except (DecodeError, ValidationError) as exc:
        log.warning("not indexed: %s: %s", path, exc)
        return False
    return True


def open_archive(
    directory: str | os.PathLike[str],
    *,
    fsync: bool = True,
    on_stored: Callable[[ReceivedInstance, Path], None] | None = None,
    stream_threshold: int | None = DEFAULT_STREAM_THRESHOLD,
) -> tuple[SQLiteIndex, FileStore]:
    """The index and the indexing file store of the archive in ``directory`` (created).

    ``stream_threshold`` is the store's (:class:`FileStore`): data sets larger than it are
    written to their file as they arrive; 0 streams every one, ``None`` none.  Close the index
    when done.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    index = SQLiteIndex(folder / INDEX_NAME, durable=fsync)
    if index.count() == 0:
        added = sum(index_file(index, p) for p in sorted(folder.glob("*.dcm")))
        if added:
            log.info("indexed %d files already in %s", added, folder)

    def stored(instance: ReceivedInstance, path: Path) -> None:
        index_received(index, instance, path)
        if on_stored is not None:
            on_stored(instance, path)

    return index, FileStore(
        folder, fsync=fsync, on_stored=stored, stream_threshold=stream_threshold
    )


__all__ = ["INDEX_NAME", "IndexArchive", "index_file", "index_received", "open_archive"]
