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
    """Bytes that do not follow PS3.5 / PS3.10; names file, byte offset and tag path.

    ``source`` (file name or other label), ``offset`` (byte position in it) and
    ``tag_path`` (e.g. ``(0008,1115)[0]/(0008,1150)``) are optional keywords; when given
    they are prefixed to the message and kept as attributes for callers.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        offset: int | None = None,
        tag_path: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.offset = offset
        self.tag_path = tag_path
        where = ", ".join(
            part
            for part in (
                source,
                f"byte {offset}" if offset is not None else None,
                f"at {tag_path}" if tag_path else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class DicomWarning(UserWarning):
    """Data that breaks PS3.5 / PS3.10 but was read anyway (lenient mode); says what was done."""


class EncodeError(DicomError):
    """A value or dataset that cannot be encoded as asked."""


class ValidationError(DicomError):
    """A dataset was required to conform and does not."""


class TypedDatasetError(ValidationError):
    """A data set cannot become (or come from) a generated typed class; names the tag path.

    Raised by ``from_dataset`` when a Type 1 attribute is missing or empty, or a value is not
    of the type its VR and VM give (PS3.5 §7.4, PS3.3 §5.4), and by ``to_dataset`` when two
    modules of an IOD give one attribute different values.
    """

    def __init__(self, message: str, *, tag_path: str | None = None) -> None:
        self.message = message
        self.tag_path = tag_path
        super().__init__(f"at {tag_path}: {message}" if tag_path else message)


class QueryError(DicomError):
    """A C-FIND / C-MOVE / C-GET identifier that cannot be processed (PS3.4 C.2.2.2, C.4.1).

    ``status`` is the DIMSE failure status an SCP answers with: 0xA900 (Identifier does not
    match SOP Class: empty, missing or misplaced keys, keys not valid for their VR) or
    0xC000 (Unable to process). ``tag_path`` names the key, e.g. ``(0040,0100)[0]/(0008,0060)``.
    """

    def __init__(self, message: str, *, tag_path: str | None = None, status: int = 0xA900) -> None:
        self.message = message
        self.tag_path = tag_path
        self.status = status
        super().__init__(f"at {tag_path}: {message}" if tag_path else message)


class NetworkError(DicomError):
    """Base of the networking errors (PS3.7, PS3.8)."""


class LocalProtocolError(NetworkError):
    """Our own API was misused (for example, sending data before association)."""


class RemoteProtocolError(NetworkError):
    """The peer sent bytes that break PS3.8 or PS3.7; maps to Evt19 and an A-P-ABORT."""


class MalformedPDUError(RemoteProtocolError):
    """Bytes that are not a valid PS3.8 §9.3 PDU (or PS3.8 Annex D / PS3.7 D.3.3 sub-item).

    Names the PDU type (``None`` when even that is unknown), the 0-based byte offset from
    the first byte of the PDU, and the A-ABORT reason (PS3.8 Table 9-26, byte 10) that the
    upper layer sends when it aborts because of it.
    """

    def __init__(
        self, message: str, *, pdu_type: int | None, offset: int, abort_reason: int = 6
    ) -> None:
        self.message = message
        self.pdu_type = pdu_type
        self.offset = offset
        self.abort_reason = abort_reason
        what = f"PDU type 0x{pdu_type:02X}" if pdu_type is not None else "PDU"
        super().__init__(f"{what}, byte offset {offset}: {message}")


class DIMSEProtocolError(RemoteProtocolError):
    """A DIMSE message, or the PDVs carrying it, break PS3.7 §6.3, §9.3, §10.3 or PS3.8 Annex E.

    Names what is known: the presentation context ID, the message (``"C-STORE-RQ"``), the
    command element tag and the byte offset in the command set.
    """

    def __init__(
        self,
        message: str,
        *,
        context_id: int | None = None,
        command: str | None = None,
        tag: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.message = message
        self.context_id = context_id
        self.command = command
        self.tag = tag
        self.offset = offset
        where = ", ".join(
            part
            for part in (
                f"presentation context {context_id}" if context_id is not None else None,
                command,
                f"({tag >> 16:04X},{tag & 0xFFFF:04X})" if tag is not None else None,
                f"command set byte {offset}" if offset is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class TransportConnectError(NetworkError):
    """The TCP (or TLS) connection to a peer could not be opened (PS3.8 §9.1.1); names it."""


class AssociationRejectedError(NetworkError):
    """The peer answered our A-ASSOCIATE-RQ with an A-ASSOCIATE-RJ (PS3.8 §9.3.4, Table 9-21).

    ``result``, ``source`` and ``reason`` are the RJ's fields as decoded (enum members of
    ``runtime.net.ul.pdu`` or ``Reserved``).
    """

    def __init__(self, message: str, *, result: object, source: object, reason: object) -> None:
        self.result = result
        self.source = source
        self.reason = reason
        super().__init__(message)


class AssociationAbortedError(NetworkError):
    """The association ended without an orderly release: A-ABORT, A-P-ABORT, a lost
    connection or a timeout (PS3.8 §7.3, §7.4); the message says which."""


class TLSConfigurationError(NetworkError):
    """A TLS setting or file (certificate, key, CA, cipher list) cannot be used (PS3.15
    Annex B secure transport profiles); names the setting or file."""
