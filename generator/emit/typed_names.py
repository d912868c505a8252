"""Python names for the typed classes: fields, classes and files (``generated/modules``, ``iods``).

* Field names are PS3.6 keywords in snake_case (``SOPClassUID`` → ``sop_class_uid``).
* Classes are the PS3.3 names in PascalCase with the kind as suffix (``CTImageModule``,
  ``CodeSequenceMacro``); an IOD class is its name alone (``CTImage``).  A name starting with a
  digit (``12-Lead ECG``, ``3D Spatial Coordinates``) takes the kind as prefix instead.
* Item classes are the sequence's keyword with ``Item`` (``ReferencedImageSequenceItem``).
* Files and module fields of IODs are the name's words in snake_case (``ct_image``).
"""

from __future__ import annotations

import keyword as python_keyword
import re

_WORDS = re.compile(r"[A-Za-z0-9]+")
_ACRONYM_END = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_PLURAL_ACRONYM = re.compile(r"([A-Z])([A-Z]+)s(?=[A-Z0-9]|$)")

#: Names the generated classes inherit: a field must not shadow them.
RESERVED = frozenset(
    {"FIELDS", "MODULES", "SOP_CLASS_UIDS", "from_dataset", "to_dataset", "write_into"}
    | {"module_slot", "_read"}
)


def snake(keyword: str) -> str:
    """``PatientName`` → ``patient_name``; ``SOPClassUID`` → ``sop_class_uid``.

    A plural acronym is one word: ``OtherPatientIDsSequence`` → ``other_patient_ids_sequence``.

    A result that is a Python keyword or a name of the base classes gets a trailing ``_``.
    """
    # "IDs", "UIDs", "ROIs" are one word: "OtherPatientIDsSequence" → other_patient_ids_sequence
    word = _PLURAL_ACRONYM.sub(lambda m: m[1] + m[2].lower() + "s", keyword)
    name = _LOWER_UPPER.sub(r"\1_\2", _ACRONYM_END.sub(r"\1_\2", word)).lower()
    if python_keyword.iskeyword(name) or name in RESERVED:
        name += "_"
    return name


def _words(name: str) -> list[str]:
    return _WORDS.findall(name.replace("'", "").replace("\u2019", ""))


def pascal(name: str, kind: str) -> str:
    """``"CT Image"``, ``"Module"`` → ``CTImageModule``; a leading digit puts ``kind`` first.

    ``kind`` is ``"Module"``, ``"Macro"`` or ``"IOD"`` (the IOD suffix is dropped:
    ``CTImage``).
    """
    words = _words(name)
    if not words:
        raise ValueError(f"no class name in {name!r}")
    body = "".join(word[0].upper() + word[1:] for word in words)
    if body[0].isdigit():
        return kind + body
    return body if kind == "IOD" else body + kind


def file_stem(name: str, kind: str = "") -> str:
    """``"CT Image"`` → ``ct_image``; a leading digit puts ``kind`` first (``iod_12_lead_ecg``)."""
    stem = "_".join(word.lower() for word in _words(name))
    if not stem:
        raise ValueError(f"no file name in {name!r}")
    if stem[0].isdigit():
        stem = f"{kind.lower()}_{stem}" if kind else f"x_{stem}"
    if python_keyword.iskeyword(stem):
        stem += "_"
    return stem


def item_class(keyword: str) -> str:
    """The class of a sequence's items: ``ReferencedImageSequence`` → ``…SequenceItem``."""
    return f"{keyword}Item"


_NATURAL = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Order of table ids with numbers compared as numbers (``table_10-2`` < ``table_10-11``)."""
    return tuple(
        (int(part), "") if part.isdigit() else (-1, part) for part in _NATURAL.split(text) if part
    )


def table_label(key: str) -> str:
    """``table_C.7-1`` → ``Table C.7-1``."""
    return "Table " + key.removeprefix("table_") if key.startswith("table_") else key
