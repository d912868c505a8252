"""RLE Lossless (1.2.840.10008.1.2.5): one frame in, one frame out (PS3.5 Annex G).

Theory of operation
-------------------
A compressed frame is a 64-byte RLE Header -- the number of segments and up to 15 segment
offsets, little-endian UL, unused ones 0 (§G.5) -- followed by the RLE Segments (§G.4).
Each segment is one *byte plane*: pixel values are taken as Padded Composite Pixel Codes,
the first segment holds the most significant byte of every pixel, the next the following
byte, down to the least significant (§G.2).  For Samples per Pixel > 1 each sample is its
own code: sample 1's planes from most to least significant, then sample 2's, and so on
(§G.2's RGB example: red, green, blue; PS3.5 §8.2.2: RLE is "always color-by-plane").
Each segment is PackBits-coded (§G.3) and padded with 00H to even length.

The *native* side of these functions is a frame as the Explicit VR Little Endian Pixel
Data would hold it (PS3.5 §8.2, §A.4 note "as if the transfer syntax were Explicit VR
Little Endian"): little-endian samples, laid out as Planar Configuration (0028,0006)
says -- 0 colour-by-pixel (R1 G1 B1 R2 ...), 1 colour-by-plane (R1 R2 ... G1 ...), PS3.3
C.7.6.3.1.3.  Because the RLE stream is by plane whatever (0028,0006) holds (§8.2.2), the
attribute cannot describe the compressed stream; it describes the frame once decoded, so
the caller passes the data set's value and gets the layout that value promises.

Bits Allocated may be 1 or a multiple of 8 with at most 15 byte planes in all.  For 1 the
Padded Composite Pixel Code is one byte per pixel holding 0 or 1 (§G.2 pads to whole
bytes), and the native frame is bit-packed with the first pixel in the least significant
bit of the first byte (PS3.5 §8.1.1, §D.1), starting at bit 0 -- a caller with multi-frame
1-bit data whose frames do not start on a byte boundary shifts them itself.

Speed: the per-byte work is left to C -- ``bytes`` slicing with a step splits and
interleaves planes, a compiled regular expression finds runs for the encoder, and
``bytes * n`` expands replicate runs; Python loops only once per PackBits run.
"""

from __future__ import annotations

import enum
import re
import struct
from typing import Final

from dicompile.runtime.codec.encapsulation import ByteSource
from dicompile.runtime.errors import DecodeError, EncodeError

TRANSFER_SYNTAX_UID: Final = "1.2.840.10008.1.2.5"

_HEADER_SIZE: Final = 64
_MAX_SEGMENTS: Final = 15
_HEADER: Final = struct.Struct("<16L")
_SINGLE_BYTES: Final = tuple(bytes((value,)) for value in range(256))
#: Two or more equal neighbour pairs = three or more equal bytes, which §G.3.1 says "shall
#: be encoded as Replicate Runs".  Written with a literal prefix so that the regex engine
#: skips ahead with a fast search instead of trying every position.
_EQUAL_PAIRS: Final = re.compile(rb"\x00\x00\x00*")
_MAX_RUN: Final = 128
# Bit planes for Bits Allocated 1: 0/1 bytes <-> the ASCII digits int() and format() use.
_TO_DIGITS: Final = bytes.maketrans(b"\x00\x01", b"01")
_FROM_DIGITS: Final = bytes.maketrans(b"01", b"\x00\x01")


class PlanarConfiguration(enum.IntEnum):
    """Planar Configuration (0028,0006), PS3.3 C.7.6.3.1.3."""

    #: R1 G1 B1 R2 G2 B2 ... (colour-by-pixel)
    BY_PIXEL = 0
    #: R1 R2 ... G1 G2 ... B1 B2 ... (colour-by-plane)
    BY_PLANE = 1


