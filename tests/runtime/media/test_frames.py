"""Per-frame access to native and encapsulated pixel data (PS3.5 §8, §A.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom_files import bundled_file

from dicompile.runtime import read_file
from dicompile.runtime.codec.vr_codecs import swap_bytes
from dicompile.runtime.media.frames import encapsulated_frames, get_frame, number_of_frames

pydicom = pytest.importorskip("pydicom")
pydicom_encaps = pytest.importorskip("pydicom.encaps")


def _file(name: str) -> Path:
    return bundled_file(name)


@pytest.mark.parametrize(
    "name", ["SC_rgb_rle_2frame.dcm", "examples_ybr_color.dcm", "rtdose_rle.dcm", "JPEG2000.dcm"]
)
@pytest.mark.parametrize("defer_size", [None, 256])
def test_encapsulated_frames_match_pydicom(name: str, defer_size: int | None) -> None:
    path = _file(name)
    theirs = pydicom.dcmread(path)
    frames = int(getattr(theirs, "NumberOfFrames", 1) or 1)
    expected = list(pydicom_encaps.generate_frames(theirs.PixelData, number_of_frames=frames))
    ours = read_file(path, defer_size=defer_size)
    assert number_of_frames(ours.dataset) == frames
    assert encapsulated_frames(ours.dataset).number_of_frames == frames
    assert [get_frame(ours.dataset, i) for i in range(frames)] == expected
    with pytest.raises(IndexError):
        get_frame(ours.dataset, frames)


@pytest.mark.parametrize("name", ["rtdose.dcm", "rtdose_expb.dcm"])
@pytest.mark.parametrize("defer_size", [None, 256])
def test_native_frames_are_slices_of_the_pixel_data(name: str, defer_size: int | None) -> None:
    path = _file(name)
    theirs = pydicom.dcmread(path)
    ours = read_file(path, defer_size=defer_size)
    frames = int(theirs.NumberOfFrames)
    pixels = theirs.PixelData
    if ours.transfer_syntax.little_endian is False:
        # dicompile's values are little endian; OW swaps per 16-bit word (PS3.5 Table
        # 6.2-1, Annex D), as dcmtk's dcmconv does for this file.
        pixels = swap_bytes(pixels, 2)
    size = len(pixels) // frames
    assert ours.dataset[0x7FE00010].is_deferred == (defer_size is not None)
    for index in (0, frames // 2, frames - 1):
        assert get_frame(ours.dataset, index) == pixels[index * size : (index + 1) * size]


def test_big_endian_ow_swaps_words_like_dcmtk(tmp_path: Path) -> None:
    # rtdose_expb.dcm (Bits Allocated 32) stores each dose as a 32-bit big endian number;
    # PS3.5 packs pixel cells into 16-bit OW words, low word first (Annex D), and swaps
    # each word for big endian (Table 6.2-1).  Read that way, as dcmtk's dcmconv does, the
    # little endian value has its 16-bit halves in stream order.
    ours = read_file(_file("rtdose_expb.dcm")).dataset[0x7FE00010].value
    raw = _file("rtdose_expb.dcm").read_bytes()
    start = raw.index(b"\x7f\xe0\x00\x10OW") + 12
    assert isinstance(ours, bytes)
    assert ours[:8] == swap_bytes(raw[start : start + 8], 2)
