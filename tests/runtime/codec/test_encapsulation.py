"""Encapsulated pixel data (PS3.5 §A.4): hand-made vectors, error paths, round trips,
and pydicom (test-only oracle) on its own encoder and bundled files."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.encapsulation import (
    EncapsulatedPixelData,
    FrameSource,
    OffsetTable,
    encapsulate,
    encapsulate_fragments,
    parse_encapsulated,
)
from dicompile.runtime.errors import DecodeError, EncodeError

ITEM = b"\xfe\xff\x00\xe0"  # (FFFE,E000) little endian: group FFFE, element E000
DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD) with length 0


def item(value: bytes) -> bytes:
    """An item: tag, 4-byte little-endian length, value."""
    return ITEM + struct.pack("<L", len(value)) + value


def bot(*offsets: int) -> bytes:
    return item(struct.pack(f"<{len(offsets)}L", *offsets))


def frames_of(parsed: EncapsulatedPixelData) -> list[bytes]:
    return [parsed.get_frame(i) for i in range(parsed.number_of_frames)]


def padded(frame: bytes) -> bytes:
    return frame + b"\x00" * (len(frame) % 2)


# --- the standard's own examples ------------------------------------------------------


def test_ps35_table_a4_1_single_frame_three_fragments_no_bot() -> None:
    # PS3.5 Table A.4-1: empty BOT (FFFE,E000 + 00000000H), then fragments of 04C6H,
    # 024AH and 0628H bytes, then the delimiter.  One frame made of all three.
    fragments = [bytes([1]) * 0x4C6, bytes([2]) * 0x24A, bytes([3]) * 0x628]
    value = item(b"") + b"".join(item(f) for f in fragments) + DELIMITER
    parsed = parse_encapsulated(value, number_of_frames=1)
    assert parsed.basic_offset_table == ()
    assert [f.length for f in parsed.fragments] == [0x4C6, 0x24A, 0x628]
    assert parsed.fragments[0].offset == 16  # BOT header 8 + first item header 8
    assert parsed.frame_source is FrameSource.SINGLE_FRAME
    assert frames_of(parsed) == [b"".join(fragments)]
    assert parsed.end == len(value)


def test_ps35_table_a4_2_two_frames_with_bot() -> None:
    # PS3.5 Table A.4-2: BOT 00000000H 00000646H; frame 1 = fragments of 02C8H and 036EH
    # bytes, frame 2 = 0BC8H bytes.  0646H = (8 + 02C8H) + (8 + 036EH): the offset counts
    # the item headers from the first fragment's tag, as §A.4 says.
    assert 8 + 0x2C8 + 8 + 0x36E == 0x646
    f1a, f1b, f2 = b"\x11" * 0x2C8, b"\x12" * 0x36E, b"\x21" * 0xBC8
    value = bot(0, 0x646) + item(f1a) + item(f1b) + item(f2) + DELIMITER
    parsed = parse_encapsulated(value, number_of_frames=2)
    assert parsed.basic_offset_table == (0, 0x646)
    assert parsed.frame_source is FrameSource.BASIC_OFFSET_TABLE
    assert frames_of(parsed) == [f1a + f1b, f2]
    # Our builder, asked for the same fragments, writes the same bytes.
    built = encapsulate_fragments([[f1a, f1b], [f2]])
    assert built.pixel_data == value


def test_ps35_table_g_1_rle_three_frames() -> None:
    # PS3.5 Table G-1: RLE, BOT 0, 02D0H, 0642H over frames of 02C8H, 036AH, 0BC8H bytes.
    frames = [b"\x01" * 0x2C8, b"\x02" * 0x36A, b"\x03" * 0xBC8]
    built = encapsulate(frames)
    assert built.pixel_data[:20] == bot(0, 0x2D0, 0x642)
    parsed = parse_encapsulated(built.pixel_data, number_of_frames=3)
    assert parsed.basic_offset_table == (0, 0x2D0, 0x642)
    assert frames_of(parsed) == frames


# --- hand-made vectors for each way of finding frames ---------------------------------


def test_value_may_continue_past_the_delimiter() -> None:
    # The reader passes a view from the value start to the end of its file.
    value = item(b"") + item(b"ab") + DELIMITER
    parsed = parse_encapsulated(value + b"\x08\x00\x10\x00rest of data set")
    assert parsed.end == len(value) == 8 + 10 + 8
    assert frames_of(parsed) == [b"ab"]


def test_zero_copy_views_on_an_mmap(tmp_path: Path) -> None:
    path = tmp_path / "pixels.bin"
    path.write_bytes(b"HEADER" + bot(0, 10) + item(b"ab") + item(b"cdef") + DELIMITER)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = memoryview(mm)
        parsed = parse_encapsulated(view[6:], base_offset=6)
        (fragment,) = parsed.frame_fragments(1)
        assert isinstance(fragment, memoryview) and fragment.obj is mm
        assert parsed.get_frame(0) == b"ab" and bytes(fragment) == b"cdef"
        del fragment, parsed, view  # release the exports so the mmap can close


def test_one_fragment_per_frame_when_counts_match() -> None:
    value = item(b"") + item(b"a1") + item(b"b2") + item(b"c3") + DELIMITER
    parsed = parse_encapsulated(value, number_of_frames=3)
    assert parsed.frame_source is FrameSource.ONE_FRAGMENT_PER_FRAME
    assert frames_of(parsed) == [b"a1", b"b2", b"c3"]


def test_jpeg_markers_delimit_frames() -> None:
    # Two JPEG frames (SOI FFD8 then a marker's FF), the first in two fragments.
    a1, a2, b1 = b"\xff\xd8\xff\xe0ab", b"cd\xff\xd9", b"\xff\xd8\xff\xdb\xff\xd9"
    value = item(b"") + item(a1) + item(a2) + item(b1) + DELIMITER
    for count in (2, None):
        parsed = parse_encapsulated(value, number_of_frames=count)
        assert parsed.frame_source is FrameSource.JPEG_MARKERS
        assert frames_of(parsed) == [a1 + a2, b1]


def test_jpeg2000_markers_delimit_frames() -> None:
    # SOC FF4F then SIZ FF51 open each JPEG 2000 codestream (ISO 15444-1 A.4.1).
    a1, a2, b1 = b"\xff\x4f\xff\x51\x00\x29", b"\x00\x00\xff\xd9", b"\xff\x4f\xff\x51\xff\xd9"
    value = item(b"") + item(a1) + item(a2) + item(b1) + DELIMITER
    parsed = parse_encapsulated(value, number_of_frames=2)
    assert parsed.frame_source is FrameSource.JPEG2000_MARKERS
    assert frames_of(parsed) == [a1 + a2, b1]


def test_extended_offset_table() -> None:
    value = item(b"") + item(b"abcd") + item(b"ef") + DELIMITER
    offsets = struct.pack("<2Q", 0, 12)  # second item tag: 8 + 4 bytes after the first
    lengths = struct.pack("<2Q", 4, 1)  # frame 2 is one byte plus the pad byte
    parsed = parse_encapsulated(
        value, extended_offset_table=offsets, extended_offset_table_lengths=lengths
    )
    assert parsed.frame_source is FrameSource.EXTENDED_OFFSET_TABLE
    assert frames_of(parsed) == [b"abcd", b"e"]


def test_require_delimiter_false_accepts_the_buffer_end() -> None:
    value = item(b"") + item(b"ab")
    with pytest.raises(DecodeError, match="truncated"):
        parse_encapsulated(value)
    parsed = parse_encapsulated(value, require_delimiter=False)
    assert frames_of(parsed) == [b"ab"] and parsed.end == len(value)


def test_get_frame_index_out_of_range() -> None:
    parsed = parse_encapsulated(item(b"") + item(b"ab") + DELIMITER)
    with pytest.raises(IndexError):
        parsed.get_frame(1)


# --- malformed input: every DecodeError path names the byte offset ---------------------

# name: (value, byte offset named by the error with base_offset=100, message)
BAD_VALUES: dict[str, tuple[bytes, int, str]] = {
    # 4 bytes: not even an item header
    "short": (b"\xfe\xff\x00\xe0", 100, "only 4 bytes left"),
    # first item is a delimiter: no BOT
    "no bot": (DELIMITER, 100, "the sequence ends before the Basic Offset Table"),
    # (7FE0,0010) where the BOT item tag should be
    "bad bot tag": (b"\xe0\x7f\x10\x00\x00\x00\x00\x00", 100, r"found tag \(7FE0,0010\)"),
    # BOT of 6 bytes
    "bot not x4": (item(b"\0" * 6) + DELIMITER, 100, "length 6 is not a multiple of 4"),
    # BOT with undefined length FFFFFFFF
    "bot undefined": (ITEM + b"\xff\xff\xff\xff", 100, "undefined item length"),
    # BOT says 16 bytes, 4 present
    "bot past end": (ITEM + b"\x10\0\0\0" + b"\0" * 4, 100, "length 16 runs past the end"),
    # an Item Delimitation Item (FFFE,E00D) where fragment 0 should be, at 100 + 8
    "bad fragment tag": (
        item(b"") + b"\xfe\xff\x0d\xe0\0\0\0\0",
        108,
        r"fragment item 0: found tag \(FFFE,E00D\)",
    ),
    "odd fragment": (item(b"") + item(b"abc") + DELIMITER, 108, "fragment item 0: length 3"),
    "empty fragment": (item(b"") + item(b"") + DELIMITER, 108, "fragment item 0: length 0"),
    # fragment length 0100H with only 2 bytes after it
    "fragment past end": (
        item(b"") + ITEM + b"\x00\x01\0\0ab",
        108,
        "length 256 runs past the end",
    ),
    "fragment undefined": (item(b"") + ITEM + b"\xff\xff\xff\xff", 108, "undefined item length"),
    # delimiter after BOT (8) and one 2-byte fragment (10): at 100 + 18
    "delimiter with length": (
        item(b"") + item(b"ab") + b"\xfe\xff\xdd\xe0\x02\0\0\0",
        118,
        "delimiter .* has length 0x00000002",
    ),
    "truncated after fragment": (
        item(b"") + item(b"ab") + b"\xfe\xff",
        118,
        "fragment item 1: only 2 bytes left",
    ),
    "no fragments": (item(b"") + DELIMITER, 100, "has no fragments"),
    # offset-table errors name the table's position, and the bad target in the text
    "bot first not 0": (bot(4) + item(b"ab") + DELIMITER, 100, "first frame's offset is 4"),
    "bot not increasing": (
        bot(0, 0) + item(b"ab") + item(b"cd") + DELIMITER,
        100,
        "offset 0 of frame 1 does not increase",
    ),
    # BOT of 2 offsets: fragments start at 100 + 16, so offset 4 is byte 120
    "bot between items": (
        bot(0, 4) + item(b"ab") + item(b"cd") + DELIMITER,
        100,
        r"offset 4 of frame 1 \(byte 120\) is not the start of a fragment item",
    ),
    "bot past fragments": (
        bot(0, 99) + item(b"ab") + DELIMITER,
        100,
        "offset 99 of frame 1 .* is not the start",
    ),
    "cannot delimit": (
        item(b"") + item(b"ab") + item(b"cd") + DELIMITER,
        100,
        "frames cannot be delimited",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_malformed_values(name: str) -> None:
    value, offset, message = BAD_VALUES[name]
    with pytest.raises(DecodeError, match=message) as raised:
        parse_encapsulated(value, base_offset=100)
    assert raised.value.offset == offset
    assert str(raised.value).startswith(f"byte {offset}: ")


def test_number_of_frames_disagrees_with_bot() -> None:
    value = bot(0, 10) + item(b"ab") + item(b"cd") + DELIMITER
    with pytest.raises(DecodeError, match="basic offset table gives 2 frames but Number"):
        parse_encapsulated(value, number_of_frames=3)
    with pytest.raises(DecodeError, match="at least 1"):
        parse_encapsulated(value, number_of_frames=0)


def test_more_frames_than_fragments_cannot_be_delimited() -> None:
    value = item(b"") + item(b"ab") + item(b"cd") + DELIMITER
    with pytest.raises(DecodeError, match=r"2 fragments do not match Number of Frames \(3\)"):
        parse_encapsulated(value, number_of_frames=3)


EOT_VALUE = item(b"") + item(b"abcd") + item(b"ef") + DELIMITER


@pytest.mark.parametrize(
    ("offsets", "lengths", "value", "message"),
    [
        (struct.pack("<2Q", 0, 12), None, EOT_VALUE, "must be present together"),
        (struct.pack("<2Q", 0, 12), b"\0" * 12, EOT_VALUE, "12 bytes is not a whole number"),
        (struct.pack("<2Q", 0, 12), struct.pack("<Q", 4), EOT_VALUE, "2 offsets but its Lengths 1"),
        (b"", b"", EOT_VALUE, "is empty"),
        (struct.pack("<Q", 0), struct.pack("<Q", 6), EOT_VALUE, "lists 1 frames but .* 2 frag"),
        (struct.pack("<2Q", 0, 10), struct.pack("<2Q", 4, 2), EOT_VALUE, "offset 10 of frame 1"),
        (struct.pack("<2Q", 12, 0), struct.pack("<2Q", 2, 4), EOT_VALUE, "first frame's offset"),
        (struct.pack("<2Q", 0, 12), struct.pack("<2Q", 4, 3), EOT_VALUE, "frame 1 has length 3"),
        (
            struct.pack("<2Q", 0, 12),
            struct.pack("<2Q", 4, 2),
            bot(0, 12) + item(b"abcd") + item(b"ef") + DELIMITER,
            "Basic Offset Table must be empty",
        ),
    ],
)
def test_inconsistent_extended_offset_table(
    offsets: bytes, lengths: bytes | None, value: bytes, message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_encapsulated(
            value, extended_offset_table=offsets, extended_offset_table_lengths=lengths
        )


# --- building --------------------------------------------------------------------------


def test_encapsulate_pads_odd_frames_and_writes_the_bot() -> None:
    built = encapsulate([b"abc", b"de"])
    # BOT: offsets 0 and 8 + 4 (the first frame padded to 4 bytes)
    expected = bot(0, 12) + item(b"abc\x00") + item(b"de") + DELIMITER
    assert built.pixel_data == expected
    assert built.extended_offset_table is None


def test_encapsulate_without_table_and_extended() -> None:
    assert encapsulate([b"abc"], offset_table=OffsetTable.NONE).pixel_data == (
        item(b"") + item(b"abc\x00") + DELIMITER
    )
    built = encapsulate([b"abc", b"de"], offset_table=OffsetTable.EXTENDED)
    assert built.pixel_data == item(b"") + item(b"abc\x00") + item(b"de") + DELIMITER
    assert built.extended_offset_table == struct.pack("<2Q", 0, 12)
    assert built.extended_offset_table_lengths == struct.pack("<2Q", 4, 2)


def test_encapsulate_splits_frames() -> None:
    # 7 bytes padded to 8 = 4 words over 3 fragments: 4, 2, 2 bytes, pad in the last.
    built = encapsulate([b"abcdefg"], fragments_per_frame=3)
    assert built.pixel_data == bot(0) + item(b"abcd") + item(b"ef") + item(b"g\x00") + DELIMITER
    built = encapsulate([b"abcdefg"], max_fragment_size=4)
    assert built.pixel_data == bot(0) + item(b"abcd") + item(b"efg\x00") + DELIMITER


@pytest.mark.parametrize(
    ("frames", "options", "message"),
    [
        ([b""], {}, "frame 0 is empty"),
        ([], {}, "at least one frame"),
        ([b"ab"], {"fragments_per_frame": 2, "max_fragment_size": 2}, "not both"),
        ([b"ab"], {"fragments_per_frame": 0}, "at least 1"),
        ([b"ab"], {"max_fragment_size": 3}, "must be even"),
        ([b"abc"], {"fragments_per_frame": 3}, "cannot make 3 fragments"),
        (
            [b"abcd"],
            {"fragments_per_frame": 2, "offset_table": OffsetTable.EXTENDED},
            "needs each frame in one fragment",
        ),
    ],
)
def test_encapsulate_errors(frames: list[bytes], options: dict[str, object], message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        encapsulate(frames, **options)  # type: ignore[arg-type]


def test_encapsulate_fragments_rejects_odd_fragments() -> None:
    with pytest.raises(EncodeError, match="a fragment of 3 bytes"):
        encapsulate_fragments([[b"abc"]])
    with pytest.raises(EncodeError, match="has no fragments"):
        encapsulate_fragments([[]])


# --- properties ------------------------------------------------------------------------

frame_lists = st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=8)


@given(
    frames=frame_lists,
    table=st.sampled_from(list(OffsetTable)),
    split=st.one_of(
        st.none(),
        st.tuples(st.just("count"), st.integers(1, 4)),
        st.tuples(st.just("size"), st.integers(1, 20).map(lambda n: 2 * n)),
    ),
)
def test_round_trip(frames: list[bytes], table: OffsetTable, split: tuple[str, int] | None) -> None:
    options: dict[str, int] = {}
    if split is not None and table is not OffsetTable.EXTENDED:
        kind, amount = split
        if kind == "count":
            amount = min(amount, min((len(f) + 1) // 2 for f in frames))
            options["fragments_per_frame"] = amount
        else:
            options["max_fragment_size"] = amount
    built = encapsulate(frames, offset_table=table, **options)  # type: ignore[arg-type]
    try:
        parsed = parse_encapsulated(
            built.pixel_data + b"trailing",
            number_of_frames=len(frames),
            extended_offset_table=built.extended_offset_table,
            extended_offset_table_lengths=built.extended_offset_table_lengths,
        )
    except DecodeError as error:
        # Only split frames without any table may be undelimitable, and must say so.
        assert table is OffsetTable.NONE and len(frames) > 1, error
        assert "frames cannot be delimited" in str(error)
        return
    assert parsed.end == len(built.pixel_data)
    assert frames_of(parsed) == [padded(f) for f in frames]
    for i in reversed(range(len(frames))):  # random access in any order
        assert parsed.get_frame(i) == padded(frames[i])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(st.binary(max_size=200), st.one_of(st.none(), st.integers(1, 4)))
def test_fuzz_random_bytes_only_raise_decode_error(data: bytes, frames: int | None) -> None:
    try:
        parsed = parse_encapsulated(data, number_of_frames=frames)
    except DecodeError:
        return
    for i in range(parsed.number_of_frames):
        parsed.get_frame(i)


@settings(max_examples=300)
@given(
    frames=frame_lists,
    position=st.integers(0, 10_000),
    replacement=st.binary(min_size=1, max_size=4),
)
def test_fuzz_mutated_values_only_raise_decode_error(
    frames: list[bytes], position: int, replacement: bytes
) -> None:
    value = bytearray(encapsulate(frames).pixel_data)
    position %= len(value)
    value[position : position + len(replacement)] = replacement
    try:
        parsed = parse_encapsulated(bytes(value), number_of_frames=len(frames))
    except DecodeError:
        return
    for i in range(parsed.number_of_frames):
        parsed.get_frame(i)


# --- pydicom as an oracle --------------------------------------------------------------

pydicom = pytest.importorskip("pydicom")
from pydicom import encaps as pydicom_encaps  # noqa: E402


@given(frames=frame_lists, has_bot=st.booleans())
def test_same_bytes_as_pydicom_encapsulate(frames: list[bytes], has_bot: bool) -> None:
    # pydicom's value stops before the sequence delimiter; ours includes it.
    theirs = pydicom_encaps.encapsulate(frames, has_bot=has_bot)
    table = OffsetTable.BASIC if has_bot else OffsetTable.NONE
    assert encapsulate(frames, offset_table=table).pixel_data == theirs + DELIMITER


@given(frames=frame_lists)
def test_same_values_as_pydicom_encapsulate_extended(frames: list[bytes]) -> None:
    value, offsets, lengths = pydicom_encaps.encapsulate_extended(frames)
    ours = encapsulate(frames, offset_table=OffsetTable.EXTENDED)
    assert ours.pixel_data == value + DELIMITER
    assert ours.extended_offset_table == offsets
    assert ours.extended_offset_table_lengths == lengths


@given(frames=st.lists(st.binary(min_size=4, max_size=64), min_size=1, max_size=6))
def test_pydicom_reads_ours_and_we_read_pydicoms_fragmented_frames(frames: list[bytes]) -> None:
    theirs = pydicom_encaps.encapsulate(frames, fragments_per_frame=2, has_bot=True)
    parsed = parse_encapsulated(theirs + DELIMITER, number_of_frames=len(frames))
    assert frames_of(parsed) == [padded(f) for f in frames]
    ours = encapsulate(frames, fragments_per_frame=2).pixel_data
    assert list(pydicom_encaps.generate_frames(ours, number_of_frames=len(frames))) == [
        padded(f) for f in frames
    ]


def _pydicom_encapsulated_files() -> list[Path]:
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    found = []
    for path in sorted(folder.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, force=True)
        except Exception:  # some bundled files are deliberately broken; not ours to judge
            continue
        meta = getattr(ds, "file_meta", None)
        syntax = getattr(meta, "TransferSyntaxUID", None)
        if syntax is not None and syntax.is_encapsulated and "PixelData" in ds:
            found.append(path)
    return found


@pytest.fixture(scope="module")
def pydicom_files() -> list[Path]:
    files = _pydicom_encapsulated_files()
    if not files:
        pytest.skip("pydicom ships no encapsulated test files in this install")
    return files


def test_pydicom_bundled_files(pydicom_files: list[Path]) -> None:
    names = {path.name for path in pydicom_files}
    # The bundle must at least hold the files the brief names, or the test proves little.
    assert {"MR_small_RLE.dcm", "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm"} <= names
    for path in pydicom_files:
        ds = pydicom.dcmread(path, force=True)
        element = ds.get_item("PixelData")
        raw = path.read_bytes()
        count = int(ds.get("NumberOfFrames") or 1)
        # Only pydicom's idea of where the value starts is used; the rest is ours.
        view = memoryview(raw)[element.value_tell :]
        parsed = parse_encapsulated(view, number_of_frames=count, base_offset=element.value_tell)
        expected = list(pydicom_encaps.generate_frames(ds.PixelData, number_of_frames=count))
        assert frames_of(parsed) == expected, path.name
        # ds.PixelData is the value without the delimiter: our end is 8 bytes further.
        assert parsed.end == len(ds.PixelData) + 8, path.name


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("SC_rgb_jpeg_dcmtk.dcm", FrameSource.JPEG_MARKERS),
        ("JPEG2000.dcm", FrameSource.JPEG2000_MARKERS),
    ],
)
def test_marker_heuristic_on_real_codestreams(
    pydicom_files: list[Path], name: str, source: FrameSource
) -> None:
    # A real JPEG / JPEG 2000 codestream, three times, each in three fragments, no table:
    # only the codestream signatures can tell where the frames start.
    (path,) = [p for p in pydicom_files if p.name == name]
    ds = pydicom.dcmread(path, force=True)
    (codestream,) = pydicom_encaps.generate_frames(ds.PixelData, number_of_frames=1)
    value = encapsulate(
        [codestream] * 3, offset_table=OffsetTable.NONE, fragments_per_frame=3
    ).pixel_data
    parsed = parse_encapsulated(value)
    assert parsed.frame_source is source
    assert frames_of(parsed) == [padded(codestream)] * 3
