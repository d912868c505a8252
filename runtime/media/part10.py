"""DICOM Part 10 files: preamble, "DICM", File Meta Information, data set (PS3.10 §7).

Theory of operation
-------------------
Reading: the file is mapped (``mmap``) when it is large, read whole when small; the File
Meta Information (always Explicit VR Little Endian, PS3.10 §7.1) is read up to the first
element of another group, its Transfer Syntax UID says how the data set is encoded, and
the data set is read by :mod:`dicompile.runtime.codec.reader`.  Values of ``defer_size``
bytes or more are left in the file as :class:`~dicompile.runtime.media.deferred.FileSpan`
(read on access), so the mapping is released before :func:`read_file` returns.

Real files break PS3.10 in a few well-known ways; in lenient mode (the default) each is read
with a :class:`DicomWarning` naming it, in strict mode each is a :class:`DecodeError`:

* no preamble (the file starts with "DICM", with group 0002, or with the data set);
* a meta group without Group Length (0002,0000), or with a wrong one;
* a meta group in Implicit VR;
* no meta group at all, or no Transfer Syntax UID: the syntax is guessed from the first
  data set element (VR bytes present or not; byte order from the group number);
* a deflated data set with a zlib header (PS3.5 A.5 wants raw deflate);
* zero bytes after the data set.

Writing (:func:`write_file`): preamble (128 zero bytes unless given), "DICM", a complete meta
group -- Group Length, Version 00\\01, Media Storage SOP Class/Instance UID from the data
set's SOP Class/Instance UID, Transfer Syntax UID, Implementation Class UID and Version Name
of dicompile (below) -- then the data set, streaming deferred values.  The file is written
unseen (an unnamed file in the target's directory on Linux, a hidden temporary file
elsewhere: :mod:`~dicompile.runtime.media.atomic_file`), ``writev`` of the encoded pieces,
then given the target's name, replacing any file of that name atomically: a reader never
sees a half-written file and a failed write leaves nothing behind (DESIGN.md, "Errors and
data safety").  fsync of the file and its directory is asked for with ``durable=True`` (see
:func:`write_file` for why it is not the default).

Implementation Class UID: dicompile has no registered OID root, so it uses a UUID-derived
UID (PS3.5 §B.2, root 2.25): ``uuid5(NAMESPACE_URL, "https://dicompile.invalid/
implementation-class/0.1")`` as a decimal integer, fixed per implementation version
(:data:`IMPLEMENTATION_CLASS_UID`); the version name is :data:`IMPLEMENTATION_VERSION_NAME`.
"""

from __future__ import annotations

import functools
import mmap
import os
import warnings
import zlib
from collections.abc import Iterator
from typing import Final

import attrs

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import VR_HEADERS, ReadOptions, read_dataset
from dicompile.runtime.codec.transfer_syntax import (
    EXPLICIT_BE,
    EXPLICIT_LE,
    IMPLICIT_LE,
    TransferSyntax,
    is_known_transfer_syntax,
)
from dicompile.runtime.codec.transfer_syntax import transfer_syntax as syntax_for_uid
from dicompile.runtime.codec.vr_codecs import VR_CODECS
from dicompile.runtime.codec.writer import (
    STREAM_CHUNK,
    LengthPolicy,
    Piece,
    WriteOptions,
    encode_dataset,
    encode_pieces,
)
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated, raw_element
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP, TagLookup
from dicompile.runtime.core.vr import VR, VR_INFO
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError
from dicompile.runtime.media.atomic_file import fsync_directory, new_file, writev_all
from dicompile.runtime.media.deferred import FileIdentity, SpanFactory

#: UUID-derived (PS3.5 §B.2) Implementation Class UID of dicompile 0.1; see the module text.
IMPLEMENTATION_CLASS_UID: Final = "2.25.221187600308069714099674352901603991634"
#: Implementation Version Name (0002,0013), SH.
IMPLEMENTATION_VERSION_NAME: Final = "DICOMPILE 0.1.0"

