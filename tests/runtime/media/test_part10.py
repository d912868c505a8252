"""Part 10 files: preamble, DICM, File Meta Information, quirks, transcoding (PS3.10 §7.1)."""

from __future__ import annotations

import os
import struct
import uuid
import warnings
import zlib
from pathlib import Path

import pytest

from dicompile.runtime import read_file, write_file
from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.transfer_syntax import (
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated
from dicompile.runtime.core.lookup import MappingLookup
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError, DicomWarning, EncodeError
from dicompile.runtime.media.part10 import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    file_bytes,
    read_bytes,
)

NATIVE = [
    IMPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
]
LOOKUP = MappingLookup(
    {
        0x00080005: ("CS", "SpecificCharacterSet"),
        0x00080016: ("UI", "SOPClassUID"),
        0x00080018: ("UI", "SOPInstanceUID"),
        0x00081115: ("SQ", "ReferencedSeriesSequence"),
        0x00081150: ("UI", "ReferencedSOPClassUID"),
        0x00100010: ("PN", "PatientName"),
        0x00280010: ("US", "Rows"),
        0x00280100: ("US", "BitsAllocated"),
        0x7FE00010: ("OB or OW", "PixelData"),
    }
)


def sample() -> Dataset:
    return Dataset(
        [
            DataElement(0x00080005, VR.CS, "ISO_IR 100"),
            DataElement(0x00080016, VR.UI, "1.2.840.10008.5.1.4.1.1.7"),
            DataElement(0x00080018, VR.UI, "1.2.3.4.5"),
            DataElement(0x00081115, VR.SQ, [Dataset([DataElement(0x00081150, VR.UI, "1.2.3")])]),
            DataElement(0x00100010, VR.PN, "Müller^Jörg"),
            DataElement(0x00280010, VR.US, 2),
            DataElement(0x00280100, VR.US, 16),
            DataElement(0x7FE00010, VR.OW, bytes(range(8))),
        ]
    )


def test_implementation_class_uid_is_the_documented_uuid_uid() -> None:
    # PS3.5 §B.2: 2.25 followed by the UUID as a decimal integer.
    derived = uuid.uuid5(uuid.NAMESPACE_URL, "https://dicompile.invalid/implementation-class/0.1")
    assert f"2.25.{derived.int}" == IMPLEMENTATION_CLASS_UID
    assert len(IMPLEMENTATION_CLASS_UID) <= 64
    assert len(IMPLEMENTATION_VERSION_NAME) <= 16  # SH


def test_written_file_layout_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    size = write_file(path, sample())
    data = path.read_bytes()
    assert size == len(data)
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    # (0002,0000) UL 4 = the byte count of the rest of group 0002 (PS3.10 Table 7.1-1).
    assert data[132:140] == b"\x02\x00\x00\x00UL\x04\x00"
    group_length = struct.unpack_from("<L", data, 140)[0]
    assert data[144 + group_length : 144 + group_length + 2] == b"\x08\x00"
    fd = read_file(path)
    meta = fd.meta
    assert meta[0x00020000].value == group_length
    assert meta[0x00020001].value == b"\x00\x01"
    assert meta[0x00020002].value == "1.2.840.10008.5.1.4.1.1.7"
    assert meta[0x00020003].value == "1.2.3.4.5"
    assert meta[0x00020010].value == EXPLICIT_VR_LITTLE_ENDIAN
    assert meta[0x00020012].value == IMPLEMENTATION_CLASS_UID
    assert meta[0x00020013].value == IMPLEMENTATION_VERSION_NAME
    assert fd.dataset == sample()


def test_rewrite_of_a_dicompile_file_is_byte_identical(tmp_path: Path) -> None:
    first = tmp_path / "first.dcm"
    second = tmp_path / "second.dcm"
    write_file(first, sample())
    write_file(second, read_file(first))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("source", NATIVE)
@pytest.mark.parametrize("target", NATIVE)
def test_transcoding_between_native_syntaxes(source: str, target: str) -> None:
    start = read_bytes(file_bytes(sample(), transfer_syntax=source), lookup=LOOKUP)
    assert start.transfer_syntax.uid == source
    moved = read_bytes(file_bytes(start, transfer_syntax=target), lookup=LOOKUP)
    assert moved.transfer_syntax.uid == target
    assert moved.dataset == sample()
    assert moved.meta[0x00020010].value == target
    # Writing again in the same syntax repeats the bytes.
    assert file_bytes(moved) == file_bytes(read_bytes(file_bytes(moved), lookup=LOOKUP))


