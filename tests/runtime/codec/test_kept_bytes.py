"""Sequences keep the bytes they were read with -- and never write them once changed.

Writing a sequence read from a stream copies its bytes while nothing in it has changed
(runtime/core/sequence.py, edit tracking).  The property: after any one change anywhere in
the tree, through any mutating method, the writer's output equals the output for a fresh
copy of the tree (which has no kept bytes and is encoded element by element).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from dicompile.runtime.codec.context import CodecContext
from dicompile.runtime.codec.reader import read_dataset
from dicompile.runtime.codec.writer import LengthPolicy, WriteOptions, encode_dataset
from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import DicomWarning

CTX = CodecContext()


def _item(n: int, depth: int) -> Dataset:
    elements = [
        DataElement(0x00081150, VR.UI, f"1.2.{n}"),
        DataElement(0x00200013, VR.IS, n),
    ]
    if depth:
        inner = Sequence(
            [_item(n * 10 + k, depth - 1) for k in range(2)], undefined_length=n % 2 == 0
        )
        elements.append(DataElement(0x00081199, VR.SQ, inner))
    item = Dataset(elements)
    item.undefined_length = n % 3 == 0
    return item


def _source() -> bytes:
    ds = Dataset(
        [
            DataElement(0x00080005, VR.CS, "ISO_IR 100"),
            DataElement(0x00081115, VR.SQ, Sequence([_item(k, 2) for k in range(3)])),
            DataElement(0x00100010, VR.PN, "Doe^John"),
            DataElement(0x00400275, VR.SQ, Sequence([_item(7, 1)], undefined_length=True)),
        ]
    )
    return encode_dataset(ds, CTX)


SOURCE = _source()


def _read() -> Dataset:
    return read_dataset(SOURCE, CTX)[0]


def _containers(ds: Dataset) -> tuple[list[Dataset], list[Sequence]]:
    datasets: list[Dataset] = [ds]
    sequences: list[Sequence] = []
    for element in ds.iter_all():
        value = element.value
        if isinstance(value, Sequence):
            sequences.append(value)
            datasets.extend(value)
    return datasets, sequences


def test_unchanged_sequences_are_copied_and_identical() -> None:
    ds = _read()
    top = ds[0x00081115].value
    assert isinstance(top, Sequence) and top.encoded is not None
    assert encode_dataset(ds, CTX) == SOURCE
    assert encode_dataset(ds.copy(), CTX) == SOURCE
    # Another encoding cannot reuse the bytes, and gets the right ones.
    implicit = CodecContext(implicit_vr=True)
    assert encode_dataset(ds, implicit) == encode_dataset(ds.copy(), implicit)
    assert encode_dataset(ds, CTX, WriteOptions(LengthPolicy.DEFINED)) == encode_dataset(
        ds.copy(), CTX, WriteOptions(LengthPolicy.DEFINED)
    )


_DATASET_EDITS: list[Callable[[Dataset], object]] = [
    lambda d: d.add(DataElement(0x00100020, VR.LO, "added")),
    lambda d: d.__setitem__(0x00200013, DataElement(0x00200013, VR.IS, 99)),
    lambda d: d.set(0x00081150, "9.9.9", VR.UI),
    lambda d: d.__delitem__(d.tags()[0]) if len(d) else None,
    lambda d: d.pop(0x00200013),
    lambda d: setattr(d, "undefined_length", not d.undefined_length),
    lambda d: d.private_block(0x0009, "ACME", create=True).set(0x01, VR.US, 1),
]

_SEQUENCE_EDITS: list[Callable[[Sequence], object]] = [
    lambda s: s.append(Dataset([DataElement(0x00081150, VR.UI, "5.5")])),
    lambda s: s.insert(0, Dataset()),
    lambda s: s.pop() if s else None,
    lambda s: s.remove(s[0]) if s else None,
    lambda s: s.clear(),
    lambda s: s.reverse(),
    lambda s: s.sort(key=len, reverse=True),
    lambda s: s.__delitem__(0) if s else None,
    lambda s: s.__setitem__(0, Dataset()) if s else None,
    lambda s: s.__setitem__(slice(0, 1), []),
    lambda s: s.__imul__(2),
    lambda s: s.__iadd__([Dataset()]),
    lambda s: s.extend([Dataset()]),
    lambda s: setattr(s, "undefined_length", not s.undefined_length),
]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_edit_anywhere_discards_the_kept_bytes(data: st.DataObject) -> None:
    ds = _read()
    datasets, sequences = _containers(ds)
    for _ in range(data.draw(st.integers(1, 3))):
        if data.draw(st.booleans()):
            target = data.draw(st.sampled_from(datasets))
            data.draw(st.sampled_from(_DATASET_EDITS))(target)
        else:
            seq = data.draw(st.sampled_from(sequences))
            data.draw(st.sampled_from(_SEQUENCE_EDITS))(seq)
    for policy in (LengthPolicy.PRESERVE, LengthPolicy.UNDEFINED):
        options = WriteOptions(policy)
        assert encode_dataset(ds, CTX, options) == encode_dataset(ds.copy(), CTX, options)


def _reference_walk(ds: Dataset) -> list[DataElement]:
    found: list[DataElement] = []
    for element in ds.elements():
        found.append(element)
        if isinstance(element.value, Sequence):
            for item in element.value:
                found += _reference_walk(item)
    return found


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_edit_anywhere_discards_the_recorded_walk(data: st.DataObject) -> None:
    # The reader records iter_all's order (Dataset._walk); after any edits it must still
    # give the tree as it now is.
    ds = _read()
    assert ds._walk is not None
    assert list(ds.iter_all()) == _reference_walk(ds)
    datasets, sequences = _containers(ds)
    for _ in range(data.draw(st.integers(1, 3))):
        if data.draw(st.booleans()):
            target = data.draw(st.sampled_from(datasets))
            data.draw(st.sampled_from(_DATASET_EDITS))(target)
        else:
            seq = data.draw(st.sampled_from(sequences))
            data.draw(st.sampled_from(_SEQUENCE_EDITS))(seq)
        walked = list(ds.iter_all())
        assert [id(e) for e in walked] == [id(e) for e in _reference_walk(ds)]


def test_no_walk_is_recorded_for_a_stream_with_problems() -> None:
    # Out of order tags: the data set is sorted on access, so the stream order is not
    # the walk; a repeated tag keeps the last one.
    first = encode_dataset(Dataset([DataElement(0x00100010, VR.PN, "A")]), CTX)
    second = encode_dataset(Dataset([DataElement(0x00080020, VR.DA, "20240101")]), CTX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        for source in (first + second, first + first):
            ds = read_dataset(source, CTX)[0]
            assert ds._walk is None
            assert list(ds.iter_all()) == _reference_walk(ds)


def test_an_item_moved_to_another_tree_still_invalidates_its_first_tree() -> None:
    first = _read()
    second = _read()
    item = first[0x00081115].value[1]  # type: ignore[index]
    second_seq = second[0x00400275].value
    assert isinstance(second_seq, Sequence) and isinstance(item, Dataset)
    second_seq.append(item)  # now in both trees
    item.add(DataElement(0x00100020, VR.LO, "changed in both"))
    for tree in (first, second):
        assert encode_dataset(tree, CTX) == encode_dataset(tree.copy(), CTX)
        assert list(tree.iter_all()) == _reference_walk(tree)
    assert b"changed in both" in encode_dataset(first, CTX)


def test_a_changed_charset_is_not_copied_over() -> None:
    ds = _read()
    ds.add(DataElement(0x00080005, VR.CS, "ISO_IR 192"))  # top level: not in the sequences
    assert encode_dataset(ds, CTX) == encode_dataset(ds.copy(), CTX)
