"""Sequences of items (PS3.5 §7.5): the value of an SQ element, a list of Datasets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, SupportsIndex, overload

if TYPE_CHECKING:
    from dicompile.runtime.core.dataset import Dataset


class Sequence(list["Dataset"]):
    """An ordered list of item Datasets (PS3.5 §7.5.1).

    A ``list`` subclass (one object per sequence instead of two: header-heavy files hold
    tens of thousands of sequences) whose mutators accept only Datasets.

    ``undefined_length`` records how the sequence was encoded when read (True: undefined
    length with a Sequence Delimitation Item, False: explicit length, None: made in memory),
    so that a writer asked to preserve the encoding can reproduce it (PS3.5 §7.5.2).
    Items record their own length form in :attr:`Dataset.undefined_length`.
    """

    __slots__ = ("undefined_length",)

    def __init__(
        self, items: Iterable[Dataset] = (), *, undefined_length: bool | None = None
    ) -> None:
        super().__init__(items)
        for item in self:
            _check(item)
        self.undefined_length = undefined_length

    @classmethod
    def _from_list(cls, items: list[Dataset], undefined_length: bool | None) -> Sequence:
        """A sequence of already checked items (for readers)."""
        seq = cls.__new__(cls)
        list.extend(seq, items)
        seq.undefined_length = undefined_length
        return seq

    @overload
    def __setitem__(self, index: SupportsIndex, item: Dataset, /) -> None: ...
    @overload
    def __setitem__(self, index: slice, item: Iterable[Dataset], /) -> None: ...
    def __setitem__(self, index: SupportsIndex | slice, item: object, /) -> None:
        if isinstance(index, slice):
            if not isinstance(item, Iterable):
                raise TypeError("can only assign an iterable of Datasets to a slice")
            items = list(item)
            for one in items:
                _check(one)
            super().__setitem__(index, items)
        else:
            super().__setitem__(index, _check(item))

    def append(self, item: Dataset) -> None:
        _check(item)
        super().append(item)

    def insert(self, index: SupportsIndex, item: Dataset) -> None:
        _check(item)
        super().insert(index, item)

    def extend(self, items: Iterable[Dataset]) -> None:
        checked = list(items)
        for item in checked:
            _check(item)
        super().extend(checked)

    def __iadd__(self, items: Iterable[Dataset]) -> Sequence:  # type: ignore[override,misc]
        self.extend(items)
        return self

    def copy(self) -> Sequence:
        """A deep copy: new item Datasets (elements themselves are immutable and shared)."""
        return Sequence._from_list([item.copy() for item in self], self.undefined_length)

    def __repr__(self) -> str:
        return f"Sequence(<{len(self)} items>)"


def _check(item: object) -> Dataset:
    from dicompile.runtime.core.dataset import Dataset

    if not isinstance(item, Dataset):
        raise TypeError(f"a sequence item is a Dataset, not {type(item).__name__}")
    return item