#: Default threshold of deferred values: 1 MiB.
DEFAULT_DEFER_SIZE: Final = 1 << 20
#: Files at least this large are mapped instead of read.
_MMAP_THRESHOLD: Final = 1 << 18
#: Default limit of a deflated data set once inflated (a deflate bomb guard).
DEFAULT_MAX_INFLATED: Final = 1 << 30

PREAMBLE_LENGTH: Final = 128
MAGIC: Final = b"DICM"

_META_GROUP_LENGTH: Final = 0x00020000
_META_VERSION: Final = 0x00020001
_MEDIA_SOP_CLASS: Final = 0x00020002
_MEDIA_SOP_INSTANCE: Final = 0x00020003
_TRANSFER_SYNTAX: Final = 0x00020010
_IMPLEMENTATION_CLASS: Final = 0x00020012
_IMPLEMENTATION_VERSION: Final = 0x00020013
_SOP_CLASS: Final = 0x00080016
_SOP_INSTANCE: Final = 0x00080018
_PIXEL_DATA: Final = 0x7FE00010
#: The encoding of the File Meta Information: Explicit VR Little Endian, default repertoire.
_META_CONTEXT: Final = CodecContext()
#: Stop-before tag for ``stop_before_pixels``: (7FE0,0008) Float Pixel Data and after.
_FIRST_PIXEL_TAG: Final = 0x7FE00008


@attrs.define(eq=False)
class FileDataset:
    """A Part 10 file in memory: its meta information, its data set and how it was encoded."""

    #: The File Meta Information (group 0002), PS3.10 §7.1.
    meta: Dataset
    #: The data set (without group 0002).
    dataset: Dataset
    #: The transfer syntax the data set was (or will be) encoded in.
    transfer_syntax: TransferSyntax = EXPLICIT_LE
    #: The 128-byte preamble, or None when the file had none.
    preamble: bytes | None = None
    #: The file it was read from.
    path: str | None = None


# -- reading ------------------------------------------------------------------------------------


def _problem(strict: bool, message: str, source: str | None, offset: int | None) -> None:
    error = DecodeError(message, source=source, offset=offset)
    if strict:
        raise error
    warnings.warn(str(error), DicomWarning, stacklevel=3)


