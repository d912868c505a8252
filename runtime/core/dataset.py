"""Data sets (PS3.5 §7): data elements ordered by tag, addressed by tag or keyword.

``ds[0x00100010]``, ``ds[tags.PatientName]`` and ``ds["PatientName"]`` all give the
:class:`~dicompile.runtime.core.element.DataElement`; ``ds.get_value(key)`` gives its value.
There is no attribute magic (STYLE.md): keyword access goes through ``[]`` and the generated
dictionary, which is imported lazily (runtime/core/lookup.py).

Elements are kept in a dict in insertion order; a reader inserts them in stream order, which
PS3.5 §7.1 requires to be ascending, and the dict is re-sorted only when something was
inserted out of order, so iteration is always in tag order at no cost in the common case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from dicompile.runtime.core.element import (
    UNDECODED,
    DataElement,
    ElementValue,
    values_equal,
)
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP, TagLookup
from dicompile.runtime.core.private import PrivateBlock, find_private_block
from dicompile.runtime.core.sequence import EditToken, Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR, dictionary_vr

_new = object.__new__

_SQ = VR.SQ
_UN = VR.UN

#: How elements are addressed: a tag as int, or a PS3.6 keyword.
Key: TypeAlias = int | str


class Dataset:
    """An ordered collection of data elements (PS3.5 §7.1), one per tag.

    ``undefined_length`` records, for a sequence item read from a stream, whether the item
    had undefined length (PS3.5 §7.5.2), so that writers can preserve it; None otherwise.
    """

    __slots__ = ("_elements", "_last", "_nested", "_sorted", "_token", "_undefined", "_walk")

    #: Shared with the other objects of a subtree read from a stream (edit tracking, see
    #: runtime/core/sequence.py); None for data sets made in memory.
    _token: EditToken | None
    #: For a data set just read: every element in iter_all order, recorded by the reader,
    #: and the edit tokens of its top-level sequences.  Valid while none of them is edited
    #: and this data set is not changed (its mutators drop it); None otherwise.
    _walk: tuple[list[DataElement], tuple[EditToken, ...]] | None

    def __init__(self, elements: object = ()) -> None:
        self._elements: dict[int, DataElement] = {}
        #: False only while no SQ or UN element is here (then no element has items, and
        #: iter_all takes the elements in one C-level step); set by _put, never cleared.
        self._nested = False
        self._sorted = True
        self._last = -1
        self._undefined: bool | None = None
        self._token = None
        self._walk = None
        if not isinstance(elements, (list, tuple)):
            raise TypeError("Dataset() takes a list or tuple of DataElements")
        for element in elements:
            if not isinstance(element, DataElement):
                raise TypeError(f"not a DataElement: {element!r:.80}")
            self.add(element)

    @classmethod
    def _from_dict(
        cls,
        elements: dict[int, DataElement],
        in_order: bool,
        last: int,
        undefined_length: bool | None,
        nested: bool = True,
    ) -> Dataset:
        """A dataset over a reader's dict (no copy); ``in_order`` if keys ascend, ``last``
        the largest tag (-1 when empty), ``nested`` unless surely no element is SQ or UN."""
        ds = _new(cls)
        ds._elements = elements
        ds._nested = nested
        ds._sorted = in_order
        ds._last = last
        ds._undefined = undefined_length
        ds._token = None
        ds._walk = None
        return ds

    # -- keys ---------------------------------------------------------------------------------

    @staticmethod
    def tag_of(key: Key, lookup: TagLookup = DEFAULT_LOOKUP) -> int:
        """The tag for a key: an int is a tag; a str is a keyword (KeyError if unknown)."""
        if isinstance(key, int):
            return key
        tag = lookup.tag_for_keyword(key)
        if tag is None:
            raise KeyError(f"unknown keyword {key!r} (not in the generated data dictionary)")
        return tag

    # -- mapping protocol -------------------------------------------------------------------

    def __getitem__(self, key: Key) -> DataElement:
        tag = key if isinstance(key, int) else self.tag_of(key)
        try:
            return self._elements[tag]
        except KeyError:
            raise KeyError(f"{format_tag(tag)} is not in the dataset") from None

    def get(self, key: Key, default: DataElement | None = None) -> DataElement | None:
        """The element for ``key``, or ``default``."""
        try:
            tag = key if isinstance(key, int) else self.tag_of(key)
        except KeyError:
            return default
        return self._elements.get(tag, default)

    def get_value(self, key: Key, default: ElementValue = None) -> ElementValue:
        """The decoded value for ``key``, or ``default`` when the element is absent."""
        element = self.get(key)
        return default if element is None else element.value

    def __setitem__(self, key: Key, value: object) -> None:
        """``ds[key] = element`` stores an element; any other value gets the dictionary VR."""
        tag = self.tag_of(key)
        if isinstance(value, DataElement):
            if value.tag != tag:
                raise KeyError(
                    f"element {format_tag(value.tag)} cannot be stored under {format_tag(tag)}"
                )
            self._put(value)
        else:
            self.set(tag, value)

    def set(
        self,
        key: Key,
        value: object,
        vr: VR | str | None = None,
        *,
        lookup: TagLookup | None = None,
    ) -> DataElement:
        """Store ``value`` under ``key`` with VR ``vr`` (the dictionary's when None).

        Raises
        ------
        ValueError
            The dictionary does not know the tag, or allows several VRs (``"US or SS"``):
            then ``vr`` must be given.
        """
        found = lookup or DEFAULT_LOOKUP
        tag = self.tag_of(key, found)
        if vr is None:
            existing = self._elements.get(tag)
            choices = (existing.vr,) if existing is not None else dictionary_vr(found.vr_text(tag))
            if len(choices) != 1:
                what = "is not in the data dictionary" if not choices else "has several VRs"
                raise ValueError(f"{format_tag(tag)} {what}: give its VR explicitly")
            vr = choices[0]
        element = DataElement(tag, VR(vr), value)
        self._put(element)
        return element

    def add(self, element: DataElement) -> None:
        """Store an element under its own tag (replacing any element with that tag)."""
        self._put(element)

    @property
    def undefined_length(self) -> bool | None:
        return self._undefined

    @undefined_length.setter
    def undefined_length(self, value: bool | None) -> None:
        self._edited()
        self._undefined = value

    def _edited(self) -> None:
        token = self._token
        if token is not None:
            token.edited = True

    def _put(self, element: DataElement) -> None:
        token = self._token
        if token is not None:
            token.edited = True
        self._walk = None
        tag = element.tag
        vr = element.vr
        if vr is _SQ or vr is _UN:
            self._nested = True
        if tag <= self._last and tag not in self._elements:
            self._sorted = False
        elif tag > self._last:
            self._last = tag
        self._elements[tag] = element

    def __delitem__(self, key: Key) -> None:
        tag = self.tag_of(key)
        self._edited()
        self._walk = None
        try:
            del self._elements[tag]
        except KeyError:
            raise KeyError(f"{format_tag(tag)} is not in the dataset") from None

    def pop(self, key: Key, default: DataElement | None = None) -> DataElement | None:
        """Remove and return the element for ``key`` (``default`` when absent)."""
        try:
            tag = self.tag_of(key)
        except KeyError:
            return default
        self._edited()
        self._walk = None
        return self._elements.pop(tag, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, int):
            return key in self._elements
        if isinstance(key, str):
            tag = DEFAULT_LOOKUP.tag_for_keyword(key)
            return tag is not None and tag in self._elements
        return False

    def __len__(self) -> int:
        return len(self._elements)

    def _ordered(self) -> dict[int, DataElement]:
        if not self._sorted:
            self._elements = dict(sorted(self._elements.items()))
            self._sorted = True
        return self._elements

    def __iter__(self) -> Iterator[DataElement]:
        """The elements in ascending tag order."""
        return iter(list(self._ordered().values()))

    def tags(self) -> list[int]:
        """The tags in ascending order."""
        return list(self._ordered())

    def elements(self) -> list[DataElement]:
        """The elements in ascending tag order (a snapshot list)."""
        return list(self._ordered().values())

    def iter_all(self) -> Iterator[DataElement]:
        """Every element, depth first: each element, then the elements of its items.

        The walk is done at once and the iterator runs over its result, so the tree may
        change while the iterator is consumed (what it yields is the tree as it was).
        """
        # One loop over an explicit stack of iterators, collecting into a list: a generator
        # (a frame resumed per element) or nested generators (every element passed up
        # through one frame per nesting level) cost about twice as much on header-heavy
        # trees (SR content trees hold more items than elements per item).  Data sets with
        # no SQ or UN element (most items: codes, contours) are taken whole by list.extend.
        recorded = self._walk
        if recorded is not None:
            walk, tokens = recorded
            for token in tokens:
                if token.edited:
                    self._walk = None
                    break
            else:
                return iter(walk)
        top = self._ordered()
        if not self._nested:
            return iter(list(top.values()))
        found: list[DataElement] = []
        append = found.append
        extend = found.extend
        stack: list[Iterator[DataElement]] = []
        push = stack.append
        sq = VR.SQ
        un = VR.UN
        undecoded = UNDECODED
        sequence_class = Sequence
        current: Iterator[DataElement] = iter(top.values())
        while True:
            for element in current:
                append(element)
                vr = element.vr
                if vr is sq or vr is un:
                    value = element._value
                    if value is undecoded:
                        value = element.value
                    if value and isinstance(value, sequence_class):
                        # Leading items without sequences are taken whole; the first item
                        # with some is walked next, then the items after it, then the rest
                        # of this data set.
                        items = iter(value)
                        for item in items:
                            elements = item._elements if item._sorted else item._ordered()
                            if item._nested:
                                break
                            extend(elements.values())
                        else:
                            continue
                        push(current)
                        for other in reversed(list(items)):
                            others = other._elements if other._sorted else other._ordered()
                            push(iter(others.values()))
                        push(iter(elements.values()))
                        break
            if not stack:
                return iter(found)
            current = stack.pop()

    def group(self, group: int) -> list[DataElement]:
        """The elements of one group, in tag order."""
        return [e for tag, e in self._ordered().items() if tag >> 16 == group]

    # -- private data (PS3.5 §7.8) ---------------------------------------------------------------

    def private_block(self, group: int, creator: str, *, create: bool = False) -> PrivateBlock:
        """The block of private elements that ``creator`` reserves in ``group``.

        With ``create=True`` a missing creator is reserved in the first free element
        (gggg,0010-00FF).  See :mod:`dicompile.runtime.core.private`.

        References
        ----------
        PS3.5 §7.8.1 (Private Data Element Tags).
        """
        return find_private_block(self, group, creator, create=create)

    # -- comparison, copies, text ---------------------------------------------------------------

    def copy(self) -> Dataset:
        """A deep copy of the tree (elements are immutable and shared; sequences are copied)."""
        copied: dict[int, DataElement] = {}
        for tag, element in self._ordered().items():
            if element.vr is VR.SQ and isinstance(element.value, Sequence):
                element = DataElement(tag, VR.SQ, element.value.copy())
            copied[tag] = element
        return Dataset._from_dict(
            copied, True, max(copied, default=-1), self.undefined_length, self._nested
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        mine = self._ordered()
        theirs = other._ordered()
        if mine.keys() != theirs.keys():
            return False
        return all(
            a.vr == theirs[tag].vr and values_equal(a.value, theirs[tag].value)
            for tag, a in mine.items()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(format_tag(tag) for tag in list(self._ordered())[:6])
        more = ", ..." if len(self._elements) > 6 else ""
        return f"Dataset(<{len(self._elements)} elements: {shown}{more}>)"


__all__ = ["Dataset", "Key"]
