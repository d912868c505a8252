"""Sequences of items (PS3.5 §7.5): the value of an SQ element, a list of Datasets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from dicompile.runtime.core.dataset import Dataset


class Sequence:
    """An ordered list of item Datasets (PS3.5 §7.5.1).

    ``undefined_length`` records how the sequence was encoded when read (True: undefined
    length with a Sequence Delimitation Item, False: explicit length, None: made in memory),
    so that a writer asked to preserve the encoding can reproduce it (PS3.5 §7.5.2).
    Items record their own length form in :attr:`Dataset.undefined_length`.
    """

    __slots__ = ("_items", "undefined_length")

    def __init__(
        self, items: Iterable[Dataset] = (), *, undefined_length: bool | None = None
    ) -> None:
        from dicompile.runtime.core.dataset import Dataset

        self._items: list[Dataset] = list(items)
        for item in self._items:
            if not isinstance(item, Dataset):
                raise TypeError(f"a sequence item is a Dataset, not {type(item).__name__}")
        self.undefined_length = undefined_length

    @classmethod
    def _from_list(cls, items: list[Dataset], undefined_length: bool | None) -> Sequence:
        """A sequence over an already checked list (for readers; no copy)."""
        seq = cls.__new__(cls)
        seq._items = items
        seq.undefined_length = undefined_length
        return seq

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Dataset]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> Dataset: ...
    @overload
    def __getitem__(self, index: slice) -> list[Dataset]: ...
    def __getitem__(self, index: int | slice) -> Dataset | list[Dataset]:
        return self._items[index]

    def __setitem__(self, index: int, item: Dataset) -> None:
        self._check(item)
        self._items[index] = item

    def __delitem__(self, index: int) -> None:
        del self._items[index]

    def append(self, item: Dataset) -> None:
        self._check(item)
        self._items.append(item)

    def insert(self, index: int, item: Dataset) -> None:
        self._check(item)
        self._items.insert(index, item)

    def extend(self, items: Iterable[Dataset]) -> None:
        for item in items:
            self.append(item)

    @staticmethod
    def _check(item: object) -> None:
        from dicompile.runtime.core.dataset import Dataset

        if not isinstance(item, Dataset):
            raise TypeError(f"a sequence item is a Dataset, not {type(item).__name__}")

    def copy(self) -> Sequence:
        """A deep copy: new item Datasets (elements themselves are immutable and shared)."""
        return Sequence._from_list([item.copy() for item in self._items], self.undefined_length)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._items == other._items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Sequence(<{len(self._items)} items>)"
