"""Sequences of items (PS3.5 §7.5): the value of an SQ element, a list of Datasets.

Edit tracking
-------------
A reader may keep, with a sequence it read, the exact bytes that sequence had in the
stream (:attr:`Sequence.encoded`), so that writing it back in the same encoding is a copy
instead of a re-encoding.  That is only safe while nothing in the sequence's subtree has
changed.  Every Sequence and Dataset a reader makes under one top-level sequence shares
one :class:`EditToken`; every mutating method of either marks the token edited, and a
writer uses the kept bytes only while the token is unedited.  Objects made in memory have
no token (and no kept bytes).  The token is deliberately coarse: any change anywhere in
the subtree -- items added, removed or reordered, elements set or deleted, length forms
changed -- discards the kept bytes of the whole top-level sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, SupportsIndex, overload

if TYPE_CHECKING:
    from dicompile.runtime.core.dataset import Dataset


class EditToken:
    """Shared by the objects of one read subtree; ``edited`` once any of them changes."""

    __slots__ = ("edited",)

    def __init__(self) -> None:
        self.edited = False


class Sequence(list["Dataset"]):
    """An ordered list of item Datasets (PS3.5 §7.5.1).

    A ``list`` subclass (one object per sequence instead of two: header-heavy files hold
    tens of thousands of sequences) whose mutators accept only Datasets.

    ``undefined_length`` records how the sequence was encoded when read (True: undefined
    length with a Sequence Delimitation Item, False: explicit length, None: made in memory),
    so that a writer asked to preserve the encoding can reproduce it (PS3.5 §7.5.2).
    Items record their own length form in :attr:`Dataset.undefined_length`.
    """

    __slots__ = ("_encoded", "_token", "_undefined")

    _token: EditToken | None
    #: (value bytes as read, the context they were read in), or None.
    _encoded: tuple[bytes, object] | None

    def __init__(
        self, items: Iterable[Dataset] = (), *, undefined_length: bool | None = None
    ) -> None:
        super().__init__(items)
        for item in self:
            _check(item)
        self._undefined = undefined_length
        self._token = None
        self._encoded = None

    @classmethod
    def _from_list(cls, items: list[Dataset], undefined_length: bool | None) -> Sequence:
        """A sequence of already checked items (for readers)."""
        seq = cls.__new__(cls)
        list.extend(seq, items)
        seq._undefined = undefined_length
        seq._token = None
        seq._encoded = None
        return seq

    # -- edit tracking --------------------------------------------------------------------------

    def _edited(self) -> None:
        token = self._token
        if token is not None:
            token.edited = True

    @property
    def encoded(self) -> tuple[bytes, object] | None:
        """The value bytes this sequence had when read and the codec context they were read
        in, while nothing in it has changed since; None otherwise."""
        token = self._token
        if self._encoded is None or token is None or token.edited:
            return None
        return self._encoded

    @property
    def undefined_length(self) -> bool | None:
        return self._undefined

    @undefined_length.setter
    def undefined_length(self, value: bool | None) -> None:
        self._edited()
        self._undefined = value

    # -- mutators -----------------------------------------------------------------------------

    @overload
    def __setitem__(self, index: SupportsIndex, item: Dataset, /) -> None: ...
    @overload
    def __setitem__(self, index: slice, item: Iterable[Dataset], /) -> None: ...
    def __setitem__(self, index: SupportsIndex | slice, item: object, /) -> None:
        self._edited()
        if isinstance(index, slice):
            if not isinstance(item, Iterable):
                raise TypeError("can only assign an iterable of Datasets to a slice")
            items = list(item)
            for one in items:
                _check(one)
            super().__setitem__(index, items)
        else:
            super().__setitem__(index, _check(item))

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        self._edited()
        super().__delitem__(index)

    def append(self, item: Dataset) -> None:
        _check(item)
        self._edited()
        super().append(item)

    def insert(self, index: SupportsIndex, item: Dataset) -> None:
        _check(item)
        self._edited()
        super().insert(index, item)

    def extend(self, items: Iterable[Dataset]) -> None:
        checked = list(items)
        for item in checked:
            _check(item)
        self._edited()
        super().extend(checked)

    def __iadd__(self, items: Iterable[Dataset]) -> Sequence:  # type: ignore[override,misc]
        self.extend(items)
        return self

    def __imul__(self, count: SupportsIndex) -> Sequence:
        self._edited()
        super().__imul__(count)
        return self

    def pop(self, index: SupportsIndex = -1) -> Dataset:
        self._edited()
        return super().pop(index)

    def remove(self, item: Dataset) -> None:
        self._edited()
        super().remove(item)

    def clear(self) -> None:
        self._edited()
        super().clear()

    def reverse(self) -> None:
        self._edited()
        super().reverse()

    def sort(
        self, *, key: Callable[[Dataset], object] | None = None, reverse: bool = False
    ) -> None:
        self._edited()
        super().sort(key=key, reverse=reverse)  # type: ignore[arg-type]

    def copy(self) -> Sequence:
        """A deep copy: new item Datasets (elements themselves are immutable and shared)."""
        return Sequence._from_list([item.copy() for item in self], self._undefined)

    def __repr__(self) -> str:
        return f"Sequence(<{len(self)} items>)"


def _check(item: object) -> Dataset:
    from dicompile.runtime.core.dataset import Dataset

    if not isinstance(item, Dataset):
        raise TypeError(f"a sequence item is a Dataset, not {type(item).__name__}")
    return item
