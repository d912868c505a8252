"""Frames of pixel data, native or encapsulated, read one at a time (PS3.5 §8, §A.4).

:func:`get_frame` gives the bytes of one frame without reading the others: for native
(uncompressed) pixel data it slices the frame out of the value, reading only that range
from the file when the value is deferred; for encapsulated pixel data it parses the item
structure with :mod:`dicompile.runtime.codec.encapsulation` (over a mapping of the file
when deferred) and joins that frame's fragments.
"""

from __future__ import annotations

from dicompile.runtime.codec.encapsulation import EncapsulatedPixelData, parse_encapsulated
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import Encapsulated
from dicompile.runtime.errors import DecodeError
from dicompile.runtime.media.deferred import FileSpan

_PIXEL_DATA = 0x7FE00010
_NUMBER_OF_FRAMES = 0x00280008
_ROWS = 0x00280010
_COLUMNS = 0x00280011
_SAMPLES_PER_PIXEL = 0x00280002
_BITS_ALLOCATED = 0x00280100
_EXTENDED_OFFSET_TABLE = 0x7FE00001
_EXTENDED_OFFSET_TABLE_LENGTHS = 0x7FE00002


def _int(dataset: Dataset, tag: int, default: int | None = None) -> int | None:
    value = dataset.get_value(tag)
    if isinstance(value, tuple):
        value = value[0] if value else None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return default


def number_of_frames(dataset: Dataset) -> int:
    """Number of Frames (0028,0008), 1 when absent (PS3.3 C.7.6.6)."""
    frames = _int(dataset, _NUMBER_OF_FRAMES, 1)
    return frames if frames is not None and frames > 0 else 1


def encapsulated_frames(dataset: Dataset) -> EncapsulatedPixelData:
    """The item structure of the data set's encapsulated Pixel Data.

    Raises
    ------
    DecodeError
        The pixel data is absent, not encapsulated, or its items are malformed.

    References
    ----------
    PS3.5 §A.4; PS3.3 C.7.6.3.1.8 (Extended Offset Table).
    """
    element = dataset.get(_PIXEL_DATA)
    value = element.value if element is not None else None
    if not isinstance(value, Encapsulated):
        raise DecodeError("the data set has no encapsulated Pixel Data (7FE0,0010)")
    source = value.data
    buffer: bytes | memoryview = source.map() if isinstance(source, FileSpan) else value.load()
    base = source.offset if isinstance(source, FileSpan) else 0
    table = dataset.get_value(_EXTENDED_OFFSET_TABLE)
    lengths = dataset.get_value(_EXTENDED_OFFSET_TABLE_LENGTHS)
    return parse_encapsulated(
        buffer,
        number_of_frames=number_of_frames(dataset),
        extended_offset_table=table if isinstance(table, bytes) else None,
        extended_offset_table_lengths=lengths if isinstance(lengths, bytes) else None,
        base_offset=base,
    )


def native_frame_length(dataset: Dataset) -> int:
    """Bytes of one native frame: Rows x Columns x Samples x Bits Allocated / 8 (PS3.5 §8.1.1).

    Frames of Bits Allocated 1 are packed bit streams and need not start on a byte boundary;
    this gives the length in bits rounded up only when frames are whole bytes.
    """
    rows = _int(dataset, _ROWS)
    columns = _int(dataset, _COLUMNS)
    samples = _int(dataset, _SAMPLES_PER_PIXEL, 1)
    bits = _int(dataset, _BITS_ALLOCATED)
    if rows is None or columns is None or bits is None or samples is None:
        raise DecodeError("Rows, Columns and Bits Allocated are needed to find frames")
    total_bits = rows * columns * samples * bits
    if total_bits % 8:
        raise DecodeError("frames of this size do not start on byte boundaries (Bits Allocated 1)")
    return total_bits // 8


def get_frame(dataset: Dataset, index: int) -> bytes:
    """The bytes of frame ``index`` (0-based): encoded bytes for encapsulated pixel data,
    the native pixel cells otherwise (little endian, as all values).

    References
    ----------
    PS3.5 §8.1 (native), §8.2 and §A.4 (encapsulated).
    """
    element = dataset.get(_PIXEL_DATA)
    if element is None:
        raise DecodeError("the data set has no Pixel Data (7FE0,0010)")
    frames = number_of_frames(dataset)
    if not 0 <= index < frames:
        raise IndexError(f"frame {index} does not exist: there are {frames} frames")
    raw = element.raw
    if raw is None or isinstance(raw, bytes) or element.vr.value not in ("OB", "OW", "UN"):
        value = element.value
        if isinstance(value, Encapsulated):
            return encapsulated_frames(dataset).get_frame(index)
        if not isinstance(value, bytes):
            raise DecodeError("Pixel Data (7FE0,0010) holds no bytes")
        size = native_frame_length(dataset)
        return value[index * size : (index + 1) * size]
    # A deferred native value read in its stream's byte order: read just the frame.
    size = native_frame_length(dataset)
    decoder = element.decoder
    if isinstance(raw, FileSpan) and getattr(decoder, "little_endian", True):
        return raw.read_range(index * size, size)
    value = element.value
    assert isinstance(value, bytes)
    return value[index * size : (index + 1) * size]
