"""``dicompile dump FILE...``: print DICOM files as text, one element per line.

The layout follows dcmtk's dcmdump, which DICOM users read fluently: nesting by indent, the
tag, the VR, the value (text in brackets, numbers bare, bytes in hex, truncated to
``--width``), then after ``#`` the value length, the multiplicity and the keyword::

    (0010,0010) PN [Doe^John]                               #   8, 1 PatientName
    (0008,1115) SQ (Sequence with explicit length #=1)      #  24, 1 ReferencedSeriesSequence
      (FFFE,E000) na (Item with explicit length #=1)        #  16, 1 Item

``--tokens`` prints the raw token stream of the data set with byte offsets instead
(runtime/codec/parser.py), which shows exactly how a file is encoded.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TextIO

from dicompile.runtime.errors import DicomError

_COLUMN = 56  # where the "#" comment column starts (as dcmdump)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dump`` to the ``dicompile`` parser."""
    parser = subparsers.add_parser(
        "dump",
        help="print DICOM files as text (like dcmdump)",
        description="Print the meta information and data set of DICOM Part 10 files.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="DICOM files to print")
    parser.add_argument(
        "-w",
        "--width",
        type=int,
        default=64,
        metavar="N",
        help="cut values longer than N characters (default 64; 0: never)",
    )
    parser.add_argument("--no-meta", action="store_true", help="leave out the meta information")
    parser.add_argument(
        "-s", "--stop-before-pixels", action="store_true", help="stop before the pixel data"
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail on anything that breaks PS3.5/PS3.10"
    )
    parser.add_argument(
        "--tokens", action="store_true", help="print the token stream with byte offsets"
    )
    model = parser.add_mutually_exclusive_group()
    model.add_argument(
        "--json",
        action="store_true",
        help="print the DICOM JSON Model (PS3.18 F); several files give one JSON array",
    )
    model.add_argument(
        "--xml", action="store_true", help="print the Native DICOM Model (PS3.19 A.1) XML"
    )
    parser.set_defaults(handler=_dump)


def _dump(args: argparse.Namespace) -> int:
    if getattr(args, "json", False) or getattr(args, "xml", False):
        return _dump_model(args)
    status = 0
    out = sys.stdout
    for index, name in enumerate(args.files):
        if len(args.files) > 1:
            if index:
                out.write("\n")
            out.write(f"# file: {name}\n")
        try:
            lines = _token_lines(name, args) if args.tokens else _file_lines(name, args)
            out.write("\n".join(lines) + "\n")  # one write per file
        except BrokenPipeError:
            raise
        except (DicomError, OSError) as exc:
            print(f"dicompile dump: {name}: {exc}", file=sys.stderr)
            status = 1
    return status


def _dump_model(args: argparse.Namespace) -> int:
    """``--json`` / ``--xml``: the meta information (unless ``--no-meta``) and the data set
    as one DICOM JSON object or Native DICOM Model document per file."""
    from dicompile.runtime.codec.json_model import to_json, to_json_array
    from dicompile.runtime.codec.xml_model import to_xml
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.media.part10 import read_file

    status = 0
    datasets: list[Dataset] = []
    for name in args.files:
        try:
            fd = read_file(name, stop_before_pixels=args.stop_before_pixels, strict=args.strict)
        except (DicomError, OSError) as exc:
            print(f"dicompile dump: {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        meta = [] if args.no_meta else list(fd.meta)
        dataset = Dataset(meta + list(fd.dataset))
        if args.xml:
            sys.stdout.write(to_xml(dataset))
        else:
            datasets.append(dataset)
    if args.json and datasets:
        text = to_json(datasets[0]) if len(args.files) == 1 else to_json_array(datasets)
        sys.stdout.write(text + "\n")
    return status


def _file_lines(name: str, args: argparse.Namespace) -> Iterator[str]:
    from dicompile.runtime.media.part10 import read_file

    fd = read_file(name, stop_before_pixels=args.stop_before_pixels, strict=args.strict)
    yield "# Dicom-File-Format"
    if not args.no_meta:
        yield ""
        yield "# Dicom-Meta-Information-Header"
        yield "# Used TransferSyntax: Little Endian Explicit"
        yield from dataset_lines(fd.meta, width=args.width)
    yield ""
    yield "# Dicom-Data-Set"
    yield f"# Used TransferSyntax: {fd.transfer_syntax.name}"
    yield from dataset_lines(fd.dataset, width=args.width)


def _token_lines(name: str, args: argparse.Namespace) -> Iterator[str]:
    from dicompile.runtime.codec.context import CodecContext
    from dicompile.runtime.codec.parser import iter_tokens
    from dicompile.runtime.codec.tokens import (
        ElementHeader,
        Fragment,
        ItemEnd,
        ItemStart,
        SequenceEnd,
        SequenceStart,
        Value,
    )
    from dicompile.runtime.core.tag import format_tag
    from dicompile.runtime.media import part10

    with open(name, "rb") as stream:
        data = stream.read()
    _, pos = part10._find_start(data, name, args.strict)
    meta, pos = part10._read_meta(data, pos, CodecContext(strict=args.strict), name, args.strict)
    syntax = part10._syntax_of(meta, data, pos, name, args.strict)
    yield f"# {name}: data set at byte {pos}, {syntax.name}"
    if syntax.deflated:
        data = part10._inflate(data, pos, name, args.strict, part10.DEFAULT_MAX_INFLATED)
        pos = 0
        yield "# (offsets are in the inflated data set)"
    implicit = part10._check_explicitness(data, pos, syntax, name, args.strict)
    ctx = CodecContext(little_endian=syntax.little_endian, implicit_vr=implicit, strict=args.strict)
    depth = 0
    for token in iter_tokens(data, ctx, offset=pos, source=name):
        pad = "  " * depth
        if isinstance(token, ElementHeader):
            length = "u/l" if token.length is None else str(token.length)
            yield f"{token.offset:>10} {pad}{format_tag(token.tag)} {token.vr.value} len={length}"
        elif isinstance(token, Value):
            continue
        elif isinstance(token, SequenceStart):
            length = "u/l" if token.length is None else str(token.length)
            yield f"{token.offset:>10} {pad}{format_tag(token.tag)} {token.vr.value} len={length} ("
            depth += 1
        elif isinstance(token, ItemStart):
            length = "u/l" if token.length is None else str(token.length)
            yield f"{token.offset:>10} {pad}item {token.index} len={length} {{"
            depth += 1
        elif isinstance(token, ItemEnd):
            depth -= 1
            how = "delimiter" if token.delimited else "length"
            yield f"{token.offset:>10} {'  ' * depth}}} (by {how})"
        elif isinstance(token, SequenceEnd):
            depth = max(depth - 1, 0)
            how = "delimiter" if token.delimited else "length"
            yield f"{token.offset:>10} {'  ' * depth}) (by {how})"
        elif isinstance(token, Fragment):
            yield f"{token.offset:>10} {pad}  fragment {token.index} len={len(token.raw)}"


def dataset_lines(dataset: object, *, width: int = 64, indent: int = 0) -> list[str]:
    """The dump lines of a data set (elements in tag order, items indented).

    Iterative with an explicit stack (header-heavy files nest deeply; a generator per level
    would pass each line up through every level) and with per-tag caches of the tag text
    and keyword, so that dumping costs little more than reading.
    """
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.element import DataElement, Encapsulated
    from dicompile.runtime.core.sequence import Sequence
    from dicompile.runtime.core.vr import VR

    assert isinstance(dataset, Dataset)
    lines: list[str] = []
    add = lines.append
    numbers = (VR.DS, VR.IS)
    # Each entry: (True, items of a sequence, pad) or (False, elements of a data set, pad).
    stack: list[tuple[bool, Iterator[object], str]] = [
        (False, iter(dataset.elements()), "  " * indent)
    ]
    while stack:
        is_items, entries, pad = stack[-1]
        if is_items:
            item = next(entries, None)
            if item is None:
                stack.pop()
                continue
            assert isinstance(item, Dataset)
            form = "undefined" if item.undefined_length else "explicit"
            add(
                _line(
                    pad,
                    "(FFFE,E000)",
                    "na",
                    f"(Item with {form} length #={len(item)})",
                    "",
                    1,
                    "Item",
                )
            )
            stack.append((False, iter(item.elements()), pad + "  "))
            continue
        for element in entries:
            assert isinstance(element, DataElement)
            tag = element.tag
            vr = element.vr
            raw = element.raw
            if vr in numbers and isinstance(raw, bytes):
                # Numbers as written (like dcmdump): exact, and no need to convert the
                # thousands of values of a contour only to show the first few.
                shown = raw[: width + 16] if width else raw
                text = shown.decode("latin-1").strip(" \x00")
                if width and len(text) > width:
                    text = text[: width - 3] + "..."
                vm = raw.count(b"\\") + 1 if raw.strip(b" \x00") else 0
                add(_line(pad, _tag_text(tag), vr, text or _NO_VALUE, len(raw), vm, _keyword(tag)))
                continue
            if element.is_deferred and raw is not None and not isinstance(raw, bytes):
                # A value still in the file (pixel data): show its first bytes only, in
                # the file's byte order, without reading the rest.
                head = _deferred_head(raw, max(width // 3, 1) if width else raw.length)
                text = head.hex("\\") + ("..." if len(head) < raw.length else "")
                add(_line(pad, _tag_text(tag), vr, text, raw.length, 1, _keyword(tag)))
                continue
            value = element.value
            if isinstance(value, Sequence):
                form = "undefined" if value.undefined_length else "explicit"
                if value.undefined_length is None:
                    form = "new"
                kind = "Sequence" if vr is VR.SQ else "UN sequence"
                text = f"({kind} with {form} length #={len(value)})"
                shown_length = "u/l" if value.undefined_length else ""
                add(_line(pad, _tag_text(tag), vr, text, shown_length, 1, _keyword(tag)))
                stack.append((True, iter(value), pad + "  "))
                break
            if isinstance(value, Encapsulated):
                add(_line(pad, _tag_text(tag), vr, "(PixelSequence)", "u/l", 1, _keyword(tag)))
                lines.extend(_fragment_lines(value, pad + "  "))
                continue
            length = (
                len(raw) if isinstance(raw, bytes) else (raw.length if raw is not None else None)
            )
            vm = 0 if value is None else len(value) if isinstance(value, tuple) else 1
            add(
                _line(pad, _tag_text(tag), vr, _value_text(value, width), length, vm, _keyword(tag))
            )
        else:
            stack.pop()
    return lines


def _deferred_head(raw: object, size: int) -> bytes:
    from dicompile.runtime.media.deferred import FileSpan

    if isinstance(raw, FileSpan):
        return raw.read_range(0, min(size, raw.length))
    read = getattr(raw, "read", None)
    return read()[:size] if callable(read) else b""


_NO_VALUE = "(no value available)"
_TAG_TEXTS: dict[int, str] = {}
_KEYWORDS: dict[int, str] = {}


def _tag_text(tag: int) -> str:
    text = _TAG_TEXTS.get(tag)
    if text is None:
        text = _TAG_TEXTS[tag] = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return text


def _fragment_lines(value: object, pad: str) -> Iterator[str]:
    from dicompile.runtime.core.element import Encapsulated

    assert isinstance(value, Encapsulated)
    data = value.load()
    pos = 0
    index = 0
    while pos + 8 <= len(data):
        tag = int.from_bytes(data[pos : pos + 2], "little") << 16 | int.from_bytes(
            data[pos + 2 : pos + 4], "little"
        )
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if tag != 0xFFFEE000:
            break
        what = "Basic Offset Table" if index == 0 else f"fragment {index}"
        preview = data[pos + 8 : pos + 8 + min(length, 8)].hex("\\")
        more = "..." if length > 8 else ""
        yield _line(pad, "(FFFE,E000)", "pi", f"{preview}{more}", length, 1, what)
        pos += 8 + length
        index += 1
    yield _line(pad[:-2], "(FFFE,E0DD)", "na", "(SequenceDelimitationItem)", 0, 0, "")


def _value_text(value: object, width: int) -> str:
    if value is None:
        return "(no value available)"
    if isinstance(value, bytes):
        text = value[: max(width // 3, 1) if width else len(value)].hex("\\")
        if width and len(value) > max(width // 3, 1):
            text += "..."
        return text
    if isinstance(value, tuple):
        parts = ["" if v is None else str(v) for v in value]
        joined = "\\".join(parts)
        quoted = any(isinstance(v, str) for v in value)
    else:
        joined = str(value)
        quoted = isinstance(value, str) or type(value).__name__ in (
            "PersonName",
            "DA",
            "TM",
            "DT",
        )
    if width and len(joined) > width:
        joined = joined[: width - 3] + "..."
    return f"[{joined}]" if quoted else joined


def _line(
    pad: str, tag: str, vr: str, text: str, length: int | str | None, vm: int, keyword: str
) -> str:
    left = f"{pad}{tag} {vr} {text}"  # vr: a VR (a str enum) or its text
    shown = "?" if length is None else str(length)
    return f"{left:<{_COLUMN}} # {shown:>3}, {vm} {keyword}"


def _keyword(tag: int) -> str:
    keyword = _KEYWORDS.get(tag)
    if keyword is None:
        keyword = _KEYWORDS[tag] = _find_keyword(tag)
    return keyword


def _find_keyword(tag: int) -> str:
    from dicompile.runtime.core.lookup import DEFAULT_LOOKUP
    from dicompile.runtime.core.tag import is_private, is_private_creator

    keyword = DEFAULT_LOOKUP.keyword(tag)
    if keyword:
        return keyword
    if is_private_creator(tag):
        return "PrivateCreator"
    if is_private(tag):
        return "PrivateTag"
    if tag & 0xFFFF == 0:
        return "GroupLength"
    return "Unknown Tag & Data"


def write_dump(dataset: object, out: TextIO, *, width: int = 64) -> None:
    """Write the dump of a data set to ``out`` (for other commands and tests)."""
    for line in dataset_lines(dataset, width=width):
        out.write(line + "\n")
