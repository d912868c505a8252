"""The one exception hierarchy of dicompile (DESIGN.md, "Errors and data safety").

Every error names *what* went wrong and *where*: a file and byte offset and tag
path for data, a file, table id and row for the standard's sources, a PDU and
state for the network.  Subsystems add their subclasses here so that callers
can catch by fault (``DecodeError``) or catch everything (``DicomError``).
"""

from __future__ import annotations


class DicomError(Exception):
    """Base class of every error dicompile raises on purpose."""


class StandardSourceError(DicomError):
    """The standard's source text (DocBook, JSON rendition) could not be read.

    Carries the file, the table id and the row, so that a changed or broken
    edition is reported precisely instead of yielding a partial result.
    """

    def __init__(
        self,
        message: str,
        *,
        source_file: str | None = None,
        table_id: str | None = None,
        row: int | str | None = None,
    ) -> None:
        self.message = message
        self.source_file = source_file
        self.table_id = table_id
        self.row = row
        where = ", ".join(
            part
            for part in (
                source_file,
                f"table {table_id}" if table_id else None,
                f"row {row}" if row is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class StandardFetchError(StandardSourceError):
    """A part of an edition could not be downloaded, or its sha256 is not the recorded one.

    Names the edition, the part and the URL (``source_file``); no partial file is left behind.
    """

    def __init__(self, message: str, *, edition: str, part: str, url: str) -> None:
        self.edition = edition
        self.part = part
        self.url = url
        super().__init__(f"edition {edition} part {part}: {message}", source_file=url)


class DecodeError(DicomError):
    """Bytes that do not follow PS3.5 / PS3.10; names file, byte offset and tag path."""


class EncodeError(DicomError):
    """A value or dataset that cannot be encoded as asked."""


class ValidationError(DicomError):
    """A dataset was required to conform and does not."""


class NetworkError(DicomError):
    """Base of the networking errors (PS3.7, PS3.8)."""


class LocalProtocolError(NetworkError):
    """Our own API was misused (for example, sending data before association)."""


class RemoteProtocolError(NetworkError):
    """The peer sent bytes that break PS3.8 or PS3.7; maps to Evt19 and an A-P-ABORT."""
