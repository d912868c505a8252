"""Data sets carried by DIMSE messages: decoded from and encoded in a context's syntax.

A DIMSE message carries its data set (Identifier, Attribute List, Action or Event
Information) as opaque bytes in the presentation context's transfer syntax (PS3.7 §6.3.1,
PS3.8 Annex B).  The services that look inside those data sets (worklist, MPPS, storage
commitment) go through :func:`decode_payload` and :func:`encode_payload`; a deflated
syntax is inflated and deflated here (PS3.5 A.5).
"""

from __future__ import annotations

import zlib

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.transfer_syntax import transfer_syntax
from dicompile.runtime.codec.writer import encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.errors import DecodeError

#: A deflated data set is refused beyond this size once inflated (a "deflate bomb").
MAX_INFLATED = 64 << 20


def decode_payload(
    data: bytes | None, syntax_uid: str, *, source: str = "DIMSE data set"
) -> Dataset:
    """The data set of a DIMSE message, decoded (an empty one when ``data`` is None).

    Raises
    ------
    DecodeError
        The bytes are no data set in the transfer syntax (``source`` names the message).

    References
    ----------
    PS3.7 §6.3.1; PS3.5 Annex A.
    """
    if not data:
        return Dataset()
    syntax = transfer_syntax(syntax_uid)
    if syntax.deflated:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, MAX_INFLATED)
        except zlib.error as exc:
            raise DecodeError(f"deflated data set does not inflate: {exc}", source=source) from None
        if inflater.unconsumed_tail:
            raise DecodeError(f"inflated data set exceeds {MAX_INFLATED} bytes", source=source)
    ctx = CodecContext(little_endian=syntax.little_endian, implicit_vr=syntax.implicit_vr)
    dataset, _, _ = read_dataset(data, ctx)
    return dataset


def encode_payload(dataset: Dataset, syntax_uid: str) -> bytes:
    """``dataset`` encoded in the transfer syntax ``syntax_uid`` for a DIMSE message.

    References
    ----------
    PS3.7 §6.3.1; PS3.5 Annex A (A.5: deflate).
    """
    syntax = transfer_syntax(syntax_uid)
    ctx = CodecContext(little_endian=syntax.little_endian, implicit_vr=syntax.implicit_vr)
    encoded = encode_dataset(dataset, ctx)
    if not syntax.deflated:
        return encoded
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = compressor.compress(encoded) + compressor.flush()
    return out + b"\x00" if len(out) % 2 else out


__all__ = ["MAX_INFLATED", "decode_payload", "encode_payload"]
