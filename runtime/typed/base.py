"""Base classes of the generated typed classes and their conversion to and from Datasets.

Theory of operation
-------------------
* A generated class (module, macro, sequence item) subclasses :class:`TypedAttributes` and
  sets ``FIELDS``: one :class:`FieldSpec` per attribute, in the order of its PS3.3 table.
  ``from_dataset`` reads each attribute of the table's level from a Dataset, checks its value
  against the VR's Python type and the VM, and calls the class with the values as keyword
  arguments; ``to_dataset`` writes the present ones back.  Attributes of the data set that
  the table does not list are ignored: a module reads its own attributes from the whole
  data set of an instance.  A class that names an ``OTHERS`` field (the functional group
  items of an enhanced IOD, whose items may hold private or other macros' elements) keeps
  them instead, as a Dataset in that field, and writes them back after its own.
* A generated IOD subclasses :class:`TypedIOD` and sets ``MODULES`` (one :class:`ModuleSlot`
  per module of its PS3.3 Annex A table) and ``SOP_CLASS_UIDS``.  Its fields are module
  instances; ``to_dataset`` merges the modules' data sets (an attribute two modules share
  must agree), ``from_dataset`` reads every mandatory module and each conditional or
  user-option module whose own attributes occur in the data set.
* Values are checked, never guessed: a Type 1 attribute missing or empty, or a value of
  another type than its VR gives (bytes where a string belongs, several values where the VM
  is 1) raise :class:`~dicompile.runtime.errors.TypedDatasetError` naming the tag path.  Text
  read as ``str`` for PN, DA, TM or DT (an element written with another VR) becomes the
  value type.

References
----------
PS3.3 §5.4, §A.1.3; PS3.5 §6.2 (VRs), §6.4 (VM), §7.4 (types), §7.5 (sequences).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import ClassVar, Final, Self, cast

import attrs

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement, Encapsulated, values_equal
from dicompile.runtime.core.sequence import Sequence
from dicompile.runtime.core.tag import format_tag
from dicompile.runtime.core.values import DA, DT, TM, PersonName
from dicompile.runtime.core.vr import VR
from dicompile.runtime.errors import TypedDatasetError


class Empty(enum.Enum):
    """The value of a Type 2C attribute present with zero length (PS3.5 §7.4.4)."""

    EMPTY = "empty"


#: A Type 2C attribute whose condition holds but whose value is unknown.
EMPTY: Final = Empty.EMPTY

_TYPES: Final = ("1", "1C", "2", "2C", "3")
_TEXT: Final = frozenset(
    {VR.AE, VR.AS, VR.CS, VR.LO, VR.LT, VR.SH, VR.ST, VR.UC, VR.UI, VR.UR, VR.UT}
)
_INTEGER: Final = frozenset({VR.IS, VR.US, VR.UL, VR.SS, VR.SL, VR.SV, VR.UV, VR.AT})
_FLOAT: Final = frozenset({VR.DS, VR.FL, VR.FD})
_BYTES: Final = frozenset({VR.OB, VR.OD, VR.OF, VR.OL, VR.OV, VR.OW, VR.UN})
_SIGNED: Final = (VR.SS, VR.SL, VR.SV)
_VALUE_TYPES: Final[dict[VR, type[PersonName | DA | TM | DT]]] = {
    VR.PN: PersonName,
    VR.DA: DA,
    VR.TM: TM,
    VR.DT: DT,
}


def _python_types(vrs: tuple[VR, ...]) -> tuple[type, ...]:
    """The classes a scalar value of these VRs may have (bytes VRs excluded)."""
    found: list[type] = []
    for vr in vrs:
        if vr in _TEXT:
            found.append(str)
        elif vr in _INTEGER:
            found.append(int)
        elif vr in _FLOAT:
            found += [float, int]
        elif vr in _VALUE_TYPES:
            found.append(_VALUE_TYPES[vr])
    return tuple(dict.fromkeys(found))


@attrs.frozen
class FieldSpec:
    """How one field of a generated class maps to a data element.

    ``vrs`` are the VRs PS3.6 allows (``US or SS`` gives two); ``multiple`` is True when the
    VM allows more than one value (the field is then a tuple); ``type`` is the PS3.3 type
    (``"1"``, ``"1C"``, ``"2"``, ``"2C"``, ``"3"``); ``item`` the generated class of a
    sequence's items (``None``: items stay Datasets).  Made by :func:`field`.
    """

    name: str
    tag: int
    vrs: tuple[VR, ...]
    multiple: bool
    requirement: str
    item: type[TypedAttributes] | None = None
    scalar_types: tuple[type, ...] = ()
    allows_bytes: bool = False

    @property
    def is_sequence(self) -> bool:
        return VR.SQ in self.vrs


def field(
    name: str,
    tag: int,
    vr: str,
    multiple: bool,
    requirement: str,
    item: type[TypedAttributes] | None = None,
) -> FieldSpec:
    """A :class:`FieldSpec` from the generated table's row: ``vr`` as PS3.6 writes it.

    Raises :class:`ValueError` for an unknown VR or type (a generator bug).
    """
    if requirement not in _TYPES:
        raise ValueError(f"{name}: not an attribute type: {requirement!r}")
    vrs = tuple(VR(part.strip()) for part in vr.split(" or "))
    return FieldSpec(
        name,
        tag,
        vrs,
        multiple,
        requirement,
        item,
        _python_types(vrs),
        any(v in _BYTES for v in vrs),
    )


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == b"" or value == ()


def _scalar(spec: FieldSpec, value: object, where: str) -> object:
    if value is None:
        raise TypedDatasetError("an empty value among several", tag_path=where)
    if isinstance(value, spec.scalar_types) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for vr in spec.vrs:
            value_type = _VALUE_TYPES.get(vr)
            if value_type is not None:
                return value_type(value)
    wanted = " or ".join(t.__name__ for t in spec.scalar_types) or "bytes"
    raise TypedDatasetError(
        f"a {'/'.join(spec.vrs)} value is {wanted}, not {type(value).__name__} {value!r:.60}",
        tag_path=where,
    )


def _read_value(spec: FieldSpec, value: object, where: str) -> object:
    if isinstance(value, bytes | Encapsulated):
        if spec.allows_bytes:
            return value
        raise TypedDatasetError(
            f"bytes where a {'/'.join(spec.vrs)} value belongs (an element of VR UN?)",
            tag_path=where,
        )
    values = value if isinstance(value, tuple) else (value,)
    checked = tuple(_scalar(spec, v, where) for v in values)
    if spec.multiple:
        return checked
    if len(checked) != 1:
        raise TypedDatasetError(f"{len(checked)} values where the VM is 1", tag_path=where)
    return checked[0]


def _read_field(spec: FieldSpec, dataset: Dataset, path: str) -> object:
    where = f"{path}{format_tag(spec.tag)}"
    element = dataset.get(spec.tag)
    if element is None:
        if spec.requirement == "1":
            raise TypedDatasetError("a Type 1 attribute is missing", tag_path=where)
        return () if spec.is_sequence and spec.requirement == "2" else None
    value = element.value
    if spec.is_sequence:
        if value is None:
            value = Sequence()
        if not isinstance(value, Sequence):
            raise TypedDatasetError(
                f"a sequence was expected, found VR {element.vr.value}", tag_path=where
            )
        item = spec.item
        if item is None:
            return tuple(value)
        return tuple(item._read(one, f"{where}[{i}]/") for i, one in enumerate(value))
    if _is_empty(value):
        if spec.requirement == "1":
            raise TypedDatasetError("a Type 1 attribute is empty", tag_path=where)
        return EMPTY if spec.requirement == "2C" else None
    return _read_value(spec, value, where)


def _choose_vr(spec: FieldSpec, value: object, signed: bool) -> VR:
    """The VR to write ``value`` with when PS3.6 allows several (``US or SS``, ``OB or OW``).

    ``signed`` is True when Pixel Representation (0028,0103) is 1: the ``US or SS`` values
    that describe pixels are then SS (PS3.3 C.7.6.3.1.4), as are negative numbers anyway.
    """
    vrs = spec.vrs
    if len(vrs) == 1:
        return vrs[0]
    if isinstance(value, bytes | Encapsulated):
        if isinstance(value, Encapsulated) and VR.OB in vrs:
            return VR.OB  # encapsulated pixel data is OB (PS3.5 §A.4)
        for preferred in (VR.OW, VR.OB):  # native pixel data may always be OW (PS3.5 §8.2)
            if preferred in vrs:
                return preferred
        return next(v for v in vrs if v in _BYTES)
    numbers = value if isinstance(value, tuple) else (value,)
    negative = any(isinstance(n, int) and n < 0 for n in numbers)
    scalar = [v for v in vrs if v not in _BYTES]
    if negative or signed:
        for vr in scalar:
            if vr in _SIGNED:
                return vr
    return scalar[0] if scalar else vrs[0]


def _write_field(spec: FieldSpec, value: object, dataset: Dataset, signed: bool) -> None:
    if spec.is_sequence:
        if value is None:
            if spec.requirement == "2":
                dataset.add(DataElement(spec.tag, VR.SQ, Sequence()))
            return
        if not isinstance(value, tuple | list):
            raise TypedDatasetError(
                f"{spec.name}: a sequence is a tuple of items, not {type(value).__name__}",
                tag_path=format_tag(spec.tag),
            )
        items = [
            one if isinstance(one, Dataset) else _item_dataset(spec, one, signed) for one in value
        ]
        dataset.add(DataElement(spec.tag, VR.SQ, Sequence(items)))
        return
    if value is None or value is EMPTY:
        if value is EMPTY or spec.requirement == "2":
            dataset.add(DataElement(spec.tag, spec.vrs[0], None))
        return
    dataset.add(DataElement(spec.tag, _choose_vr(spec, value, signed), value))


def _item_dataset(spec: FieldSpec, item: object, signed: bool) -> Dataset:
    if not isinstance(item, TypedAttributes):
        raise TypedDatasetError(
            f"{spec.name}: an item is a Dataset or a generated item class, not"
            f" {type(item).__name__}",
            tag_path=format_tag(spec.tag),
        )
    return item.to_dataset(signed=signed)


_PIXEL_REPRESENTATION: Final = 0x00280103


def _pixel_representation(attributes: TypedAttributes) -> object:
    for spec in attributes.FIELDS:
        if spec.tag == _PIXEL_REPRESENTATION:
            return getattr(attributes, spec.name)
    return None


class TypedAttributes:
    """Base of the generated module, macro and sequence item classes.

    Subclasses are frozen attrs classes whose ``FIELDS`` list their attributes.
    """

    __slots__ = ()

    #: One row per field, in the order of the PS3.3 table (set by the generated code).
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ()
    #: The field (``Dataset | None``) that keeps the elements of a read item that ``FIELDS``
    #: does not list; ``""``: they are ignored.
    OTHERS: ClassVar[str] = ""

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Self:
        """The attributes of this table read from ``dataset`` (others are ignored).

        Raises
        ------
        TypedDatasetError
            A Type 1 attribute is missing or empty, or a value is not of its VR's type.

        References
        ----------
        PS3.3 §5.4; PS3.5 §7.4.
        """
        return cls._read(dataset, "")

    @classmethod
    def _read(cls, dataset: Dataset, path: str) -> Self:
        values = {spec.name: _read_field(spec, dataset, path) for spec in cls.FIELDS}
        if cls.OTHERS:
            listed = {spec.tag for spec in cls.FIELDS}
            others = Dataset([e for e in dataset if e.tag not in listed])
            values[cls.OTHERS] = others if len(others) else None
        return cast(Callable[..., Self], cls)(**values)

    def to_dataset(self, *, signed: bool | None = None) -> Dataset:
        """A new Dataset with the present attributes (Type 2 ``None`` as zero-length).

        ``signed`` says whether pixel values are signed, which picks SS over US for the
        attributes PS3.6 gives as ``US or SS``; by default it is read from this class's own
        Pixel Representation (0028,0103) field when it has one.
        """
        dataset = Dataset()
        self.write_into(dataset, signed=signed)
        return dataset

    def write_into(self, dataset: Dataset, *, signed: bool | None = None) -> None:
        """Add this table's attributes to ``dataset`` (replacing elements with the same tag)."""
        if signed is None:
            signed = _pixel_representation(self) == 1
        for spec in self.FIELDS:
            _write_field(spec, getattr(self, spec.name), dataset, signed)
        if self.OTHERS:
            self._write_others(dataset)

    def _write_others(self, dataset: Dataset) -> None:
        others = getattr(self, self.OTHERS)
        if others is None:
            return
        if not isinstance(others, Dataset):
            raise TypedDatasetError(
                f"{self.OTHERS}: other elements are a Dataset, not {type(others).__name__}"
            )
        listed = {spec.tag for spec in self.FIELDS}
        for element in others:
            if element.tag in listed:
                raise TypedDatasetError(
                    f"{type(self).__name__} has a field for this attribute: set it there,"
                    f" not in {self.OTHERS}",
                    tag_path=format_tag(element.tag),
                )
            dataset.add(element)