def native_frame_length(
    *, rows: int, columns: int, samples_per_pixel: int, bits_allocated: int
) -> int:
    """Bytes of one native frame of these dimensions (bit-packed for Bits Allocated 1).

    References
    ----------
    PS3.5 §8.1.1 (pixel cells and Bits Allocated).
    """
    pixels = rows * columns
    if bits_allocated == 1:
        return (pixels * samples_per_pixel + 7) // 8
    return pixels * samples_per_pixel * (bits_allocated // 8)


def decode_frame(
    data: ByteSource,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    planar_configuration: int = PlanarConfiguration.BY_PIXEL,
    frame_index: int | None = None,
    base_offset: int = 0,
) -> bytes:
    """Decode one RLE Lossless frame into native little-endian pixel data.

    Parameters
    ----------
    data
        The frame's encoded bytes (one fragment's value, PS3.5 §A.4.2), padding included.
    rows, columns, samples_per_pixel, bits_allocated
        Rows (0028,0010), Columns (0028,0011), Samples per Pixel (0028,0002) and Bits
        Allocated (0028,0100) of the data set.
    planar_configuration
        Planar Configuration (0028,0006): the layout of the *decoded* samples.
    frame_index, base_offset
        Named in error messages: the frame number, and the position of ``data`` in its
        file (added to every byte offset reported).

    Returns
    -------
    bytes
        :func:`native_frame_length` bytes.

    Raises
    ------
    DecodeError
        A short or malformed header (more than 15 segments, a segment count that does not
        match the image, offsets before byte 64, past the end or not increasing), or a
        segment whose runs do not decode to exactly ``rows * columns`` bytes, or (Bits
        Allocated 1) a byte other than 0 and 1 in the decoded plane.

    References
    ----------
    PS3.5 Annex G (§G.2 byte segments, §G.3.2 decoder, §G.5 header), §8.2.2.
    """
    where = "RLE frame" if frame_index is None else f"RLE frame {frame_index}"
    bytes_per_sample = _check_geometry(
        rows, columns, samples_per_pixel, bits_allocated, planar_configuration, DecodeError
    )
    src = bytes(data)  # one copy of the compressed frame: indexing bytes is fastest
    pixels = rows * columns
    segment_count = samples_per_pixel * bytes_per_sample
    offsets = _read_header(src, segment_count, where, base_offset)
    ends = [*offsets[1:], len(src)]
    planes = [
        _decode_segment(src, start, end, pixels, f"{where}, segment {i + 1}", base_offset)
        for i, (start, end) in enumerate(zip(offsets, ends, strict=True))
    ]
    if bits_allocated == 1:
        return _pack_bits(planes[0], pixels, where, base_offset + offsets[0])
    if segment_count == 1:
        return planes[0]
    out = bytearray(pixels * segment_count)
    for index, plane in enumerate(planes):
        out[
            _plane_slice(index, pixels, samples_per_pixel, bytes_per_sample, planar_configuration)
        ] = plane
    return bytes(out)


def encode_frame(
    data: ByteSource,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    planar_configuration: int = PlanarConfiguration.BY_PIXEL,
) -> bytes:
    """Encode one native little-endian frame as RLE Lossless.

    Parameters
    ----------
    data
        Exactly :func:`native_frame_length` bytes, samples laid out as
        ``planar_configuration`` says.
    rows, columns, samples_per_pixel, bits_allocated, planar_configuration
        As for :func:`decode_frame`.

    Returns
    -------
    bytes
        RLE Header and segments, even length (each segment is padded to even length).
        Runs never cross a row (§G.3.1); runs of three or more equal bytes are always
        Replicate Runs, shorter ones go into Literal Runs.

    Raises
    ------
    EncodeError
        Unsupported geometry or a ``data`` length that does not match it.

    References
    ----------
    PS3.5 Annex G (§G.2, §G.3.1 encoder, §G.4, §G.5).
    """
    bytes_per_sample = _check_geometry(
        rows, columns, samples_per_pixel, bits_allocated, planar_configuration, EncodeError
    )
    src = bytes(data)
    pixels = rows * columns
    expected = native_frame_length(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples_per_pixel,
        bits_allocated=bits_allocated,
    )
    if len(src) != expected:
        raise EncodeError(
            f"a native frame of {rows}x{columns}, {samples_per_pixel} samples, "
            f"{bits_allocated} bits allocated has {expected} bytes, not {len(src)}"
        )
    segment_count = samples_per_pixel * bytes_per_sample
    if bits_allocated == 1:
        planes = [_unpack_bits(src, pixels)]
    else:
        planes = [
            src[_plane_slice(i, pixels, samples_per_pixel, bytes_per_sample, planar_configuration)]
            for i in range(segment_count)
        ]
    segments = [_encode_segment(plane, columns) for plane in planes]
    offsets = [_HEADER_SIZE]
    for segment in segments[:-1]:
        offsets.append(offsets[-1] + len(segment))
    header = _HEADER.pack(segment_count, *offsets, *([0] * (_MAX_SEGMENTS - segment_count)))
    return b"".join([header, *segments])


def _check_geometry(
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    planar_configuration: int,
    error: type[DecodeError] | type[EncodeError],
) -> int:
    """Bytes per sample in the Padded Composite Pixel Code (§G.2); raises ``error``."""
    if rows < 1 or columns < 1 or samples_per_pixel < 1:
        raise error(
            f"RLE needs positive Rows, Columns and Samples per Pixel, not {rows}, {columns}, "
            f"{samples_per_pixel}"
        )
    if bits_allocated == 1:
        if samples_per_pixel != 1:
            raise error("Bits Allocated 1 is only defined with Samples per Pixel 1")
        return 1
    if bits_allocated < 8 or bits_allocated % 8:
        raise error(f"Bits Allocated must be 1 or a multiple of 8, not {bits_allocated}")
    bytes_per_sample = bits_allocated // 8
    if samples_per_pixel * bytes_per_sample > _MAX_SEGMENTS:
        raise error(
            f"{samples_per_pixel} samples of {bits_allocated} bits need "
            f"{samples_per_pixel * bytes_per_sample} RLE segments; the header holds at most "
            f"{_MAX_SEGMENTS} (PS3.5 §G.5)"
        )
    if planar_configuration not in (0, 1):
        raise error(f"Planar Configuration must be 0 or 1, not {planar_configuration}")
    return bytes_per_sample


def _plane_slice(
    segment: int,
    pixels: int,
    samples_per_pixel: int,
    bytes_per_sample: int,
    planar_configuration: int,
) -> slice:
    """Where RLE segment ``segment`` lives in the native little-endian frame.

    Segment ``s * bytes_per_sample + j`` is byte ``j`` counted from the *most*
    significant of sample ``s`` (§G.2), i.e. little-endian byte ``bytes_per_sample-1-j``.
    """
    sample, significance = divmod(segment, bytes_per_sample)
    byte = bytes_per_sample - 1 - significance
    if planar_configuration == PlanarConfiguration.BY_PLANE or samples_per_pixel == 1:
        start = sample * pixels * bytes_per_sample
        return slice(start + byte, start + pixels * bytes_per_sample, bytes_per_sample)
    stride = samples_per_pixel * bytes_per_sample
    return slice(sample * bytes_per_sample + byte, pixels * stride, stride)


def _read_header(src: bytes, segment_count: int, where: str, base: int) -> list[int]:
    if len(src) < _HEADER_SIZE:
        raise DecodeError(
            f"{where}: {len(src)} bytes cannot hold the 64-byte RLE Header (PS3.5 §G.5)",
            offset=base,
        )
    header = _HEADER.unpack_from(src)
    count = header[0]
    if count > _MAX_SEGMENTS:
        raise DecodeError(
            f"{where}: the RLE Header says {count} segments; at most "
            f"{_MAX_SEGMENTS} fit (PS3.5 §G.5)",
            offset=base,
        )
    if count != segment_count:
        raise DecodeError(
            f"{where}: the RLE Header says {count} segments but the image "
            f"needs {segment_count} (Samples per Pixel x bytes per sample, PS3.5 §G.2)",
            offset=base,
        )
    offsets = [int(offset) for offset in header[1 : 1 + count]]
    previous = _HEADER_SIZE - 1
    for number, offset in enumerate(offsets, start=1):
        if offset <= previous or offset >= len(src):
            problem = (
                "not after the header and previous segment"
                if offset <= previous
                else ("past the end")
            )
            raise DecodeError(
                f"{where}: offset {offset} of segment {number} "
                f"is {problem} (the frame has {len(src)} bytes; PS3.5 §G.5)",
                offset=base + 4 * number,
            )
        previous = offset
    return offsets


def _decode_segment(
    src: bytes, start: int, end: int, expected: int, where: str, base: int
) -> bytes:
    """PackBits-decode ``src[start:end]`` into exactly ``expected`` bytes (§G.3.2).

    Every iteration consumes at least one source byte, so the loop ends; output grows only
    as runs decode (at most 128 bytes per 2 source bytes), never by a declared size.  The
    hot loop leaves bounds to Python's own checks (an IndexError past the segment, a
    literal slice that comes back short); on any failure :func:`_segment_error` walks the
    segment again, slowly, to say exactly what is wrong and where.
    """
    segment = src[start:end]
    pieces: list[bytes] = []
    append = pieces.append
    single = _SINGLE_BYTES
    produced = 0
    pos = 0
    try:
        while produced < expected:
            control = segment[pos]
            if control < 128:  # literal run of control + 1 bytes
                stop = pos + control + 2
                append(segment[pos + 1 : stop])
                produced += control + 1
                pos = stop
            elif control > 128:  # replicate run: the next byte 257 - control times
                append(single[segment[pos + 1]] * (257 - control))
                produced += 257 - control
                pos += 2
            else:  # -128: a no-op
                pos += 1
    except IndexError:
        raise _segment_error(segment, expected, where, base + start) from None
    if pos > len(segment) or produced != expected:
        raise _segment_error(segment, expected, where, base + start)
    return b"".join(pieces)


def _segment_error(segment: bytes, expected: int, where: str, base: int) -> DecodeError:
    """Walk a segment that failed to decode and describe its first fault (§G.3.2)."""
    end = base + len(segment)
    produced = pos = last = 0
    while produced < expected:
        last = pos
        if pos >= len(segment):
            return DecodeError(
                f"{where}: the segment ends (byte {end}) after {produced} of {expected} bytes",
                offset=base,
            )
        control = segment[pos]
        if control < 128:
            if pos + control + 2 > len(segment):
                return DecodeError(
                    f"{where}: the literal run needs {control + 1} bytes "
                    f"but the segment ends at byte {end}",
                    offset=base + pos,
                )
            produced += control + 1
            pos += control + 2
        elif control > 128:
            if pos + 1 >= len(segment):
                return DecodeError(
                    f"{where}: the replicate run has no byte to repeat "
                    f"before the segment ends at byte {end}",
                    offset=base + pos,
                )
            produced += 257 - control
            pos += 2
        else:
            pos += 1
    return DecodeError(
        f"{where}: this run takes the segment to {produced} bytes, past the {expected} of "
        "Rows x Columns",
        offset=base + last,
    )


def _encode_segment(plane: bytes, columns: int) -> bytes:
    """PackBits-encode one byte plane row by row (§G.3.1), padded to even length.

    Runs are found in C: ``diff[i]`` is 0 exactly when ``plane[i] == plane[i + 1]`` (one
    big-integer XOR of the plane with itself shifted by a byte), the pairs that straddle
    two rows are forced unequal, and a run of three or more equal bytes is then a run of
    two or more zero bytes in ``diff``, which a regular expression with a literal prefix
    finds at memchr speed.  Python works once per run, not once per byte.
    """
    size = len(plane)
    out: list[bytes] = []
    append = out.append
    single = _SINGLE_BYTES
    literal = 0  # start of the bytes not yet emitted
    if size > 1:
        diff = bytearray(
            (int.from_bytes(plane[:-1], "big") ^ int.from_bytes(plane[1:], "big")).to_bytes(
                size - 1, "big"
            )
        )
        diff[columns - 1 :: columns] = b"\x01" * len(range(columns - 1, size - 1, columns))
        for match in _EQUAL_PAIRS.finditer(diff):
            start, stop = match.span()
            stop += 1  # diff's run of k zeros is a run of k + 1 equal bytes
            if start > literal:
                if start - literal <= _MAX_RUN and literal // columns == (start - 1) // columns:
                    append(single[start - literal - 1])
                    append(plane[literal:start])
                else:
                    _emit_literal(plane, literal, start, columns, out)
            length = stop - start
            value = single[plane[start]]
            if length <= _MAX_RUN:
                append(single[257 - length] + value)
                literal = stop
                continue
            full, rest = divmod(length, _MAX_RUN)
            append((single[257 - _MAX_RUN] + value) * full)
            if rest >= 2:
                append(single[257 - rest] + value)
                literal = stop
            else:
                # A lone byte left after 128-byte runs joins the next literal run.
                literal = stop - rest
    if literal < size:
        _emit_literal(plane, literal, size, columns, out)
    encoded = b"".join(out)
    return encoded + b"\x00" if len(encoded) % 2 else encoded


def _emit_literal(plane: bytes, start: int, stop: int, columns: int, out: list[bytes]) -> None:
    """Literal runs for ``plane[start:stop]``: at most 128 bytes each, none across a row."""
    single = _SINGLE_BYTES
    while start < stop:
        end = min(stop, (start // columns + 1) * columns, start + _MAX_RUN)
        out.append(single[end - start - 1])
        out.append(plane[start:end])
        start = end


def _pack_bits(plane: bytes, pixels: int, where: str, base: int) -> bytes:
    """0/1 bytes -> native bit-packed bytes, first pixel in bit 0 (PS3.5 §D.1)."""
    stray = plane.translate(None, b"\x00\x01")
    if stray:
        position = next(i for i, value in enumerate(plane) if value > 1)
        raise DecodeError(
            f"{where}: pixel {position} of the decoded 1-bit plane (segment at this byte) "
            f"is {plane[position]}; a padded 1-bit code is 0 or 1 (PS3.5 §G.2)",
            offset=base,
        )
    # Reversed, the digits read most significant first: pixel k becomes bit k of the int.
    number = int(plane.translate(_TO_DIGITS)[::-1], 2)
    return number.to_bytes((pixels + 7) // 8, "little")


def _unpack_bits(data: bytes, pixels: int) -> bytes:
    """Native bit-packed bytes -> one 0/1 byte per pixel; bits past ``pixels`` ignored."""
    number = int.from_bytes(data, "little") & ((1 << pixels) - 1)
    return format(number, f"0{pixels}b").encode("ascii")[::-1].translate(_FROM_DIGITS)
