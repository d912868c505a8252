"""The Storage Service Class: C-STORE SCU and SCP (PS3.4 Annex B; PS3.7 §9.1.1).

Theory of operation
-------------------
SCU (:func:`probe`, :func:`plan_contexts`, :func:`store_instance`, :func:`store_instances`):

* A file is first *probed*: its File Meta Information gives the SOP Class, SOP Instance
  and Transfer Syntax UIDs, and the byte offset where the data set starts.  The data set is
  sent as the file holds it whenever the peer accepted that transfer syntax: no decoding,
  no re-encoding (a deflated data set is sent still deflated, PS3.5 A.5).
* Contexts are proposed per SOP class: one per transfer syntax the files are in, and one
  with the uncompressed syntaxes (Explicit VR Little Endian first) as a fallback when any of
  the files is uncompressed.  When the peer accepted only another uncompressed syntax, the
  data set is decoded and re-encoded in it (transcoding between the native syntaxes of
  PS3.5 A.1-A.3, A.5); compressed pixel data is never recompressed.
* With an asynchronous operations window above 1 several C-STORE-RQs are outstanding at
  once (PS3.7 D.3.3.3).

SCP (:class:`FileStore`, :func:`storage_handler`):

* Each received instance becomes a Part 10 file: preamble, "DICM", a File Meta Information
  made from the C-STORE-RQ (SOP Class/Instance, the context's Transfer Syntax, the calling
  AE title as Source AE Title), then the data set bytes exactly as received.  The file is
  written unseen in the storage folder (:mod:`~dicompile.runtime.media.atomic_file`: an
  unnamed file on Linux, a hidden temporary one elsewhere), fsynced (unless disabled),
  then linked to its final name without ever replacing an existing file, and the folder is
  fsynced: only then is Success answered (DESIGN.md, "Errors and data safety").
* File names come from the SOP Instance UID: a valid UID (digits and dots, at most 64) is
  used as is, anything else is reduced to ``[0-9A-Za-z._-]`` and suffixed with a hash of the
  original, so no name can leave the folder or start with a dot; a name already taken gets
  ``.1``, ``.2``, ... before ``.dcm``.
* A failure to store answers a failure status, never Success: A700H (Refused: Out of
  Resources, PS3.4 B.2.3) when the disk or a system limit is exhausted, 0110H (Processing
  Failure, PS3.7 C.4.3) for any other error; 0122H (SOP Class Not Supported) when the
  Affected SOP Class is not the context's abstract syntax.  A partly received data set
  (abort, lost connection) is never published: see below.
* Large data sets are streamed (:mod:`~dicompile.runtime.net.services.spool`): the
  handler of :func:`storage_handler` is a
  :class:`~dicompile.runtime.net.association.StreamingRequestHandler`; for a store that can
  take a stream (:class:`StreamingStore`, e.g. :class:`FileStore`), each data set past the
  store's ``stream_threshold`` is written to its unpublished file fragment by fragment as
  it arrives, and published once whole (memory per association stays bounded, as
  dcmtk's storescp).  An abort or a malformed message mid-data-set closes the file, which
  vanishes.  Smaller data sets are received whole in memory, as before.
* An application replaces or wraps the file writer with any :class:`StoreHandler`: an
  ``async`` callable taking a :class:`ReceivedInstance` and returning a
  :class:`StoreOutcome`.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import hashlib
import logging
import os
import re
import warnings
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import ReadOptions, read_dataset
from dicompile.runtime.codec.transfer_syntax import TransferSyntax, transfer_syntax
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import (
    DecodeError,
    DicomWarning,
    EncodeError,
    LocalProtocolError,
    NetworkError,
)
from dicompile.runtime.media.atomic_file import NewFile, fsync_directory, new_file, writev_all
from dicompile.runtime.net.ae import UNCOMPRESSED, SupportedContext
from dicompile.runtime.net.association import Association, RequestHandler
from dicompile.runtime.net.dimse import (
    CStoreRQ,
    CStoreRSP,
    DataSink,
    Priority,
    Request,
    Response,
    StatusCategory,
    status_category,
)
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext
from dicompile.runtime.net.services.spool import DEFAULT_STREAM_THRESHOLD, FileSpool

log = logging.getLogger("dicompile.net.storage")

SUCCESS: Final = 0x0000
#: PS3.4 B.2.3 "Refused: Out of Resources" (A7xx).
OUT_OF_RESOURCES: Final = 0xA700
#: PS3.7 C.4.3 "Processing Failure".
PROCESSING_FAILURE: Final = 0x0110
#: PS3.7 C.5.21 "Refused: SOP Class Not Supported".
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122
#: errno values that mean "out of resources" rather than "this went wrong".
_RESOURCE_ERRNOS: Final = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)

_META_GROUP_END: Final = 0x00030000
_MEDIA_SOP_CLASS: Final = 0x00020002
_MEDIA_SOP_INSTANCE: Final = 0x00020003
_TRANSFER_SYNTAX: Final = 0x00020010
_SOURCE_AE_TITLE: Final = 0x00020016
_SOP_CLASS: Final = 0x00080016
_SOP_INSTANCE: Final = 0x00080018
_PROBE_SIZE: Final = 1 << 16


def storage_sop_classes(*, include_retired: bool = True) -> tuple[str, ...]:
    """The Storage SOP Class UIDs of the generated UID registry (PS3.4 B.5, PS3.6 Annex A).

    Every registered SOP class whose keyword ends in ``Storage``, except the Media Storage
    Directory (DICOMDIR, a media-only class, PS3.10).
    """
    from dicompile.generated.uids import UIDS

    return tuple(
        sorted(
            entry.uid
            for entry in UIDS.values()
            if entry.type == "SOP Class"
            and entry.keyword.endswith("Storage")
            and entry.keyword != "MediaStorageDirectoryStorage"
            and (include_retired or not entry.retired)
        )
    )


def accepted_transfer_syntaxes() -> tuple[str, ...]:
    """Every transfer syntax of the registry, uncompressed first: a Storage SCP that keeps
    the data set as received can accept any of them."""
    from dicompile.generated.uids import TRANSFER_SYNTAXES

    others = sorted(uid for uid in TRANSFER_SYNTAXES if uid not in UNCOMPRESSED)
    return (*UNCOMPRESSED, *others)


def storage_scp_contexts(
    sop_classes: Iterable[str] | None = None, transfer_syntaxes: Sequence[str] | None = None
) -> tuple[SupportedContext, ...]:
    """Supported contexts of a Storage SCP: every storage SOP class by default, each with
    every transfer syntax (SCP role only)."""
    syntaxes = tuple(transfer_syntaxes or accepted_transfer_syntaxes())
    classes = storage_sop_classes() if sop_classes is None else tuple(sop_classes)
    return tuple(SupportedContext(uid, syntaxes, scu=False, scp=True) for uid in classes)


# --------------------------------------------------------------------------------------
# SCU
# --------------------------------------------------------------------------------------


@attrs.frozen
class Instance:
    """A file to send: its UIDs, its transfer syntax and where its data set starts.

    ``data_set_offset`` is None when the file has no usable File Meta Information; its data
    set is then decoded and re-encoded for sending.
    """

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    data_set_offset: int | None


def _meta_end(data: bytes, source: str) -> tuple[Dataset, int] | None:
    """The File Meta Information at the start of ``data`` and where it ends, if complete."""
    if len(data) >= 132 and data[128:132] == b"DICM":
        pos = 132
    elif data[:4] == b"DICM":
        pos = 4
    else:
        return None
    if data[pos : pos + 2] != b"\x02\x00" or data[pos + 4 : pos + 6] != b"UL":
        return None
    group_length = int.from_bytes(data[pos + 8 : pos + 12], "little")
    end = pos + 12 + group_length
    if end > len(data):
        return None
    meta, stop, _ = read_dataset(
        data[:end],
        CodecContext(),
        offset=pos,
        options=ReadOptions(stop_before=_META_GROUP_END, stop_below=0x00020000, source=source),
    )
    if stop != end:
        return None
    return meta, end


def _text(meta: Dataset, tag: int) -> str | None:
    element = meta.get(tag)
    value = element.value if element is not None else None
    return value if isinstance(value, str) and value else None


def probe(path: str | os.PathLike[str]) -> Instance:
    """What :func:`store_instance` needs to know of a file, from its meta information.

    Files without a complete meta group are read whole (lenient) to find their UIDs.

    Raises
    ------
    DecodeError
        The file is not DICOM, or has no SOP Class / SOP Instance UID.
    OSError
        The file cannot be read.

    References
    ----------
    PS3.10 §7.1, Table 7.1-1.
    """
    name = os.fspath(path)
    with open(name, "rb") as stream:
        head = stream.read(_PROBE_SIZE)
        found = _meta_end(head, name)
        if found is None and len(head) == _PROBE_SIZE:
            head += stream.read()
            found = _meta_end(head, name)
    if found is not None:
        meta, end = found
        sop_class = _text(meta, _MEDIA_SOP_CLASS)
        sop_instance = _text(meta, _MEDIA_SOP_INSTANCE)
        syntax = _text(meta, _TRANSFER_SYNTAX)
        if sop_class and sop_instance and syntax:
            return Instance(name, sop_class, sop_instance, transfer_syntax(syntax).uid, end)
    from dicompile.runtime.media.part10 import read_file

    with warnings.catch_warnings():
        # Read leniently only to find the UIDs; a file without them is refused below.
        warnings.simplefilter("ignore", DicomWarning)
        file = read_file(name, stop_before_pixels=True, defer_size=None)
    sop_class = _text(file.dataset, _SOP_CLASS)
    sop_instance = _text(file.dataset, _SOP_INSTANCE)
    if not (sop_class and sop_instance):
        raise DecodeError("no SOP Class UID or SOP Instance UID: cannot be stored", source=name)
    return Instance(name, sop_class, sop_instance, file.transfer_syntax.uid, None)


def plan_contexts(instances: Iterable[Instance], *, limit: int = 128) -> list[ProposedContext]:
    """Presentation contexts to propose for ``instances`` (see the module's theory).

    At most ``limit`` (128, PS3.8 §9.3.2.2); instances whose SOP class does not fit are
    then refused by :func:`store_instance` for want of a context.
    """
    by_class: dict[str, list[str]] = {}
    for instance in instances:
        syntaxes = by_class.setdefault(instance.sop_class_uid, [])
        if instance.transfer_syntax not in syntaxes:
            syntaxes.append(instance.transfer_syntax)
    proposed: list[ProposedContext] = []
    for sop_class, syntaxes in by_class.items():
        for syntax in syntaxes:
            proposed.append(ProposedContext(sop_class, (syntax,)))
        if any(transfer_syntax(s).is_native for s in syntaxes):
            fallback = tuple(s for s in UNCOMPRESSED if s not in syntaxes)
            if fallback:
                proposed.append(ProposedContext(sop_class, fallback))
    return proposed[:limit]


def choose_context(association: Association, instance: Instance) -> AcceptedContext | None:
    """The accepted context to send ``instance`` on: its own transfer syntax if accepted,
    else an uncompressed one when the file is uncompressed (transcoded), else None."""
    negotiated = association.negotiated
    exact = negotiated.find(instance.sop_class_uid, instance.transfer_syntax)
    if exact is not None:
        return exact
    if not transfer_syntax(instance.transfer_syntax).is_native:
        return None
    for syntax in UNCOMPRESSED:
        found = negotiated.find(instance.sop_class_uid, syntax)
        if found is not None:
            return found
    return None


def deflate(data: bytes) -> bytes:
    """Raw deflate of an encoded data set, padded to even length (PS3.5 A.5)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = compressor.compress(data) + compressor.flush()
    return out + b"\x00" if len(out) % 2 else out


def data_set_bytes(instance: Instance, target: str) -> bytes:
    """The data set of ``instance`` encoded in transfer syntax ``target``.

    Sent as stored when ``target`` is the file's own syntax; otherwise decoded and encoded
    again (uncompressed syntaxes only).

    Raises
    ------
    EncodeError
        A transcoding that needs compression or decompression.
    DecodeError, OSError
        The file cannot be read.

    References
    ----------
    PS3.5 Annex A (A.1-A.3, A.5); PS3.4 B.4.1 (the SCU may change the transfer syntax).
    """
    if target == instance.transfer_syntax and instance.data_set_offset is not None:
        with open(instance.path, "rb") as stream:
            stream.seek(instance.data_set_offset)
            return stream.read()
    source = transfer_syntax(instance.transfer_syntax)
    wanted = transfer_syntax(target)
    if not (source.is_native and wanted.is_native) and source.uid != wanted.uid:
        raise EncodeError(
            f"{instance.path}: cannot convert {source.name} to {wanted.name} (no codecs for"
            " compressed pixel data)"
        )
    from dicompile.runtime.media.part10 import read_file

    file = read_file(instance.path, defer_size=None)
    ctx = CodecContext(little_endian=wanted.little_endian, implicit_vr=wanted.implicit_vr)
    encoded = encode_dataset(file.dataset, ctx)
    return deflate(encoded) if wanted.deflated else encoded


@attrs.frozen
class StoreResult:
    """What became of one instance sent with C-STORE.

    ``status`` is the C-STORE-RSP status, or None when no response came (``error`` says
    why: no context, unreadable file, association aborted).
    """

    path: str
    sop_instance_uid: str
    status: int | None
    error: str | None = None
    transfer_syntax: str | None = None
    transcoded: bool = False
    size: int = 0

    @property
    def ok(self) -> bool:
        """Success or Warning (PS3.4 B.2.3: the instance was stored)."""
        return self.status is not None and status_category(self.status) in (
            StatusCategory.SUCCESS,
            StatusCategory.WARNING,
        )


async def store_instance(
    association: Association,
    instance: Instance,
    *,
    priority: Priority = Priority.MEDIUM,
    move_originator: tuple[str, int] | None = None,
) -> StoreResult:
    """Send one instance with C-STORE and return what happened (never raises for the
    instance's own faults; an ended association raises).

    Raises
    ------
    AssociationAbortedError
        The association ended before the response came.

    References
    ----------
    PS3.4 B.4.1; PS3.7 §9.1.1, §9.3.1.
    """
    context = choose_context(association, instance)
    if context is None:
        return StoreResult(
            instance.path,
            instance.sop_instance_uid,
            None,
            f"no accepted presentation context for {instance.sop_class_uid} in"
            f" {instance.transfer_syntax} (or an uncompressed syntax)",
        )
    try:
        data = data_set_bytes(instance, context.transfer_syntax)
        if not data or len(data) % 2:
            raise EncodeError(f"{instance.path}: the data set has odd length {len(data)}")
    except (OSError, DecodeError, EncodeError) as exc:
        return StoreResult(instance.path, instance.sop_instance_uid, None, str(exc))
    request = CStoreRQ(
        message_id=association.next_message_id(),
        affected_sop_class_uid=instance.sop_class_uid,
        affected_sop_instance_uid=instance.sop_instance_uid,
        priority=priority,
        move_originator_application_entity_title=move_originator[0] if move_originator else None,
        move_originator_message_id=move_originator[1] if move_originator else None,
        data_set=data,
    )
    response = await association.request(request, context.context_id)
    comment = getattr(response, "error_comment", None)
    return StoreResult(
        instance.path,
        instance.sop_instance_uid,
        response.status,
        comment,
        context.transfer_syntax,
        context.transfer_syntax != instance.transfer_syntax,
        len(data),
    )


async def store_instances(
    association: Association,
    instances: Iterable[Instance],
    *,
    on_result: Callable[[StoreResult], None] | None = None,
) -> list[StoreResult]:
    """Send instances one after another, or up to the negotiated window at once.

    Results come back in the order of ``instances``.  If the association ends, the
    instances not yet answered get a result with the reason and no status.
    """
    window = association.negotiated.max_invoked or 16
    items = list(instances)
    results: list[StoreResult | None] = [None] * len(items)

    async def one(index: int) -> None:
        instance = items[index]
        try:
            result = await store_instance(association, instance)
        except NetworkError as exc:
            result = StoreResult(instance.path, instance.sop_instance_uid, None, str(exc))
        results[index] = result
        if on_result is not None:
            on_result(result)

    if window == 1:
        for index in range(len(items)):
            await one(index)
    else:
        semaphore = asyncio.Semaphore(window)

        async def bounded(index: int) -> None:
            async with semaphore:
                await one(index)

        await asyncio.gather(*(bounded(i) for i in range(len(items))))
    return [r for r in results if r is not None]


# --------------------------------------------------------------------------------------
# SCP
# --------------------------------------------------------------------------------------


@attrs.frozen
class ReceivedInstance:
    """One SOP instance received with C-STORE, as the bytes came, with its context.

    ``streamed_length`` is None when ``data_set`` holds the data set; for a data set that
    was streamed to its file (:class:`FileStore`'s ``stream_threshold``) it is the data
    set's length, and ``data_set`` is empty: the bytes are only in the stored file.
    """

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    data_set: bytes
    calling_ae_title: str
    called_ae_title: str
    message_id: int
    move_originator_ae_title: str | None = None
    move_originator_message_id: int | None = None
    streamed_length: int | None = None

    @property
    def data_set_length(self) -> int:
        """The data set's length in bytes, whether held or streamed."""
        return len(self.data_set) if self.streamed_length is None else self.streamed_length

    def file_meta(self) -> Dataset:
        """The File Meta Information of this instance (PS3.10 §7.1, Table 7.1-1)."""
        from dicompile.runtime.media.part10 import build_meta

        base = Dataset()
        base.add(DataElement(_MEDIA_SOP_CLASS, VR.UI, self.sop_class_uid))
        base.add(DataElement(_MEDIA_SOP_INSTANCE, VR.UI, self.sop_instance_uid))
        if self.calling_ae_title:
            base.add(DataElement(_SOURCE_AE_TITLE, VR.AE, self.calling_ae_title))
        return build_meta(Dataset(), _syntax(self.transfer_syntax), base=base)

    def file_prefix(self) -> bytes:
        """Preamble, "DICM" and the File Meta Information: what precedes the data set.

        Only the SOP Instance UID differs between the instances of one SOP class, transfer
        syntax and calling AE: the rest is encoded once per such triple and reused.
        """
        uid = self.sop_instance_uid
        if len(uid) > 64 or not _VALID_UID.fullmatch(uid):
            return bytes(128) + b"DICM" + encode_dataset(self.file_meta(), CodecContext())
        head, tail = _meta_template(self.sop_class_uid, self.transfer_syntax, self.calling_ae_title)
        value = uid.encode("ascii") + (b"\x00" if len(uid) % 2 else b"")  # PS3.5 §9.1 pad
        # (0002,0003) UI, explicit VR little endian (PS3.10 §7.1)
        element = b"\x02\x00\x03\x00UI" + len(value).to_bytes(2, "little") + value
        group_length = len(head) + len(element) + len(tail)
        return b"".join(
            (
                _PREAMBLE_DICM,
                b"\x02\x00\x00\x00UL\x04\x00",  # (0002,0000) UL, 4 bytes
                group_length.to_bytes(4, "little"),
                head,
                element,
                tail,
            )
        )

    def dataset(self) -> Dataset:
        """The data set decoded (inflated first when deflated).

        Raises
        ------
        DecodeError
            The bytes are no valid data set in the context's transfer syntax.
        LocalProtocolError
            The data set was streamed to its file (read the file instead).
        """
        from dicompile.runtime.media.part10 import read_bytes

        if self.streamed_length is not None:
            raise LocalProtocolError(
                f"{self.sop_instance_uid}: the data set was streamed to its file, not held"
            )

        return read_bytes(self.file_prefix() + self.data_set, source=self.sop_instance_uid).dataset


def _syntax(uid: str) -> TransferSyntax:
    return transfer_syntax(uid)


_PREAMBLE_DICM: Final = bytes(128) + b"DICM"


@functools.lru_cache(maxsize=256)
def _meta_template(sop_class: str, syntax: str, calling_ae_title: str) -> tuple[bytes, bytes]:
    """The File Meta elements before and after (0002,0003), group length excluded, as
    :meth:`ReceivedInstance.file_meta` makes and the codec encodes them."""
    meta = ReceivedInstance(sop_class, "1", syntax, b"", calling_ae_title, "", 0).file_meta()
    head: list[bytes] = []
    tail: list[bytes] = []
    for element in meta:
        if element.tag in (0x00020000, _MEDIA_SOP_INSTANCE):
            continue
        single = Dataset()
        single.add(element)
        encoded = encode_dataset(single, CodecContext())
        (head if element.tag < _MEDIA_SOP_INSTANCE else tail).append(encoded)
    return b"".join(head), b"".join(tail)


@attrs.frozen
class StoreOutcome:
    """A store handler's answer: the status to send, and where the instance went."""

    status: int
    path: Path | None = None
    error_comment: str | None = None


class StoreHandler(Protocol):
    """Stores one received instance and says how it went (see :class:`FileStore`)."""

    def __call__(self, instance: ReceivedInstance) -> Awaitable[StoreOutcome]: ...


@runtime_checkable
class StreamingStore(Protocol):
    """A store that can also take a data set streamed to its file as it arrives.

    :meth:`open_stream` is called once the C-STORE-RQ's command set is whole (the
    instance's ``data_set`` is then empty): a sink for its fragments, or None to receive
    the data set in memory and call the store as a :class:`StoreHandler`.  Once the data
    set is whole, :meth:`publish_stream` gets the instance (with ``streamed_length``) and
    the sink; it must answer Success only once the file is in place, and leaves the sink
    discarded (published or not).

    References
    ----------
    PS3.4 B.2.3, B.4.2.
    """

    def open_stream(self, instance: ReceivedInstance) -> DataSink | None: ...

    def publish_stream(
        self, instance: ReceivedInstance, sink: DataSink
    ) -> Awaitable[StoreOutcome]: ...


_VALID_UID: Final = re.compile(r"[0-9]+(\.[0-9]+)*")
_UNSAFE: Final = re.compile(r"[^0-9A-Za-z._-]")


def safe_file_stem(uid: str) -> str:
    """A file name stem for a SOP Instance UID that cannot leave its folder.

    A valid UID is kept as it is; anything else is reduced to ``[0-9A-Za-z._-]``, stripped
    of leading dots and suffixed with 16 hex digits of its SHA-256, so that two different
    UIDs never share a stem.
    """
    if len(uid) <= 64 and _VALID_UID.fullmatch(uid):
        return uid
    cleaned = _UNSAFE.sub("_", uid)[:64].lstrip(".") or "instance"
    digest = hashlib.sha256(uid.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{cleaned}-{digest}"


class FileStore:
    """The default store handler: one Part 10 file per instance in ``directory``.

    Parameters
    ----------
    directory
        Where files go (created if missing).
    fsync
        Flush files and the folder to disk before answering Success (default).  Without
        it a power loss may lose instances the peer believes stored.
    on_stored
        Called with each instance and its path once it is durable: in a worker thread
        with ``fsync``, in the event loop's thread without (the file is then written
        there too, as a page-cache write is shorter than a thread hand-over).  For a
        streamed instance ``data_set`` is empty (``streamed_length`` says how long it
        is): read the file.
    stream_threshold
        A received data set longer than this is streamed to its file as it arrives
        rather than held in memory (:mod:`~dicompile.runtime.net.services.spool`; 0:
        always, None: never).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        fsync: bool = True,
        on_stored: Callable[[ReceivedInstance, Path], None] | None = None,
        stream_threshold: int | None = DEFAULT_STREAM_THRESHOLD,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.on_stored = on_stored
        self.stream_threshold = stream_threshold

    def open_stream(self, instance: ReceivedInstance) -> DataSink | None:
        """A :class:`~dicompile.runtime.net.services.spool.FileSpool` for ``instance``'s
        data set in this folder, or None when streaming is off."""
        if self.stream_threshold is None:
            return None
        stem = safe_file_stem(instance.sop_instance_uid)
        return FileSpool(
            self.directory,
            f"{stem}.dcm",
            instance.file_prefix,
            threshold=self.stream_threshold,
        )

    async def publish_stream(self, instance: ReceivedInstance, sink: DataSink) -> StoreOutcome:
        """Publish the file a :meth:`open_stream` sink wrote (fsynced first, as
        :meth:`write`), and return Success; the file is removed on any failure.

        Raises
        ------
        OSError
            Nothing was stored (the sink's write error, or the publishing's).
        """
        if not isinstance(sink, FileSpool):
            sink.discard()
            raise TypeError(f"not a sink of this store: {sink!r}")
        if not self.fsync:
            return StoreOutcome(SUCCESS, self._publish(instance, sink))
        path = await asyncio.to_thread(self._publish, instance, sink)
        return StoreOutcome(SUCCESS, path)

    def _publish(self, instance: ReceivedInstance, spool: FileSpool) -> Path:
        try:
            pending = spool.file
            if self.fsync:
                pending.sync()
            target = self._link(pending, safe_file_stem(instance.sop_instance_uid))
        finally:
            spool.discard()
        if self.fsync:
            fsync_directory(self.directory)
        if self.on_stored is not None:
            self.on_stored(instance, target)
        return target

    async def __call__(self, instance: ReceivedInstance) -> StoreOutcome:
        if not self.fsync:
            # Writing to the page cache takes less than handing the work to a thread and
            # back (two wake-ups and a GIL hand-over per instance); fsync may take long.
            return StoreOutcome(SUCCESS, self.write(instance))
        path = await asyncio.to_thread(self.write, instance)
        return StoreOutcome(SUCCESS, path)

    def write(self, instance: ReceivedInstance) -> Path:
        """Write ``instance`` durably under a fresh name and return its path.

        Raises
        ------
        OSError
            Nothing was stored (the temporary file is removed).
        """
        prefix = instance.file_prefix()
        stem = safe_file_stem(instance.sop_instance_uid)
        with new_file(self.directory, f"{stem}.dcm") as pending:
            writev_all(pending.fd, (prefix, instance.data_set))
            if self.fsync:
                pending.sync()
            target = self._link(pending, stem)
        if self.fsync:
            fsync_directory(self.directory)
        if self.on_stored is not None:
            self.on_stored(instance, target)
        return target

    def _link(self, pending: NewFile, stem: str) -> Path:
        # A link never replaces an existing name: another instance's file is never lost.
        for attempt in range(10_000):
            name = f"{stem}.dcm" if attempt == 0 else f"{stem}.{attempt}.dcm"
            target = self.directory / name
            try:
                pending.link(target)
            except FileExistsError:
                continue
            return target
        raise OSError(errno.EEXIST, f"no free file name for {stem} in {self.directory}")


def storage_handler(
    store: StoreHandler, *, streaming: StreamingStore | None = None
) -> RequestHandler:
    """A C-STORE request handler for :meth:`Association.serve` around ``store``.

    The handler is a :class:`~dicompile.runtime.net.association.StreamingRequestHandler`:
    when ``streaming`` (by default ``store`` itself, if it is a :class:`StreamingStore`)
    offers a sink, the data set goes there as it arrives and ``streaming`` publishes it.

    References
    ----------
    PS3.4 B.2.3 (statuses), B.4.2 (SCP behaviour); PS3.7 §9.1.1.
    """
    if streaming is None and isinstance(store, StreamingStore):
        streaming = store
    return StorageHandler(store, streaming)


class StorageHandler:
    """The C-STORE handler of :func:`storage_handler` (use that function)."""

    def __init__(self, store: StoreHandler, streaming: StreamingStore | None) -> None:
        self.store = store
        self.streaming = streaming

    async def __call__(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        assert isinstance(request, CStoreRQ)
        refused = _refusal(context, request)
        if refused is not None:
            return refused
        instance = _received(association, context, request, request.data_set, None)
        return await _stored(request, self.store(instance))

    def data_sink(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> DataSink | None:
        """A sink from the streaming store for a C-STORE-RQ it will accept, else None."""
        if self.streaming is None or not isinstance(request, CStoreRQ):
            return None
        if _refusal(context, request) is not None:
            return None  # refused without storing: received in memory as any other
        return self.streaming.open_stream(_received(association, context, request, b"", 0))

    async def handle_streamed(
        self,
        association: Association,
        context: AcceptedContext,
        request: Request,
        sink: DataSink,
    ) -> Response:
        """Publish a data set streamed to ``sink`` and answer (the sink ends discarded)."""
        assert isinstance(request, CStoreRQ) and self.streaming is not None
        instance = _received(association, context, request, b"", sink.length)
        try:
            return await _stored(request, self.streaming.publish_stream(instance, sink))
        finally:
            sink.discard()


def _answer(request: CStoreRQ, status: int, comment: str | None = None) -> CStoreRSP:
    return CStoreRSP(
        message_id_being_responded_to=request.message_id,
        status=status,
        affected_sop_class_uid=request.affected_sop_class_uid,
        affected_sop_instance_uid=request.affected_sop_instance_uid,
        error_comment=comment[:64] if comment else None,
    )


def _refusal(context: AcceptedContext, request: CStoreRQ) -> CStoreRSP | None:
    if request.affected_sop_class_uid != context.abstract_syntax:
        return _answer(
            request,
            SOP_CLASS_NOT_SUPPORTED,
            "SOP Class differs from the context's abstract syntax",
        )
    return None


def _received(
    association: Association,
    context: AcceptedContext,
    request: CStoreRQ,
    data_set: bytes,
    streamed_length: int | None,
) -> ReceivedInstance:
    return ReceivedInstance(
        sop_class_uid=request.affected_sop_class_uid,
        sop_instance_uid=request.affected_sop_instance_uid,
        transfer_syntax=context.transfer_syntax,
        data_set=data_set,
        calling_ae_title=association.negotiated.peer_ae_title,
        called_ae_title=association.negotiated.local_ae_title,
        message_id=request.message_id,
        move_originator_ae_title=request.move_originator_application_entity_title,
        move_originator_message_id=request.move_originator_message_id,
        streamed_length=streamed_length,
    )


async def _stored(request: CStoreRQ, storing: Awaitable[StoreOutcome]) -> CStoreRSP:
    """The response to ``request`` once ``storing`` ends (a failure status, never Success,
    when it raises)."""
    try:
        outcome = await storing
    except OSError as exc:
        log.error("storing %s failed: %s", request.affected_sop_instance_uid, exc)
        status = OUT_OF_RESOURCES if exc.errno in _RESOURCE_ERRNOS else PROCESSING_FAILURE
        return _answer(request, status, exc.strerror or str(exc))
    except Exception as exc:
        log.exception("storing %s failed", request.affected_sop_instance_uid)
        return _answer(request, PROCESSING_FAILURE, type(exc).__name__)
    return _answer(request, outcome.status, outcome.error_comment)


__all__ = [
    "OUT_OF_RESOURCES",
    "PROCESSING_FAILURE",
    "SOP_CLASS_NOT_SUPPORTED",
    "SUCCESS",
    "FileStore",
    "Instance",
    "ReceivedInstance",
    "StorageHandler",
    "StoreHandler",
    "StoreOutcome",
    "StoreResult",
    "StreamingStore",
    "accepted_transfer_syntaxes",
    "choose_context",
    "data_set_bytes",
    "deflate",
    "plan_contexts",
    "probe",
    "safe_file_stem",
    "storage_handler",
    "storage_scp_contexts",
    "storage_sop_classes",
    "store_instance",
    "store_instances",
]