@attrs.frozen
class ModuleSlot:
    """One module of an IOD: its field, class, IE, usage (M/C/U) and condition (PS3.3 A.1.3)."""

    name: str
    module: type[TypedAttributes]
    ie: str
    usage: str
    condition: str = ""


def _own_tags(slots: tuple[ModuleSlot, ...]) -> dict[str, frozenset[int]]:
    """Per optional module, the top-level tags that no mandatory module of the IOD lists."""
    mandatory = frozenset(
        spec.tag for slot in slots if slot.usage == "M" for spec in slot.module.FIELDS
    )
    own: dict[str, frozenset[int]] = {}
    for slot in slots:
        if slot.usage != "M":
            tags = frozenset(spec.tag for spec in slot.module.FIELDS)
            own[slot.name] = (tags - mandatory) or tags
    return own


class TypedIOD:
    """Base of the generated IOD classes: fields are module instances (PS3.3 Annex A)."""

    __slots__ = ()

    #: The modules of the IOD's table, in its order (set by the generated code).
    MODULES: ClassVar[tuple[ModuleSlot, ...]] = ()
    #: The SOP classes whose instances this IOD describes (PS3.4 B.5).
    SOP_CLASS_UIDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Self:
        """The IOD's modules read from ``dataset``.

        Every mandatory module is read; a conditional or user-option module is read when
        one of its attributes that no mandatory module lists is present.

        Raises
        ------
        TypedDatasetError
            The SOP Class UID (0008,0016) names a SOP class of another IOD, or a module
            read cannot be built (see :meth:`TypedAttributes.from_dataset`).

        References
        ----------
        PS3.3 §A.1.3 (module usage); PS3.4 B.5 (Storage SOP classes).
        """
        sop_class = dataset.get_value(0x00080016)
        if (
            cls.SOP_CLASS_UIDS
            and isinstance(sop_class, str)
            and sop_class
            and sop_class not in cls.SOP_CLASS_UIDS
        ):
            raise TypedDatasetError(
                f"SOP Class UID {sop_class} is not one of {cls.__name__}'s"
                f" {', '.join(cls.SOP_CLASS_UIDS)}",
                tag_path="(0008,0016)",
            )
        own = _own_tags(cls.MODULES)
        modules: dict[str, object] = {}
        for slot in cls.MODULES:
            present = slot.usage == "M" or any(tag in dataset for tag in own[slot.name])
            modules[slot.name] = slot.module.from_dataset(dataset) if present else None
        return cast(Callable[..., Self], cls)(**modules)

    def to_dataset(self) -> Dataset:
        """One Dataset with the attributes of every present module.

        Pixel values are signed for every module when a module's Pixel Representation
        (0028,0103) is 1 (``US or SS`` attributes are then written as SS).

        Raises
        ------
        TypedDatasetError
            Two modules give one attribute different non-empty values.
        """
        modules = [
            (slot.name, module)
            for slot in self.MODULES
            if isinstance(module := getattr(self, slot.name), TypedAttributes)
        ]
        signed = any(_pixel_representation(module) == 1 for _, module in modules)
        merged = Dataset()
        for name, module in modules:
            for element in module.to_dataset(signed=signed):
                _merge(merged, element, name)
        return merged

    @classmethod
    def module_slot(cls, name: str) -> ModuleSlot:
        """The slot of the module field ``name``; :class:`KeyError` when there is none."""
        for slot in cls.MODULES:
            if slot.name == name:
                return slot
        raise KeyError(f"{cls.__name__} has no module {name!r}")


def _merge(merged: Dataset, element: DataElement, module: str) -> None:
    existing = merged.get(element.tag)
    if existing is None or _is_empty_element(existing):
        merged.add(element)
        return
    if _is_empty_element(element) or (
        existing.vr == element.vr and values_equal(existing.value, element.value)
    ):
        return
    if element.vr is VR.SQ and existing == element:
        return
    raise TypedDatasetError(
        f"module {module} gives {element!r}, another module gave {existing!r}",
        tag_path=format_tag(element.tag),
    )


def _is_empty_element(element: DataElement) -> bool:
    value = element.value
    return _is_empty(value) or (isinstance(value, Sequence) and not value)


__all__ = [
    "EMPTY",
    "Empty",
    "FieldSpec",
    "ModuleSlot",
    "TypedAttributes",
    "TypedIOD",
    "field",
]
