"""Private data element blocks (PS3.5 §7.8.1).

A Private Creator element (gggg,00xx), xx in 10-FF, of an odd group gggg holds an LO
identifying an implementer and *reserves* the block of elements (gggg,xx00-xxFF).  Code
addresses private elements by (group, creator, offset ee) and lets the block map the offset
to the tag (gggg,xxee) actually used in this dataset, because the same creator may sit in a
different block in another dataset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.vr import VR

if TYPE_CHECKING:
    from dicompile.runtime.core.dataset import Dataset

_FIRST_BLOCK = 0x10
_LAST_BLOCK = 0xFF


class PrivateBlock:
    """The elements (gggg,xx00-xxFF) reserved by one Private Creator (PS3.5 §7.8.1)."""

    __slots__ = ("block", "creator", "dataset", "group")

    def __init__(self, dataset: Dataset, group: int, creator: str, block: int) -> None:
        self.dataset = dataset
        self.group = group
        self.creator = creator
        #: The xx of the reserving element (gggg,00xx).
        self.block = block

    @property
    def creator_tag(self) -> int:
        return (self.group << 16) | self.block

    def tag(self, offset: int) -> int:
        """The tag (gggg,xxee) of element offset ``ee`` (0x00-0xFF) in this block."""
        if not 0 <= offset <= 0xFF:
            raise ValueError(f"a private element offset is 0x00-0xFF, not {offset:#x}")
        return (self.group << 16) | (self.block << 8) | offset

    def __getitem__(self, offset: int) -> DataElement:
        return self.dataset[self.tag(offset)]

    def get(self, offset: int) -> DataElement | None:
        return self.dataset.get(self.tag(offset))

    def set(self, offset: int, vr: VR | str, value: object) -> DataElement:
        """Store a private element; its VR must be given (no dictionary knows it)."""
        element = DataElement(self.tag(offset), VR(vr), value)
        self.dataset.add(element)
        return element

    def __contains__(self, offset: int) -> bool:
        return self.tag(offset) in self.dataset

    def __delitem__(self, offset: int) -> None:
        del self.dataset[self.tag(offset)]

    def __iter__(self) -> Iterator[DataElement]:
        low = self.tag(0)
        return iter([e for e in self.dataset if low <= e.tag <= low + 0xFF])

    def __repr__(self) -> str:
        return (
            f"PrivateBlock({self.creator!r} at {format_tag(self.creator_tag)}, "
            f"elements {format_tag(self.tag(0))}-{format_tag(self.tag(0xFF))})"
        )


def _creator_text(element: DataElement) -> str | None:
    value = element.value
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bytes):  # a creator read as UN
        return value.rstrip(b"\x00 ").decode("latin-1").strip()
    return None


def find_private_block(
    dataset: Dataset, group: int, creator: str, *, create: bool = False
) -> PrivateBlock:
    """The block reserved by ``creator`` in ``group`` (reserving one if ``create``).

    Raises
    ------
    ValueError
        ``group`` is not a private group (odd, above 0008, not FFFF), or no block is free.
    KeyError
        The creator has no block and ``create`` is False.

    References
    ----------
    PS3.5 §7.8.1.
    """
    if not (group & 1 and 0x0008 < group < 0xFFFF):
        raise ValueError(f"group {group:04X} is not a private group (PS3.5 §7.8.1)")
    wanted = creator.strip()
    if not wanted:
        raise ValueError("a private creator is a non-empty LO value")
    free: int | None = None
    for block in range(_FIRST_BLOCK, _LAST_BLOCK + 1):
        element = dataset.get((group << 16) | block)
        if element is None:
            if free is None:
                free = block
            continue
        if _creator_text(element) == wanted:
            return PrivateBlock(dataset, group, wanted, block)
    if not create:
        raise KeyError(f"private creator {creator!r} has no block in group {group:04X}")
    if free is None:
        raise ValueError(f"group {group:04X} has no free private block left")
    dataset.add(DataElement((group << 16) | free, VR.LO, wanted))
    return PrivateBlock(dataset, group, wanted, free)