def test_big_endian_bytes_on_disk() -> None:
    data = file_bytes(sample(), transfer_syntax=EXPLICIT_VR_BIG_ENDIAN)
    # (0028,0010) US 2 in big endian: group, element, length and value all swapped.
    assert b"\x00\x28\x00\x10US\x00\x02\x00\x02" in data
    # OW pixel data 00 01 02 03 ... is stored as swapped 16-bit words.
    assert b"OW\x00\x00\x00\x00\x00\x08\x01\x00\x03\x02\x05\x04\x07\x06" in data


def test_deflated_is_raw_deflate_of_the_explicit_le_data_set() -> None:
    deflated = file_bytes(sample(), transfer_syntax=DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
    explicit = file_bytes(sample(), transfer_syntax=EXPLICIT_VR_LITTLE_ENDIAN)
    start = 132 + 12 + struct.unpack_from("<L", deflated, 140)[0]
    body = zlib.decompressobj(-15).decompress(deflated[start:])
    explicit_start = 132 + 12 + struct.unpack_from("<L", explicit, 140)[0]
    assert body == explicit[explicit_start:]
    assert (len(deflated) - start) % 2 == 0  # padded to even length (PS3.5 A.5)


def test_deflated_with_zlib_header_is_read_with_a_warning() -> None:
    deflated = file_bytes(sample(), transfer_syntax=DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
    start = 132 + 12 + struct.unpack_from("<L", deflated, 140)[0]
    body = zlib.decompressobj(-15).decompress(deflated[start:])
    wrapped = deflated[:start] + zlib.compress(body)
    with pytest.warns(DicomWarning, match="zlib header"):
        assert read_bytes(wrapped).dataset == sample()
    with pytest.raises(DecodeError, match="zlib header"):
        read_bytes(wrapped, strict=True)


def _meta_end(data: bytes) -> int:
    return 132 + 12 + int(struct.unpack_from("<L", data, 140)[0])


def test_quirk_no_preamble() -> None:
    data = file_bytes(sample())
    with pytest.warns(DicomWarning, match="no 128-byte preamble"):
        assert read_bytes(data[128:]).dataset == sample()
    with pytest.warns(DicomWarning, match='no preamble and no "DICM"'):
        assert read_bytes(data[132:]).dataset == sample()
    with pytest.raises(DecodeError):
        read_bytes(data[128:], strict=True)


def test_quirk_no_meta_guesses_the_syntax() -> None:
    for syntax, ctx in (
        (IMPLICIT_VR_LITTLE_ENDIAN, CodecContext(implicit_vr=True, lookup=LOOKUP)),
        (EXPLICIT_VR_LITTLE_ENDIAN, CodecContext()),
        (EXPLICIT_VR_BIG_ENDIAN, CodecContext(little_endian=False)),
    ):
        raw = encode_dataset(sample(), ctx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomWarning)
            fd = read_bytes(raw, lookup=LOOKUP)
        assert fd.transfer_syntax.uid == syntax
        assert fd.dataset == sample()


def test_quirk_meta_without_group_length() -> None:
    data = file_bytes(sample())
    no_length = data[:132] + data[144:]
    with pytest.warns(DicomWarning, match="no File Meta Information Group Length"):
        fd = read_bytes(no_length)
    assert fd.dataset == sample() and 0x00020000 not in fd.meta


def test_quirk_wrong_group_length() -> None:
    data = bytearray(file_bytes(sample()))
    struct.pack_into("<L", data, 140, 10)
    with pytest.warns(DicomWarning, match="Group Length says 10"):
        assert read_bytes(bytes(data)).dataset == sample()


def test_quirk_implicit_vr_meta() -> None:
    data = file_bytes(sample())
    meta, _, _ = _read_meta_only(data)
    implicit_meta = encode_dataset(meta, CodecContext(implicit_vr=True))
    broken = data[:132] + implicit_meta + data[_meta_end(data) :]
    with pytest.warns(DicomWarning, match="implicit VR"):
        assert read_bytes(broken).dataset == sample()


def _read_meta_only(data: bytes) -> tuple[Dataset, int, object]:
    fd = read_bytes(data)
    return fd.meta, 0, None


def test_quirk_data_set_in_the_other_explicitness() -> None:
    data = file_bytes(sample())
    implicit_body = encode_dataset(sample(), CodecContext(implicit_vr=True))
    labelled_explicit = data[: _meta_end(data)] + implicit_body
    with pytest.warns(DicomWarning, match="says explicit VR but the data set is implicit"):
        assert read_bytes(labelled_explicit, lookup=LOOKUP).dataset == sample()


def test_quirk_trailing_zero_padding() -> None:
    data = file_bytes(sample()) + bytes(10)
    with pytest.warns(DicomWarning, match="trailing zero bytes"):
        assert read_bytes(data).dataset == sample()


def test_missing_sop_uids_warn_or_fail() -> None:
    bare = Dataset([DataElement(0x00100010, VR.PN, "x")])
    with pytest.warns(DicomWarning, match="SOP Class UID"):
        data = file_bytes(bare)
    assert read_bytes(data).meta[0x00020002].value is None
    with pytest.raises(EncodeError, match="SOP Class UID"):
        file_bytes(bare, strict=True)


def test_stop_before_pixels(tmp_path: Path) -> None:
    path = tmp_path / "p.dcm"
    write_file(path, sample())
    fd = read_file(path, stop_before_pixels=True)
    assert 0x7FE00010 not in fd.dataset and 0x00280100 in fd.dataset


def test_encapsulated_pixel_data_passes_through(tmp_path: Path) -> None:
    items = (
        b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
        + b"\xfe\xff\x00\xe0\x04\x00\x00\x00\xff\xd8\xff\xd9"
        + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    )
    ds = sample()
    ds.add(DataElement(0x7FE00010, VR.OB, Encapsulated(items)))
    path = tmp_path / "jpeg.dcm"
    write_file(path, ds, transfer_syntax="1.2.840.10008.1.2.4.50")
    fd = read_file(path)
    assert fd.transfer_syntax.encapsulated
    value = fd.dataset[0x7FE00010].value
    assert isinstance(value, Encapsulated) and value.load() == items
    # Encapsulated pixel data is never silently relabelled or decompressed.
    with pytest.raises(EncodeError, match="native pixel data"):
        file_bytes(fd, transfer_syntax=EXPLICIT_VR_LITTLE_ENDIAN)
    with pytest.raises(EncodeError, match="cannot be relabelled"):
        file_bytes(fd, transfer_syntax="1.2.840.10008.1.2.4.70")
    with pytest.raises(EncodeError, match="needs encapsulated"):
        file_bytes(sample(), transfer_syntax="1.2.840.10008.1.2.4.50")


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "keep.dcm"
    write_file(path, sample())
    before = path.read_bytes()
    bad = sample()
    # A value that cannot be encoded: 70000 does not fit US (found only while writing).
    bad.add(DataElement(0x00280010, VR.US, 70000))
    with pytest.raises(EncodeError):
        write_file(path, bad)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.dcm"]


def test_write_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    write_file(path, sample())
    inode = os.stat(path).st_ino
    other = sample()
    other.add(DataElement(0x00100010, VR.PN, "Other^Name"))
    write_file(path, other)
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one
    assert read_file(path).dataset[0x00100010].value == "Other^Name"


def test_unknown_transfer_syntax_is_read_as_encapsulated_explicit_le() -> None:
    data = file_bytes(sample())
    meta = read_bytes(data).meta
    meta.add(DataElement(0x00020010, VR.UI, "1.2.3.999"))
    from dicompile.runtime.codec.writer import encode_dataset as encode

    body = data[_meta_end(data) :]
    strange = data[:132] + encode(meta, CodecContext()) + body
    with pytest.warns(DicomWarning, match="unknown Transfer Syntax UID '1.2.3.999'"):
        fd = read_bytes(strange)
    assert fd.transfer_syntax.encapsulated and fd.dataset == sample()


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "mode.dcm"
    old = os.umask(0o022)
    try:
        write_file(path, sample(), durable=False)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert read_file(path).dataset == sample()