def read_file(
    path: str | os.PathLike[str],
    *,
    stop_before_pixels: bool = False,
    defer_size: int | None = DEFAULT_DEFER_SIZE,
    strict: bool = False,
    lookup: TagLookup | None = None,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> FileDataset:
    """Read a DICOM file.

    Parameters
    ----------
    path
        The file.
    stop_before_pixels
        Stop before (7FE0,0008) Float Pixel Data / (7FE0,0010) Pixel Data and what follows.
    defer_size
        Values of at least this many bytes stay in the file until accessed (None: never).
    strict
        Raise :class:`DecodeError` on anything that breaks PS3.5/PS3.10 instead of warning.
    lookup
        The data dictionary for implicit VR (default: the generated one).
    max_inflated
        Largest size a deflated data set may inflate to.

    Returns
    -------
    FileDataset

    Raises
    ------
    DecodeError
        Naming the file, byte offset and tag path.
    OSError
        The file cannot be opened.

    References
    ----------
    PS3.10 §7.1 (preamble, prefix, File Meta Information); PS3.5 Annex A.
    """
    name = os.fspath(path)
    with open(name, "rb") as stream:
        st = os.fstat(stream.fileno())
        mapped: mmap.mmap | None = None
        data: bytes | mmap.mmap
        if st.st_size >= _MMAP_THRESHOLD:
            mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
            data = mapped
        else:
            data = stream.read()
        try:
            defer = SpanFactory(name, FileIdentity.of(st)) if defer_size is not None else None
            return _parse(
                data,
                source=name,
                stop_before_pixels=stop_before_pixels,
                defer_size=defer_size,
                defer=defer,
                strict=strict,
                lookup=lookup,
                max_inflated=max_inflated,
            )
        finally:
            if mapped is not None:
                mapped.close()


def read_bytes(
    data: bytes,
    *,
    source: str | None = None,
    stop_before_pixels: bool = False,
    strict: bool = False,
    lookup: TagLookup | None = None,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> FileDataset:
    """Read a DICOM file held in memory (see :func:`read_file`).

    References
    ----------
    PS3.10 §7.1; PS3.5 Annex A.
    """
    return _parse(
        bytes(data),
        source=source,
        stop_before_pixels=stop_before_pixels,
        defer_size=None,
        defer=None,
        strict=strict,
        lookup=lookup,
        max_inflated=max_inflated,
    )


def _parse(
    data: bytes | mmap.mmap,
    *,
    source: str | None,
    stop_before_pixels: bool,
    defer_size: int | None,
    defer: SpanFactory | None,
    strict: bool,
    lookup: TagLookup | None,
    max_inflated: int,
) -> FileDataset:
    if not len(data):
        raise DecodeError("the file is empty", source=source, offset=0)
    base_ctx = CodecContext(strict=strict, lookup=lookup or DEFAULT_LOOKUP)
    preamble, pos = _find_start(data, source, strict)
    meta, pos = _read_meta(data, pos, base_ctx, source, strict)
    syntax = _syntax_of(meta, data, pos, source, strict)
    stop = _FIRST_PIXEL_TAG if stop_before_pixels else None
    implicit_vr = syntax.implicit_vr
    if not syntax.deflated:
        implicit_vr = _check_explicitness(data, pos, syntax, source, strict)
    ctx = base_ctx.with_syntax(little_endian=syntax.little_endian, implicit_vr=implicit_vr)
    if syntax.deflated:
        inflated = _inflate(data, pos, source, strict, max_inflated)
        options = ReadOptions(stop_before=stop, source=f"{source or '<bytes>'} (inflated)")
        dataset, _, _ = read_dataset(inflated, ctx, options=options)
    else:
        options = ReadOptions(defer_size=defer_size, defer=defer, stop_before=stop, source=source)
        dataset, _, _ = read_dataset(data, ctx, offset=pos, options=options)
    return FileDataset(meta, dataset, syntax, preamble, source)


def _find_start(
    data: bytes | mmap.mmap, source: str | None, strict: bool
) -> tuple[bytes | None, int]:
    """(preamble, offset of the first meta element) per PS3.10 §7.1, or the quirks."""
    if len(data) >= PREAMBLE_LENGTH + 4 and data[PREAMBLE_LENGTH : PREAMBLE_LENGTH + 4] == MAGIC:
        return bytes(data[:PREAMBLE_LENGTH]), PREAMBLE_LENGTH + 4
    if data[:4] == MAGIC:
        _problem(strict, 'no 128-byte preamble before "DICM" (PS3.10 §7.1)', source, 0)
        return None, 4
    _problem(strict, 'no preamble and no "DICM" prefix (PS3.10 §7.1)', source, 0)
    return None, 0


def _read_meta(
    data: bytes | mmap.mmap, pos: int, base: CodecContext, source: str | None, strict: bool
) -> tuple[Dataset, int]:
    """The File Meta Information group and the offset just after it."""
    if len(data) < pos + 8 or data[pos : pos + 2] != b"\x02\x00":
        if pos:
            _problem(strict, "no File Meta Information after the prefix (PS3.10 §7.1)", source, pos)
        return Dataset(), pos
    explicit = bytes(data[pos + 4 : pos + 6]) in VR_HEADERS
    if not explicit:
        _problem(strict, "File Meta Information in implicit VR (PS3.10 §7.1)", source, pos)
    ctx = base.with_syntax(little_endian=True, implicit_vr=not explicit)
    meta, end, _ = read_dataset(
        data,
        ctx,
        offset=pos,
        options=ReadOptions(stop_before=0x00030000, stop_below=0x00020000, source=source),
    )
    group_length = meta.get(_META_GROUP_LENGTH)
    # Elements of other groups before the end (a meta group with no group 0003+ after it).
    stray = [tag for tag in meta.tags() if tag >> 16 != 0x0002]
    if stray:
        _problem(strict, "elements of other groups inside the File Meta Information", source, pos)
    if group_length is None:
        _problem(strict, "no File Meta Information Group Length (0002,0000)", source, pos)
    else:
        value = group_length.value
        first = meta.tags()[0] if len(meta) else None
        if isinstance(value, int) and first == _META_GROUP_LENGTH:
            expected = pos + 12 + value  # the group length element itself is 12 bytes
            if expected != end:
                _problem(
                    strict,
                    f"File Meta Information Group Length says {value} bytes but the group "
                    f"has {end - pos - 12}; the elements were read as they are",
                    source,
                    pos,
                )
    return meta, end


def _syntax_of(
    meta: Dataset, data: bytes | mmap.mmap, pos: int, source: str | None, strict: bool
) -> TransferSyntax:
    uid_element = meta.get(_TRANSFER_SYNTAX)
    uid = uid_element.value if uid_element is not None else None
    if isinstance(uid, str) and uid:
        syntax = syntax_for_uid(uid)
        if syntax.encapsulated and is_known_transfer_syntax(syntax.uid) is False:
            # Read as an encapsulated Explicit VR Little Endian syntax, the form every
            # transfer syntax but the four native ones has (PS3.5 Annex A).
            _problem(
                strict,
                f"unknown Transfer Syntax UID {syntax.uid!r}; read as encapsulated "
                "Explicit VR Little Endian",
                source,
                pos,
            )
        return syntax
    guessed = guess_syntax(data, pos)
    _problem(
        strict,
        f"no Transfer Syntax UID (0002,0010); guessed {guessed.name} from the data set",
        source,
        pos,
    )
    return guessed


def _check_explicitness(
    data: bytes | mmap.mmap, pos: int, syntax: TransferSyntax, source: str | None, strict: bool
) -> bool:
    """Whether the data set is implicit VR: as the syntax says, unless its first element
    plainly says otherwise (files labelled explicit but written implicit, and vice versa)."""
    if len(data) < pos + 8 or not syntax.little_endian:
        return syntax.implicit_vr
    has_vr = bytes(data[pos + 4 : pos + 6]) in VR_HEADERS
    if has_vr == (not syntax.implicit_vr):
        return syntax.implicit_vr
    found, expected = ("explicit", "implicit") if has_vr else ("implicit", "explicit")
    _problem(
        strict,
        f"{syntax.name} says {expected} VR but the data set is {found} VR; read as {found}",
        source,
        pos,
    )
    return not has_vr


def guess_syntax(data: bytes | mmap.mmap, pos: int) -> TransferSyntax:
    """The native transfer syntax the data set at ``pos`` most likely uses.

    Explicit VR if bytes 4-5 of the first element are a VR; little endian if its group
    number reads smaller that way (groups of a data set start low, e.g. 0008).
    """
    if len(data) < pos + 8:
        return EXPLICIT_LE
    head = bytes(data[pos : pos + 8])
    little = int.from_bytes(head[0:2], "little")
    big = int.from_bytes(head[0:2], "big")
    little_endian = little <= big
    if head[4:6] in VR_HEADERS:
        return EXPLICIT_LE if little_endian else EXPLICIT_BE
    return IMPLICIT_LE


def _inflate(
    data: bytes | mmap.mmap, pos: int, source: str | None, strict: bool, limit: int
) -> bytes:
    """The inflated data set of Deflated Explicit VR Little Endian (PS3.5 A.5)."""
    compressed = data[pos:]
    try:
        return _inflate_with(compressed, -zlib.MAX_WBITS, source, pos, limit)
    except zlib.error:
        pass
    try:
        inflated = _inflate_with(compressed, zlib.MAX_WBITS, source, pos, limit)
    except zlib.error as exc:
        raise DecodeError(
            f"deflated data set cannot be inflated: {exc}", source=source, offset=pos
        ) from exc
    _problem(
        strict, "deflated data set has a zlib header (PS3.5 A.5 wants raw deflate)", source, pos
    )
    return inflated


def _inflate_with(compressed: bytes, wbits: int, source: str | None, pos: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    chunk = compressed
    while chunk:
        out += inflater.decompress(chunk, 1 << 24)
        if len(out) > limit:
            raise DecodeError(
                f"deflated data set inflates past {limit} bytes (deflate bomb guard)",
                source=source,
                offset=pos,
            )
        chunk = inflater.unconsumed_tail
    out += inflater.flush()
    return bytes(out)


# -- writing ------------------------------------------------------------------------------------


def build_meta(
    dataset: Dataset,
    syntax: TransferSyntax,
    *,
    base: Dataset | None = None,
    implementation_class_uid: str = IMPLEMENTATION_CLASS_UID,
    implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME,
    strict: bool = False,
) -> Dataset:
    """A complete File Meta Information group for ``dataset`` (PS3.10 §7.1, Table 7.1-1).

    Keeps from ``base`` the elements this function does not set (source/sending/receiving
    AE titles, private information); Media Storage SOP Class/Instance UID come from the
    data set's (0008,0016)/(0008,0018) when present, else from ``base``.

    Raises
    ------
    EncodeError
        Neither the data set nor ``base`` gives a SOP Class or Instance UID (strict only;
        lenient mode writes them empty with a warning).
    """
    meta = Dataset()
    if base is not None:
        for element in base:
            if element.tag >> 16 == 0x0002:
                meta.add(element)
    group_length, version, *rest = _constant_meta(
        syntax.uid, implementation_class_uid, implementation_version_name, strict
    )
    meta.add(group_length)  # the writer computes it
    meta.add(version)
    for meta_tag, ds_tag, what in (
        (_MEDIA_SOP_CLASS, _SOP_CLASS, "SOP Class UID (0008,0016)"),
        (_MEDIA_SOP_INSTANCE, _SOP_INSTANCE, "SOP Instance UID (0008,0018)"),
    ):
        found = dataset.get(ds_tag)
        value = found.value if found is not None else None
        if isinstance(value, str) and value:
            raw = found.raw if found is not None else None
            if type(raw) is bytes and found is not None and found.vr is VR.UI:
                # The data set's own bytes (PS3.10 Table 7.1-1: "Uniquely identifies the
                # SOP Instance"; the same UID): copied as they are, not encoded again.
                meta.add(raw_element(meta_tag, VR.UI, raw, found.decoder or _META_CONTEXT))
            else:
                meta.add(DataElement(meta_tag, VR.UI, value))
        elif meta_tag not in meta:
            message = f"the data set has no {what} for the File Meta Information"
            if strict:
                raise EncodeError(message)
            warnings.warn(message, DicomWarning, stacklevel=3)
            meta.add(DataElement(meta_tag, VR.UI, None))
    for element in rest:
        meta.add(element)
    if not implementation_version_name:
        meta.pop(_IMPLEMENTATION_VERSION)
    return meta


@functools.lru_cache(maxsize=64)
def _constant_meta(
    syntax_uid: str,
    implementation_class_uid: str,
    implementation_version_name: str | None,
    strict: bool,
) -> tuple[DataElement, ...]:
    """The meta elements that do not depend on the data set: Group Length (a placeholder),
    Version, Transfer Syntax UID, Implementation Class UID and Version Name.

    Made once per combination, with their values already encoded (Explicit VR Little
    Endian, the meta group's encoding, PS3.10 §7.1) so that the writer copies their bytes:
    elements are never changed once made, so data sets may share them, and making and
    encoding them for every file was a third of encoding a small file.
    """
    elements = [
        DataElement(_META_GROUP_LENGTH, VR.UL, 0),
        DataElement(_META_VERSION, VR.OB, b"\x00\x01"),
        DataElement(_TRANSFER_SYNTAX, VR.UI, syntax_uid),
        DataElement(_IMPLEMENTATION_CLASS, VR.UI, implementation_class_uid),
    ]
    if implementation_version_name:
        elements.append(DataElement(_IMPLEMENTATION_VERSION, VR.SH, implementation_version_name))
    ctx = CodecContext(strict=strict)
    encoded = []
    for element in elements:
        data = VR_CODECS[element.vr].encode(element.value, ctx)
        if len(data) & 1:
            data += VR_INFO[element.vr].padding
        encoded.append(raw_element(element.tag, element.vr, data, _META_CONTEXT))
    return tuple(encoded)


def _check_pixels(dataset: Dataset, syntax: TransferSyntax, source: TransferSyntax | None) -> None:
    pixels = dataset.get(_PIXEL_DATA)
    if pixels is None:
        return
    encapsulated = pixels.raw is None and isinstance(pixels.value, Encapsulated)
    if syntax.encapsulated and not encapsulated:
        raise EncodeError(
            f"{syntax.name} needs encapsulated (compressed) pixel data; this data set has "
            "native pixel data and dicompile does not compress"
        )
    if not syntax.encapsulated and encapsulated:
        raise EncodeError(
            f"{syntax.name} needs native pixel data; this data set's pixel data is "
            "encapsulated and dicompile does not decompress"
        )
    if syntax.encapsulated and source is not None and source.uid != syntax.uid:
        raise EncodeError(
            f"encapsulated pixel data of {source.name} cannot be relabelled as {syntax.name}"
        )


@functools.lru_cache(maxsize=16)
def _context(little_endian: bool, implicit_vr: bool, strict: bool) -> CodecContext:
    """One context per encoding (contexts never change): the writer's caches key on them."""
    return CodecContext(little_endian=little_endian, implicit_vr=implicit_vr, strict=strict)


@functools.lru_cache(maxsize=8)
def _write_options(lengths: LengthPolicy) -> WriteOptions:
    return WriteOptions(lengths=lengths)


#: The meta elements :func:`build_meta` makes (or takes from the data set) whatever the base
#: holds: a base with only these gives the same meta group as no base at all.
_MADE_META_TAGS: Final = frozenset(
    {
        _META_GROUP_LENGTH,
        _META_VERSION,
        _MEDIA_SOP_CLASS,
        _MEDIA_SOP_INSTANCE,
        _TRANSFER_SYNTAX,
        _IMPLEMENTATION_CLASS,
        _IMPLEMENTATION_VERSION,
    }
)
#: (0002,0000) UL, 4 bytes, Explicit VR Little Endian (PS3.10 §7.1).
_GROUP_LENGTH_HEADER: Final = b"\x02\x00\x00\x00UL\x04\x00"


def _meta_bytes(
    body: Dataset,
    syntax: TransferSyntax,
    base: Dataset | None,
    implementation_class_uid: str,
    implementation_version_name: str | None,
    strict: bool,
) -> bytes | None:
    """The File Meta group of the common case, encoded without building it, or None.

    The common case: the base holds nothing :func:`build_meta` would keep, and the data set
    has SOP Class and Instance UIDs as UI bytes of even length (as read from a file).  The
    group is then the constant elements (encoded once per syntax and implementation by the
    general path, :func:`_meta_constants`) around the two UIDs' own bytes -- the bytes
    ``build_meta`` and the writer give, without making and encoding a meta data set for
    every file (which was a third of encoding a small file).
    """
    if base is not None and not _MADE_META_TAGS.issuperset(base.tags()):
        return None
    uids = []
    for tag in (_SOP_CLASS, _SOP_INSTANCE):
        found = body.get(tag)
        if found is None or found.vr is not VR.UI:
            return None
        raw = found.raw
        value = found.value
        if type(raw) is not bytes or len(raw) & 1 or not (isinstance(value, str) and value):
            return None
        uids.append(raw)
    version, tail = _meta_constants(
        syntax.uid, implementation_class_uid, implementation_version_name, strict
    )
    sop_class, sop_instance = uids
    # (0002,0002) and (0002,0003) UI, Explicit VR Little Endian; a UID is at most 64 bytes
    # (PS3.5 §9.1), so the 16-bit length holds it (longer ones take the general path).
    if len(sop_class) > 0xFFFF or len(sop_instance) > 0xFFFF:
        return None
    group = b"".join(
        (
            version,
            b"\x02\x00\x02\x00UI",
            len(sop_class).to_bytes(2, "little"),
            sop_class,
            b"\x02\x00\x03\x00UI",
            len(sop_instance).to_bytes(2, "little"),
            sop_instance,
            tail,
        )
    )
    return _GROUP_LENGTH_HEADER + len(group).to_bytes(4, "little") + group


@functools.lru_cache(maxsize=64)
def _meta_constants(
    syntax_uid: str,
    implementation_class_uid: str,
    implementation_version_name: str | None,
    strict: bool,
) -> tuple[bytes, bytes]:
    """The encoded meta elements before (0002,0002) -- the Version -- and after (0002,0003),
    made by the general path (:func:`_constant_meta` encoded by the writer)."""
    before = Dataset()
    after = Dataset()
    for element in _constant_meta(
        syntax_uid, implementation_class_uid, implementation_version_name, strict
    )[1:]:
        (before if element.tag < _MEDIA_SOP_CLASS else after).add(element)
    ctx = _context(True, False, strict)
    return encode_dataset(before, ctx), encode_dataset(after, ctx)


def encode_file(
    dataset: Dataset | FileDataset,
    *,
    transfer_syntax: str | TransferSyntax | None = None,
    meta: Dataset | None = None,
    preamble: bytes | None = None,
    lengths: LengthPolicy = LengthPolicy.PRESERVE,
    strict: bool = False,
    implementation_class_uid: str = IMPLEMENTATION_CLASS_UID,
    implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME,
) -> list[Piece]:
    """The pieces of a Part 10 file (see :func:`write_file`), deferred values unread."""
    source_syntax: TransferSyntax | None = None
    if isinstance(dataset, FileDataset):
        source_syntax = dataset.transfer_syntax
        meta = meta if meta is not None else dataset.meta
        if preamble is None and dataset.preamble is not None:
            preamble = dataset.preamble
        body = dataset.dataset
    else:
        body = dataset
    if transfer_syntax is None:
        syntax = source_syntax or EXPLICIT_LE
    elif isinstance(transfer_syntax, TransferSyntax):
        syntax = transfer_syntax
    else:
        syntax = syntax_for_uid(transfer_syntax)
    _check_pixels(body, syntax, source_syntax)
    if preamble is None:
        preamble = bytes(PREAMBLE_LENGTH)
    if len(preamble) != PREAMBLE_LENGTH:
        raise EncodeError(f"the preamble is {PREAMBLE_LENGTH} bytes, not {len(preamble)}")
    options = _write_options(lengths)
    head = _meta_bytes(
        body, syntax, meta, implementation_class_uid, implementation_version_name, strict
    )
    if head is not None:
        pieces: list[Piece] = [preamble + MAGIC + head]
    else:
        full_meta = build_meta(
            body,
            syntax,
            base=meta,
            implementation_class_uid=implementation_class_uid,
            implementation_version_name=implementation_version_name,
            strict=strict,
        )
        pieces = [preamble + MAGIC]
        pieces += encode_pieces(full_meta, _context(True, False, strict), options)
    body_ctx = _context(syntax.little_endian, syntax.implicit_vr, strict)
    body_pieces = encode_pieces(body, body_ctx, options)
    if syntax.deflated:
        body_pieces = [_DeflatedPieces(body_pieces)]
    pieces += body_pieces
    return pieces


@attrs.frozen
class _DeflatedPieces:
    """Pieces compressed with raw deflate while streamed (PS3.5 A.5)."""

    pieces: list[Piece]

    @property
    def length(self) -> int:  # pragma: no cover - not known before compression
        return -1

    def read(self) -> bytes:
        return b"".join(self.iter_chunks(1 << 20))

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        produced = 0
        for piece in self.pieces:
            chunks = (
                [piece] if isinstance(piece, bytes | bytearray) else piece.iter_chunks(chunk_size)
            )
            for chunk in chunks:
                out = deflater.compress(chunk)
                if out:
                    produced += len(out)
                    yield out
        tail = deflater.flush()
        produced += len(tail)
        # "If the deflate algorithm produces an odd number of bytes then a single trailing
        # NULL byte shall be added" (PS3.5 A.5).
        yield tail + b"\x00" if produced & 1 else tail


def write_file(
    path: str | os.PathLike[str],
    dataset: Dataset | FileDataset,
    *,
    transfer_syntax: str | TransferSyntax | None = None,
    meta: Dataset | None = None,
    preamble: bytes | None = None,
    lengths: LengthPolicy = LengthPolicy.PRESERVE,
    strict: bool = False,
    implementation_class_uid: str = IMPLEMENTATION_CLASS_UID,
    implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME,
    durable: bool = False,
) -> int:
    """Write a DICOM file atomically; returns its size in bytes.

    The file is always written atomically: its bytes go to a new file no one can open yet
    (an ``O_TMPFILE`` inode in the target's directory on Linux, else a hidden
    ``.{name}.{pid}.{n}.tmp`` created exclusively), which then gets the target's name (a
    link when the name is free, a rename over the target when it is not), so a reader sees
    the old file or the whole new one, never a part; on any error (encoding, a deferred
    value that cannot be read, a full disk) the new file is removed and the target is
    untouched (:mod:`~dicompile.runtime.media.atomic_file`).

    Durability is a separate choice, off by default.  Without ``durable`` the new file sits
    in the page cache and a power failure (not a crash of the process) may lose it or, after
    the rename, leave the target empty on some file systems.  That is the contract of
    pydicom's ``save_as``, dcmtk's ``saveFile`` and most libraries; two fsyncs per file cost
    more than the rest of the write (they wait for the disk) and a bulk conversion can be
    run again.  Code that tells someone else the data is safe must ask for ``durable=True``
    (fsync of the file before it gets its name, of the directory after); the Storage SCP does
    so on its own before it answers Success
    (:class:`~dicompile.runtime.net.services.storage.FileStore`, ``fsync=True``).

    Parameters
    ----------
    path
        Target file; replaced atomically if it exists.
    dataset
        A data set, or a :class:`FileDataset` (its meta is the base of the new one and its
        transfer syntax the default).
    transfer_syntax
        Target syntax UID; any of the four native syntaxes, or the data set's own
        encapsulated syntax (pixel data is passed through, never recompressed).
    meta
        Elements of group 0002 to keep (AE titles, private information); the rest is made.
    preamble
        128 bytes; zeros by default (PS3.10 §7.1).
    lengths
        Sequence and item length form (default: as read; explicit for new ones).
    durable
        Also flush the file and its directory to the disk (fsync) before returning, so the
        file survives a power failure once this returns.  Default False: atomic only.

    Raises
    ------
    EncodeError
        The data set cannot be encoded in that syntax (see :func:`build_meta` too).
    OSError
        The file cannot be written; nothing is left behind.

    References
    ----------
    PS3.10 §7.1, Table 7.1-1; PS3.5 Annex A.
    """
    pieces = encode_file(
        dataset,
        transfer_syntax=transfer_syntax,
        meta=meta,
        preamble=preamble,
        lengths=lengths,
        strict=strict,
        implementation_class_uid=implementation_class_uid,
        implementation_version_name=implementation_version_name,
    )
    target = os.fspath(path)
    directory, name = os.path.split(target)
    with new_file(directory, name) as pending:
        written = _write_all(pending.fd, pieces)
        if durable:
            pending.sync()
        pending.replace(target)
    if durable:
        fsync_directory(directory)
    return written


def _write_all(fd: int, pieces: list[Piece]) -> int:
    """Write every piece to ``fd``; returns the bytes written.

    In-memory pieces are gathered (no copy) and written with one ``writev`` together with
    the next chunk of a deferred value, which is streamed ``STREAM_CHUNK`` bytes at a time.
    """
    written = 0
    batch: list[bytes | bytearray] = []
    for piece in pieces:
        if isinstance(piece, bytes | bytearray):
            if piece:
                batch.append(piece)
            continue
        for chunk in piece.iter_chunks(STREAM_CHUNK):
            if chunk:
                batch.append(chunk)
                written += writev_all(fd, batch)
                batch = []
    if batch:
        written += writev_all(fd, batch)
    return written


def file_bytes(
    dataset: Dataset | FileDataset,
    *,
    transfer_syntax: str | TransferSyntax | None = None,
    lengths: LengthPolicy = LengthPolicy.PRESERVE,
    strict: bool = False,
) -> bytes:
    """The bytes of a Part 10 file in memory (deferred values are read in)."""
    pieces = encode_file(dataset, transfer_syntax=transfer_syntax, lengths=lengths, strict=strict)
    return b"".join(
        piece if isinstance(piece, bytes | bytearray) else piece.read() for piece in pieces
    )
