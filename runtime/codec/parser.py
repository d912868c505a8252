"""The token stream of an encoded data set (STYLE.md item 6; PS3.5 §7, Annex A).

:func:`iter_tokens` walks a buffer and yields :mod:`~dicompile.runtime.codec.tokens` with
their byte offsets, without building a tree: for tools that look at the structure of a
stream (``dicompile dump --tokens``), for streaming consumers, and as an independent
statement of the grammar.  :func:`dataset_from_tokens` builds a Dataset from tokens.

It follows the grammar of :mod:`dicompile.runtime.codec.reader` and shares its rules and
messages (VR resolution, the lenient readings, the bounds checks): it uses the reader's
helper object for them.  The reader does not consume these tokens because one token
object per header and per value doubles the cost of reading header-heavy files; a test
checks that ``dataset_from_tokens(iter_tokens(b))`` equals ``read_dataset(b)`` on every
file of the test corpus.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import Literal

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import (
    _ITEM,
    _ITEM_END,
    _LEVEL_FACT_TAGS,
    _NO_FACTS,
    _PIXEL_DATA,
    _SEQ_END,
    MAX_DEPTH,
    UNDEFINED,
    VR_HEADERS,
    Buffer,
    Path,
    PixelFacts,
    ReadOptions,
    _Reader,
    path_depth,
)
from dicompile.runtime.codec.tokens import (
    ElementHeader,
    Fragment,
    ItemEnd,
    ItemStart,
    SequenceEnd,
    SequenceStart,
    Token,
    Value,
)
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import (
    DataElement,
    Encapsulated,
    decoded_element,
    raw_element,
)
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DecodeError

_Gen = Generator[Token, None, int]
_Order = Literal["little", "big"]
_SPECIFIC_CHARACTER_SET = 0x00080005


def iter_tokens(
    buf: Buffer | bytearray | memoryview,
    ctx: CodecContext,
    *,
    offset: int = 0,
    end: int | None = None,
    source: str | None = None,
) -> Iterator[Token]:
    """The tokens of the data set in ``buf[offset:end]`` encoded as ``ctx`` says.

    Raises
    ------
    DecodeError
        As :func:`dicompile.runtime.codec.reader.read_dataset` (strict: any deviation).

    References
    ----------
    PS3.5 §7.1 (elements), §7.5 (sequences, items, delimiters), §6.2.2 (UN), §A.4
    (encapsulated fragments).
    """
    data: Buffer = buf if isinstance(buf, bytes) else bytes(buf)
    stop = len(data) if end is None else min(end, len(data))
    helper = _Reader(data, ReadOptions(source=source))
    yield from _dataset(helper, offset, stop, ctx, _NO_FACTS, None, item=False)


def _dataset(
    r: _Reader, pos: int, end: int, ctx: CodecContext, facts: PixelFacts, path: Path, *, item: bool
) -> _Gen:
    """Tokens of the elements of one data set; returns the position after it."""
    buf = r.buf
    le = ctx.little_endian
    while pos < end:
        if pos + 8 > end:
            r._trailing(ctx, pos, end, path, not item)
            return end
        group = int.from_bytes(buf[pos : pos + 2], "little" if le else "big")
        number = int.from_bytes(buf[pos + 2 : pos + 4], "little" if le else "big")
        tag = (group << 16) | number
        if group == 0xFFFE:
            if tag == _ITEM_END and item:
                return pos + 8
            r._stray_delimiter(ctx, tag, pos, path)
            pos += 8
            continue
        explicit = False
        if ctx.implicit_vr:
            length = int.from_bytes(buf[pos + 4 : pos + 8], "little" if le else "big")
            vr = r.implicit_vr(ctx, tag, facts)
            start = pos + 8
        else:
            header = VR_HEADERS.get(bytes(buf[pos + 4 : pos + 6]))
            if header is None:
                if not r._looks_implicit(ctx, pos, end, tag, path):
                    return end
                vr = r.implicit_vr(ctx, tag, facts)
                length = int.from_bytes(buf[pos + 4 : pos + 8], "little" if le else "big")
                start = pos + 8
            else:
                vr, long_header = header
                explicit = True
                if long_header:
                    if pos + 12 > end:
                        r._trailing(ctx, pos, end, path, not item)
                        return end
                    length = int.from_bytes(buf[pos + 8 : pos + 12], "little" if le else "big")
                    start = pos + 12
                else:
                    length = int.from_bytes(buf[pos + 6 : pos + 8], "little" if le else "big")
                    start = pos + 8
        header_offset = pos
        if vr is VR.SQ or (length == UNDEFINED and vr is VR.UN):
            pos = yield from _sequence_element(
                r, header_offset, tag, vr, start, length, end, ctx, facts, path, explicit
            )
            continue
        if length == UNDEFINED:
            if vr in (VR.OB, VR.OW) or tag == _PIXEL_DATA:
                yield ElementHeader(header_offset, tag, vr, None, explicit)
                pos = yield from _fragments(r, start, end, ctx, path, tag)
                continue
            r.problem(
                ctx,
                f"undefined length for VR {vr.value}; read as a sequence (PS3.5 §7.1.1)",
                start,
                path,
                tag,
            )
            pos = yield from _sequence_element(
                r, header_offset, tag, VR.SQ, start, length, end, ctx, facts, path, explicit
            )
            continue
        stop = r._value_end(ctx, tag, start, length, end, path)
        if length & 1:
            r.problem(ctx, f"odd value length {length} (PS3.5 §7.1.1)", start, path, tag)
        if vr is VR.UN:
            known = r.dictionary_vrs(ctx, tag)
            if known and known != (VR.UN,):
                vr = r.implicit_vr(ctx, tag, facts)
                if vr is VR.SQ:
                    # A sequence sent as UN: Implicit VR Little Endian items (PS3.5 §6.2.2),
                    # read in place.
                    implicit = ctx.with_syntax(little_endian=True, implicit_vr=True)
                    yield SequenceStart(header_offset, tag, VR.SQ, stop - start, explicit)
                    yield from _items(r, start, stop, False, implicit, facts, path, tag)
                    pos = stop
                    continue
        raw = bytes(buf[start:stop])
        yield ElementHeader(header_offset, tag, vr, length, explicit)
        yield Value(start, raw)
        if tag in _LEVEL_FACT_TAGS:
            ctx, facts = r._level_facts(tag, raw_element(tag, vr, raw, ctx), ctx, facts)
        pos = stop
    return pos


def _sequence_element(
    r: _Reader,
    header_offset: int,
    tag: int,
    vr: VR,
    start: int,
    length: int,
    end: int,
    ctx: CodecContext,
    facts: PixelFacts,
    path: Path,
    explicit: bool,
) -> _Gen:
    undefined = length == UNDEFINED
    if path_depth(path) + 1 > MAX_DEPTH:
        raise r.error(f"sequences nested deeper than {MAX_DEPTH}", start, path, tag)
    seq_end = end if undefined else r._value_end(ctx, tag, start, length, end, path)
    item_ctx = ctx
    if vr is VR.UN:
        item_ctx = ctx.with_syntax(little_endian=True, implicit_vr=True)
        if r.dictionary_vrs(ctx, tag) == (VR.SQ,):
            vr = VR.SQ
    yield SequenceStart(header_offset, tag, vr, None if undefined else length, explicit)
    return (yield from _items(r, start, seq_end, undefined, item_ctx, facts, path, tag))


def _items(
    r: _Reader,
    pos: int,
    seq_end: int,
    undefined: bool,
    ctx: CodecContext,
    facts: PixelFacts,
    path: Path,
    tag: int,
) -> _Gen:
    """Items of a sequence up to ``seq_end`` or its delimiter, then SequenceEnd."""
    buf = r.buf
    order: _Order = "little" if ctx.little_endian else "big"
    index = 0
    depth = path_depth(path) + 1
    while True:
        if pos + 8 > seq_end:
            if pos < seq_end:
                r.problem(ctx, "truncated item header", pos, path, tag)
                pos = seq_end
            elif undefined:
                r.problem(
                    ctx,
                    "sequence of undefined length ends without a Sequence Delimitation Item",
                    pos,
                    path,
                    tag,
                )
            yield SequenceEnd(pos, False)
            return pos
        item_tag = (int.from_bytes(buf[pos : pos + 2], order) << 16) | int.from_bytes(
            buf[pos + 2 : pos + 4], order
        )
        length = int.from_bytes(buf[pos + 4 : pos + 8], order)
        if item_tag == _ITEM:
            item_path: Path = (path, tag, index, depth)
            if length == UNDEFINED:
                yield ItemStart(pos, index, None)
                pos = yield from _dataset(r, pos + 8, seq_end, ctx, facts, item_path, item=True)
                delimited = True
            else:
                item_end = pos + 8 + length
                if item_end > seq_end:
                    r.problem(
                        ctx,
                        f"item length {length} goes past the end of the sequence",
                        pos,
                        item_path,
                        None,
                    )
                    item_end = seq_end
                yield ItemStart(pos, index, length)
                pos = yield from _dataset(r, pos + 8, item_end, ctx, facts, item_path, item=True)
                delimited = False
            yield ItemEnd(pos, delimited)
            index += 1
            continue
        if item_tag == _SEQ_END:
            pos += 8
            if undefined:
                yield SequenceEnd(pos, True)
                return pos
            r.problem(
                ctx,
                "Sequence Delimitation Item in a sequence of defined length",
                pos - 8,
                path,
                tag,
            )
            continue
        r.problem(
            ctx,
            f"{format_tag(item_tag)} where an item was expected (PS3.5 §7.5)",
            pos,
            path,
            tag,
        )
        if not undefined:
            pos = seq_end
        yield SequenceEnd(pos, False)
        return pos


def _fragments(r: _Reader, start: int, end: int, ctx: CodecContext, path: Path, tag: int) -> _Gen:
    """Fragment items of encapsulated pixel data, then SequenceEnd (PS3.5 §A.4)."""
    buf = r.buf
    order: _Order = "little" if ctx.little_endian else "big"
    pos = start
    index = 0
    while True:
        if pos + 8 > end:
            r.problem(
                ctx,
                "encapsulated pixel data ends without a Sequence Delimitation Item",
                pos,
                path,
                tag,
            )
            yield SequenceEnd(end, False)
            return end
        item_tag = (int.from_bytes(buf[pos : pos + 2], order) << 16) | int.from_bytes(
            buf[pos + 2 : pos + 4], order
        )
        length = int.from_bytes(buf[pos + 4 : pos + 8], order)
        if item_tag == _SEQ_END:
            yield SequenceEnd(pos + 8, True)
            return pos + 8
        if item_tag != _ITEM or length == UNDEFINED or pos + 8 + length > end:
            r.problem(
                ctx,
                f"{format_tag(item_tag)} of length {length} where a fragment item was "
                "expected (PS3.5 §A.4)",
                pos,
                path,
                tag,
            )
            yield SequenceEnd(end, False)
            return end
        yield Fragment(pos, index, bytes(buf[pos + 8 : pos + 8 + length]))
        index += 1
        pos += 8 + length


def dataset_from_tokens(tokens: Iterable[Token], ctx: CodecContext) -> Dataset:
    """The Dataset that a token stream describes (values stay raw, decoded with ``ctx``
    and the character sets found on the way, as the reader does).

    Raises
    ------
    DecodeError
        The tokens are not well nested.
    """
    # Each open level: (elements, sequence items under construction or None, context).
    levels: list[dict[int, DataElement]] = [{}]
    contexts: list[CodecContext] = [ctx]
    sequences: list[tuple[SequenceStart, list[Dataset], CodecContext]] = []
    pending: ElementHeader | None = None
    fragments: list[bytes] = []
    item_flags: list[bool] = []
    for token in tokens:
        if isinstance(token, ElementHeader):
            pending = token
            fragments = []
        elif isinstance(token, Value):
            if pending is None:
                raise DecodeError("a value token without its header", offset=token.offset)
            element = raw_element(pending.tag, pending.vr, token.raw, contexts[-1])
            levels[-1][pending.tag] = element
            if pending.tag == _SPECIFIC_CHARACTER_SET:
                contexts[-1] = contexts[-1].with_charset(_terms(element))
            pending = None
        elif isinstance(token, Fragment):
            fragments.append(token.raw)
        elif isinstance(token, SequenceStart):
            sequences.append((token, [], contexts[-1]))
        elif isinstance(token, ItemStart):
            levels.append({})
            contexts.append(sequences[-1][2])
            item_flags.append(token.length is None)
        elif isinstance(token, ItemEnd):
            elements = levels.pop()
            contexts.pop()
            items = sequences[-1][1]
            items.append(
                Dataset._from_dict(
                    dict(sorted(elements.items())),
                    True,
                    max(elements, default=-1),
                    item_flags.pop(),
                )
            )
        elif isinstance(token, SequenceEnd):
            if pending is not None:  # end of encapsulated pixel data
                data = b"".join(_item_header(raw) + raw for raw in fragments) + _item_header(None)
                levels[-1][pending.tag] = decoded_element(
                    pending.tag, pending.vr, Encapsulated(data)
                )
                pending = None
                continue
            start, items, _ = sequences.pop()
            value = Sequence._from_list(items, start.length is None)
            levels[-1][start.tag] = decoded_element(start.tag, start.vr, value)
    top = levels[0]
    return Dataset._from_dict(dict(sorted(top.items())), True, max(top, default=-1), None)


def _item_header(raw: bytes | None) -> bytes:
    if raw is None:
        return b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    return b"\xfe\xff\x00\xe0" + len(raw).to_bytes(4, "little")


def _terms(element: DataElement) -> tuple[str, ...]:
    value = element.value
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple):
        return tuple(v if isinstance(v, str) else "" for v in value)
    return ()
