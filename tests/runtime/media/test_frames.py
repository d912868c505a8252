"""Per-frame access to native and encapsulated pixel data (PS3.5 §8, §A.4)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from dicompile.runtime import read_file
from dicompile.runtime.codec.vr_codecs import swap_bytes
from dicompile.runtime.media.frames import encapsulated_frames, get_frame, number_of_frames

pydicom = pytest.importorskip("pydicom")
pydicom_data = pytest.importorskip("pydicom.data")
pydicom_encaps = pytest.importorskip("pydicom.encaps")


def _file(name: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(pydicom_data.get_testdata_file(name))


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
        pixels = swap_bytes(pixels, theirs.BitsAllocated // 8)  # dicompile values are LE
    size = len(pixels) // frames
    assert ours.dataset[0x7FE00010].is_deferred == (defer_size is not None)
    for index in (0, frames // 2, frames - 1):
        assert get_frame(ours.dataset, index) == pixels[index * size : (index + 1) * size]
