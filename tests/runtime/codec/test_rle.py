"""RLE Lossless (PS3.5 Annex G): hand-made vectors, encoder rules, every error path, round
trips, and pydicom (test-only oracle) on its encoder, decoder and bundled files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.encapsulation import encapsulate, parse_encapsulated
from dicompile.runtime.codec.rle import (
    PlanarConfiguration,
    decode_frame,
    encode_frame,
    native_frame_length,
)
from dicompile.runtime.errors import DecodeError, EncodeError


def header(*offsets: int) -> bytes:
    """RLE Header (§G.5): segment count, the offsets, zeros up to 16 ULs = 64 bytes."""
    return struct.pack("<16L", len(offsets), *offsets, *([0] * (15 - len(offsets))))


# --- hand-made vectors -----------------------------------------------------------------

# 8 bits, 1 sample, 2 rows x 4 columns: row 0 = 05 05 05 05, row 1 = 01 02 03 03.
MONO8_NATIVE = bytes([5, 5, 5, 5, 1, 2, 3, 3])
MONO8_RLE = header(64) + bytes(
    [
        0xFD, 0x05,  # replicate run: -3 -> 3 + 1 = 4 copies of 05 (row 0)
        0x03, 0x01, 0x02, 0x03, 0x03,  # literal run of 3 + 1 bytes (row 1; the 2-byte
        # repeat 03 03 at the end of a literal stays in it, §G.3.1)
        0x00,  # pad to even length (§G.3)
    ]
)  # fmt: skip

# 16 bits, 1 sample, 1 x 2: pixels 0102H, 0304H; native little endian 02 01 04 03.
MONO16_NATIVE = bytes([0x02, 0x01, 0x04, 0x03])
MONO16_RLE = header(64, 68) + bytes(
    [
        0x01, 0x01, 0x03, 0x00,  # segment 1 = most significant bytes: literal 01 03, pad
        0x01, 0x02, 0x04, 0x00,  # segment 2 = least significant bytes: literal 02 04, pad
    ]
)  # fmt: skip

# RGB 8 bits, 1 x 2: pixels (0A,14,1E) and (0B,15,1F); segments R, G, B (§G.2).
RGB8_BY_PIXEL = bytes([0x0A, 0x14, 0x1E, 0x0B, 0x15, 0x1F])  # Planar Configuration 0
RGB8_BY_PLANE = bytes([0x0A, 0x0B, 0x14, 0x15, 0x1E, 0x1F])  # Planar Configuration 1
RGB8_RLE = header(64, 68, 72) + bytes(
    [
        0x01, 0x0A, 0x0B, 0x00,  # red: literal of 2, pad
        0x01, 0x14, 0x15, 0x00,  # green
        0x01, 0x1E, 0x1F, 0x00,  # blue
    ]
)  # fmt: skip

# 1 bit, 3 x 3: rows 1 0 1 / 1 1 1 / 0 0 1.  Padded Composite Pixel Code = one byte 0/1
# per pixel (§G.2); native = pixel k in bit k (PS3.5 §D.1): 1+4+8+16+32 = 3DH, then 01H.
BIT1_NATIVE = bytes([0x3D, 0x01])
BIT1_RLE = header(64) + bytes(
    [
        0x02, 0x01, 0x00, 0x01,  # row 0: literal of 3
        0xFE, 0x01,  # row 1: replicate, -2 -> 3 copies of 01
        0x02, 0x00, 0x00, 0x01,  # row 2: literal of 3 (00 00 is only a 2-byte repeat)
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("native", "encoded", "geometry"),
    [
        (MONO8_NATIVE, MONO8_RLE, (2, 4, 1, 8)),
        (MONO16_NATIVE, MONO16_RLE, (1, 2, 1, 16)),
        (RGB8_BY_PIXEL, RGB8_RLE, (1, 2, 3, 8)),
        (BIT1_NATIVE, BIT1_RLE, (3, 3, 1, 1)),
    ],
    ids=["mono8", "mono16", "rgb8", "bit1"],
)
def test_hand_made_vectors(native: bytes, encoded: bytes, geometry: tuple[int, ...]) -> None:
    rows, columns, samples, bits = geometry
    dims = {
        "rows": rows,
        "columns": columns,
        "samples_per_pixel": samples,
        "bits_allocated": bits,
    }
    assert encode_frame(native, **dims) == encoded
    assert decode_frame(encoded, **dims) == native
    assert native_frame_length(**dims) == len(native)


def test_planar_configuration_picks_the_decoded_layout() -> None:
    dims = {"rows": 1, "columns": 2, "samples_per_pixel": 3, "bits_allocated": 8}
    assert decode_frame(RGB8_RLE, **dims, planar_configuration=PlanarConfiguration.BY_PLANE) == (
        RGB8_BY_PLANE
    )
    # The RLE stream is by plane either way (§8.2.2): encoding either layout gives it.
    assert encode_frame(RGB8_BY_PLANE, **dims, planar_configuration=1) == RGB8_RLE
    assert encode_frame(RGB8_BY_PIXEL, **dims, planar_configuration=0) == RGB8_RLE


def test_rgb16_segment_order_is_msb_first_per_sample() -> None:
    # One RGB pixel (R=0102H, G=0304H, B=0506H): segments R-MSB, R-LSB, G-MSB, G-LSB, ...
    native = bytes([0x02, 0x01, 0x04, 0x03, 0x06, 0x05])
    encoded = encode_frame(native, rows=1, columns=1, samples_per_pixel=3, bits_allocated=16)
    count, *offsets = struct.unpack_from("<16L", encoded)
    assert count == 6
    # each segment: literal of one byte (control 00) and the byte, already even
    assert [encoded[offset + 1] for offset in offsets[:6]] == [1, 2, 3, 4, 5, 6]
    assert offsets[:6] == [64, 66, 68, 70, 72, 74] and offsets[6:] == [0] * 9


def test_decoder_follows_the_g32_pseudo_code() -> None:
    dims = {"rows": 1, "columns": 4, "samples_per_pixel": 1, "bits_allocated": 8}
    # 80H (-128) outputs nothing; then 4 copies of 07; then junk past the 4 bytes is
    # never read (the loop stops at the uncompressed segment size).
    assert decode_frame(header(64) + b"\x80\xfd\x07\x05\xee", **dims) == b"\x07" * 4
    # A run that crosses a row boundary breaks §G.3.1 but decodes as the pseudo code says.
    dims = {"rows": 2, "columns": 2, "samples_per_pixel": 1, "bits_allocated": 8}
    assert decode_frame(header(64) + b"\xfd\x09", **dims) == b"\x09" * 4


# --- encoder rules (§G.3.1) --------------------------------------------------------------


def test_long_runs_split_at_128() -> None:
    dims = {"rows": 1, "samples_per_pixel": 1, "bits_allocated": 8}
    # 300 = 128 + 128 + 44: controls 81H (-127 -> 128) twice, then D5H (-43 -> 44).
    assert encode_frame(b"\x07" * 300, columns=300, **dims)[64:] == bytes(
        [0x81, 7, 0x81, 7, 0xD5, 7]
    )
    # 129 + one other byte: the lone 129th byte joins the literal that follows; pad 00.
    assert encode_frame(b"\x07" * 129 + b"\x08", columns=130, **dims)[64:] == bytes(
        [0x81, 7, 0x01, 7, 8, 0]
    )
    # 200 distinct bytes: literal of 128 (7FH) then of 72 (47H)
    data = bytes(range(200))
    assert encode_frame(data, columns=200, **dims)[64:] == (
        b"\x7f" + data[:128] + b"\x47" + data[128:]
    )


def _runs(segment: bytes, expected: int) -> list[tuple[str, int, int, bytes]]:
    """An independent PackBits reader: (kind, output start, output stop, literal bytes)."""
    runs = []
    pos = produced = 0
    while produced < expected:
        control = segment[pos]
        if control < 128:
            runs.append(
                ("literal", produced, produced + control + 1, segment[pos + 1 : pos + 2 + control])
            )
            produced += control + 1
            pos += control + 2
        elif control > 128:
            runs.append(("replicate", produced, produced + 257 - control, b""))
            produced += 257 - control
            pos += 2
        else:
            raise AssertionError("the encoder must not emit -128")
    assert produced == expected
    return runs


#: Pieces of a native frame: arbitrary bytes and runs of one byte of any length, so that
#: literal runs, short repeats and runs longer than 128 all occur.
frame_pieces = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=64),
        st.tuples(st.integers(0, 255), st.integers(1, 300)).map(lambda t: bytes([t[0]]) * t[1]),
    ),
    min_size=1,
    max_size=20,
)


def fill(pieces: list[bytes], size: int) -> bytes:
    """The pieces, repeated as needed, cut to ``size`` bytes."""
    data = b"".join(pieces)
    return (data * (size // len(data) + 1))[:size]


@st.composite
def images(draw: st.DrawFn) -> tuple[dict[str, int], bytes]:
    bits = draw(st.sampled_from([1, 8, 16, 32]))
    samples = 1 if bits == 1 else draw(st.sampled_from([1, 3]))
    dims = {
        "rows": draw(st.integers(1, 12)),
        "columns": draw(st.integers(1, 150)),
        "samples_per_pixel": samples,
        "bits_allocated": bits,
        "planar_configuration": draw(st.sampled_from([0, 1])),
    }
    size = native_frame_length(
        rows=dims["rows"],
        columns=dims["columns"],
        samples_per_pixel=samples,
        bits_allocated=bits,
    )
    data = fill(draw(frame_pieces), size)
    if bits == 1:  # bits past the last pixel are not part of the frame
        pixels = dims["rows"] * dims["columns"]
        data = (int.from_bytes(data, "little") & ((1 << pixels) - 1)).to_bytes(size, "little")
    return dims, data


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(images())
def test_round_trip_and_encoder_rules(image: tuple[dict[str, int], bytes]) -> None:
    dims, native = image
    encoded = encode_frame(native, **dims)
    assert decode_frame(encoded, **dims) == native
    assert len(encoded) % 2 == 0
    count, *offsets = struct.unpack_from("<16L", encoded)
    bytes_per_sample = max(1, dims["bits_allocated"] // 8)
    assert count == dims["samples_per_pixel"] * bytes_per_sample
    assert offsets[0] == 64 and offsets[count:] == [0] * (15 - count)
    ends = [*offsets[1:count], len(encoded)]
    columns = dims["columns"]
    for start, end in zip(offsets[:count], ends, strict=True):
        assert (end - start) % 2 == 0  # each segment padded to even length (§G.3)
        for kind, first, stop, literal in _runs(encoded[start:end], dims["rows"] * columns):
            # no run crosses a row boundary
            assert first // columns == (stop - 1) // columns
            if kind == "literal":  # three equal bytes are always a replicate run
                assert not any(
                    literal[i] == literal[i + 1] == literal[i + 2] for i in range(len(literal) - 2)
                )


# --- malformed input -----------------------------------------------------------------------

MONO16 = {"rows": 1, "columns": 4, "samples_per_pixel": 1, "bits_allocated": 16}
GOOD_SEGMENT = b"\xfd\x00"  # 4 copies of 00


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        # frame at byte 500; header fields at 500 + 4 * n; segment data from 564 on
        (b"\x02\x00\x00\x00", 500, "4 bytes cannot hold the 64-byte RLE Header"),
        (struct.pack("<16L", 15, *range(64, 124, 4)) + b"\0" * 80, 500, "says 15 segments but"),
        (struct.pack("<16L", 16, *range(64, 124, 4)) + b"\0" * 80, 500, "16 segments; at most 15"),
        (header(64) + GOOD_SEGMENT, 500, "says 1 segments but the image needs 2"),
        (header(60, 66) + b"\0" * 8, 504, "offset 60 of segment 1 is not after"),
        (header(64, 64) + GOOD_SEGMENT, 508, "offset 64 of segment 2 is not after"),
        (header(64, 70) + GOOD_SEGMENT * 2, 508, "offset 70 of segment 2 is past the end"),
        # FE 00 = 3 zeros, then the segment ends one byte short
        (header(64, 66) + b"\xfe\x00" + GOOD_SEGMENT, 564, r"ends \(byte 566\) after 3 of 4"),
        # literal of 4 with one byte left in the segment
        (header(64, 66) + b"\x03\x00" + GOOD_SEGMENT, 564, "literal run needs 4 bytes"),
        # segment 2 (566) is the last: literal of 8 with 2 bytes left in the frame
        (header(64, 66) + GOOD_SEGMENT + b"\x07\x01\x02", 566, "segment 2: the literal run"),
        # FE 00 then FD with nothing to repeat before segment 2 at 567
        (header(64, 67) + b"\xfe\x00\xfd" + GOOD_SEGMENT, 566, "replicate run has no byte"),
        # FB 00 = 6 zeros where Rows x Columns is 4
        (header(64, 66) + b"\xfb\x00" + GOOD_SEGMENT, 564, "to 6 bytes, past the 4"),
    ],
    ids=[
        "short",
        "15 segments for 2",
        "16 segments",
        "1 segment for 2",
        "offset inside header",
        "offsets not increasing",
        "offset past end",
        "segment too short",
        "literal past segment",
        "literal past frame",
        "replicate without byte",
        "overshoot",
    ],
)
def test_malformed_frames(data: bytes, offset: int, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as raised:
        decode_frame(data, **MONO16, frame_index=7, base_offset=500)
    assert raised.value.offset == offset
    assert str(raised.value).startswith(f"byte {offset}: RLE frame 7")


def test_one_bit_plane_must_hold_0_or_1() -> None:
    with pytest.raises(DecodeError, match=r"pixel 2 of the decoded 1-bit plane .* is 2"):
        decode_frame(
            header(64) + b"\x03\x00\x01\x02\x00",
            rows=1,
            columns=4,
            samples_per_pixel=1,
            bits_allocated=1,
        )


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"rows": 0, "columns": 1, "samples_per_pixel": 1, "bits_allocated": 8}, "positive"),
        ({"rows": 1, "columns": 1, "samples_per_pixel": 1, "bits_allocated": 12}, "multiple of 8"),
        (
            {"rows": 1, "columns": 1, "samples_per_pixel": 3, "bits_allocated": 1},
            "Samples per Pixel 1",
        ),
        ({"rows": 1, "columns": 1, "samples_per_pixel": 3, "bits_allocated": 64}, "need 24 RLE"),
        (
            {
                "rows": 1,
                "columns": 1,
                "samples_per_pixel": 3,
                "bits_allocated": 8,
                "planar_configuration": 2,
            },
            "0 or 1, not 2",
        ),
    ],
)
def test_unsupported_geometry(geometry: dict[str, int], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_frame(header(64) + b"\x00\x00", **geometry)
    with pytest.raises(EncodeError, match=message):
        encode_frame(b"\x00" * 3, **geometry)


def test_encode_checks_the_native_length() -> None:
    with pytest.raises(EncodeError, match="has 8 bytes, not 7"):
        encode_frame(b"\0" * 7, rows=2, columns=2, samples_per_pixel=1, bits_allocated=16)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=300),
    geometry=st.sampled_from(
        [(2, 3, 1, 8), (2, 2, 1, 16), (1, 2, 3, 8), (3, 3, 1, 1), (1, 1, 3, 32)]
    ),
)
def test_fuzz_random_frames_only_raise_decode_error(
    data: bytes, geometry: tuple[int, int, int, int]
) -> None:
    rows, columns, samples, bits = geometry
    dims = {"rows": rows, "columns": columns, "samples_per_pixel": samples, "bits_allocated": bits}
    for candidate in (data, header(*range(64, 64 + 8 * samples * max(1, bits // 8), 8)) + data):
        try:
            decoded = decode_frame(candidate, **dims)
        except DecodeError:
            continue
        assert len(decoded) == native_frame_length(**dims)


@settings(max_examples=300)
@given(images(), st.integers(0, 10_000), st.binary(min_size=1, max_size=3))
def test_fuzz_mutated_frames_only_raise_decode_error(
    image: tuple[dict[str, int], bytes], position: int, replacement: bytes
) -> None:
    dims, native = image
    encoded = bytearray(encode_frame(native, **dims))
    position %= len(encoded)
    encoded[position : position + len(replacement)] = replacement
    try:
        decoded = decode_frame(bytes(encoded), **dims)
    except DecodeError:
        return
    assert len(decoded) == len(native)


# --- pydicom as an oracle --------------------------------------------------------------------

pydicom = pytest.importorskip("pydicom")
np = pytest.importorskip("numpy")
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.pixels.encoders import RLELosslessEncoder  # noqa: E402
from pydicom.uid import RLELossless  # noqa: E402


@st.composite
def pydicom_images(draw: st.DrawFn, bits_choices: tuple[int, ...]) -> tuple[dict[str, int], bytes]:
    # pydicom's encoder takes colour-by-pixel input only, and no 1-bit data.
    bits = draw(st.sampled_from(bits_choices))
    samples = draw(st.sampled_from([1, 3]))
    dims = {
        "rows": draw(st.integers(1, 10)),
        "columns": draw(st.integers(1, 40)),
        "samples_per_pixel": samples,
        "bits_allocated": bits,
    }
    size = native_frame_length(**dims)
    data = fill(draw(frame_pieces), size)
    return dims, data


def _pydicom_options(dims: dict[str, int]) -> dict[str, object]:
    samples = dims["samples_per_pixel"]
    return {
        "rows": dims["rows"],
        "columns": dims["columns"],
        "samples_per_pixel": samples,
        "bits_allocated": dims["bits_allocated"],
        "bits_stored": dims["bits_allocated"],
        "pixel_representation": 0,
        "photometric_interpretation": "RGB" if samples == 3 else "MONOCHROME2",
        "planar_configuration": 0,
        "number_of_frames": 1,
    }


@settings(max_examples=100, deadline=None)
@given(pydicom_images((8, 16)))  # pydicom's encoder refuses Bits Allocated 32
def test_we_decode_pydicom_encoded_frames(image: tuple[dict[str, int], bytes]) -> None:
    dims, native = image
    theirs = RLELosslessEncoder.encode(native, **_pydicom_options(dims))
    assert decode_frame(theirs, **dims) == native


@settings(max_examples=100, deadline=None)
@given(pydicom_images((8, 16, 32)))
def test_pydicom_decodes_our_frames(image: tuple[dict[str, int], bytes]) -> None:
    dims, native = image
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = RLELossless
    options = _pydicom_options(dims)
    ds.Rows, ds.Columns = dims["rows"], dims["columns"]
    ds.SamplesPerPixel = dims["samples_per_pixel"]
    ds.BitsAllocated = ds.BitsStored = dims["bits_allocated"]
    ds.HighBit = dims["bits_allocated"] - 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = options["photometric_interpretation"]
    if dims["samples_per_pixel"] > 1:
        ds.PlanarConfiguration = 0
    # pydicom keeps the encapsulated value without the sequence delimiter
    ds.PixelData = encapsulate([encode_frame(native, **dims)]).pixel_data[:-8]
    ds["PixelData"].VR = "OB"
    array = ds.pixel_array
    assert array.astype(array.dtype.newbyteorder("<")).tobytes() == native


def _test_file(name: str) -> Path:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    if not path.exists():
        pytest.skip(f"pydicom does not bundle {name} in this install")
    return path


RLE_FILES = [
    "MR_small_RLE.dcm",
    "SC_rgb_rle.dcm",
    "SC_rgb_rle_2frame.dcm",
    "SC_rgb_rle_16bit.dcm",
    "SC_rgb_rle_16bit_2frame.dcm",
    "SC_rgb_rle_32bit.dcm",
    "SC_rgb_rle_32bit_2frame.dcm",
    "rtdose_rle.dcm",
    "rtdose_rle_1frame.dcm",
    "emri_small_RLE.dcm",
]
#: Uncompressed versions of the same pixels, bundled beside them.
NATIVE_TWINS = {
    "MR_small_RLE.dcm": "MR_small.dcm",
    "rtdose_rle.dcm": "rtdose.dcm",
    "rtdose_rle_1frame.dcm": "rtdose_1frame.dcm",
}


@pytest.mark.parametrize("name", RLE_FILES)
def test_pydicom_bundled_rle_files(name: str) -> None:
    path = _test_file(name)
    ds = pydicom.dcmread(path)
    raw = path.read_bytes()
    start = ds.get_item("PixelData").value_tell  # pydicom only locates the value
    count = int(ds.get("NumberOfFrames") or 1)
    parsed = parse_encapsulated(memoryview(raw)[start:], number_of_frames=count, base_offset=start)
    dims = {
        "rows": ds.Rows,
        "columns": ds.Columns,
        "samples_per_pixel": ds.SamplesPerPixel,
        "bits_allocated": ds.BitsAllocated,
    }
    frames = [decode_frame(parsed.get_frame(i), **dims, frame_index=i) for i in range(count)]

    array = ds.pixel_array  # colour-by-pixel, one frame after the other
    assert b"".join(frames) == array.astype(array.dtype.newbyteorder("<")).tobytes()
    if name in NATIVE_TWINS:
        twin = pydicom.dcmread(_test_file(NATIVE_TWINS[name]))
        assert twin.file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
        assert b"".join(frames) == twin.PixelData
    if dims["samples_per_pixel"] == 3:  # the other layout holds the same samples
        by_plane = decode_frame(parsed.get_frame(0), **dims, planar_configuration=1)
        plane = len(by_plane) // 3
        item = dims["bits_allocated"] // 8
        for sample in range(3):
            pixels = [
                frames[0][(3 * p + sample) * item : (3 * p + sample + 1) * item]
                for p in range(dims["rows"] * dims["columns"])
            ]
            assert by_plane[sample * plane : (sample + 1) * plane] == b"".join(pixels)
    for frame in frames:  # and our encoder brings them back
        assert decode_frame(encode_frame(frame, **dims), **dims) == frame


# --- throughput --------------------------------------------------------------------------


@pytest.mark.slow
def test_throughput_512x512x16(capsys: pytest.CaptureFixture[str]) -> None:
    """Guards against per-byte Python loops creeping back in.

    The floors are 5 to 10 times below what this 2-core machine measures (about 100 MB/s
    encode and 200 MB/s decode on a noisy MR-like frame), and far above a per-byte loop.
    """
    import timeit

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:512, 0:512]
    smooth = (np.sin(x / 40) + np.cos(y / 30)) * 800 + 1500
    image = (smooth + rng.normal(0, 20, (512, 512))).clip(0, 4095).astype("<u2")
    image[:100] = 0  # a band of background, as around a body
    native = image.tobytes()
    dims = {"rows": 512, "columns": 512, "samples_per_pixel": 1, "bits_allocated": 16}
    encoded = encode_frame(native, **dims)
    assert decode_frame(encoded, **dims) == native
    encode_s = min(timeit.repeat(lambda: encode_frame(native, **dims), number=1, repeat=5))
    decode_s = min(timeit.repeat(lambda: decode_frame(encoded, **dims), number=1, repeat=5))
    megabytes = len(native) / 1e6
    with capsys.disabled():
        print(
            f"\nRLE 512x512x16: encode {megabytes / encode_s:.0f} MB/s, "
            f"decode {megabytes / decode_s:.0f} MB/s, ratio {len(native) / len(encoded):.2f}"
        )
    assert megabytes / encode_s > 20
    assert megabytes / decode_s > 40
