"""Reader of the JSON rendition of the standard: the PS3.6 attributes (``attributes.json``).

The rendition (``../shared/standard-json/innolitics-<edition>/``) is a third-party scrape of the
standard's HTML.  ``attributes.json`` is an array of objects, one per row of PS3.6 Table 6-1
(and 7-1, 8-1)::

    {"tag": "(0010,0010)", "name": "Patient's Name", "keyword": "PatientName",
     "valueRepresentation": "PN", "valueMultiplicity": "1", "retired": "N", "id": "00100010"}

It carries no edition: the edition is the suffix of its folder's name (``innolitics-2020``).
This module reads the attributes only; the PS3.3 files of the rendition (modules, IODs) are
read elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    StandardModel,
    TagPattern,
)
from dicompile.generator.sources.docbook.common import normalise_text
from dicompile.generator.sources.docbook.part06 import KEYWORD_TEXT, VM_TEXT, VR_TEXT
from dicompile.runtime.errors import StandardSourceError

ATTRIBUTES_FILE = "attributes.json"
PART = "PS3.6"
_EDITION_SUFFIX = re.compile(r"(?:^|[-_])(\d{4}[a-z]?)$")
_FIELDS = ("tag", "name", "keyword", "valueRepresentation", "valueMultiplicity", "retired", "id")


def edition_of_folder(folder: Path) -> str:
    """The edition a rendition folder is named after (``innolitics-2020`` → ``"2020"``)."""
    match = _EDITION_SUFFIX.search(folder.name)
    if match is None:
        raise StandardSourceError(
            "the folder of a JSON rendition must end with its edition (e.g. 'innolitics-2020')",
            source_file=folder.name,
        )
    return match[1]


def read_attributes(path: Path, edition: str | None = None) -> StandardModel:
    """Read the data element registry from the rendition's ``attributes.json``.

    Parameters
    ----------
    path
        The ``attributes.json`` file.
    edition
        The edition of the rendition; by default read from the folder's name.

    Returns
    -------
    StandardModel
        ``data_elements`` in file order, each with provenance ``PS3.6 <edition>
        attributes.json`` and its index in the array as row.

    Raises
    ------
    StandardSourceError
        When the file is not a JSON array of attribute objects, or an entry's tag, keyword,
        VR, VM or retired flag does not follow the notation of PS3.6 §6 (naming file and index).

    References
    ----------
    PS3.6 §6-8, Tables 6-1, 7-1 and 8-1 (as rendered by the JSON source).
    """
    edition = edition or edition_of_folder(path.parent)
    source_file = f"{path.parent.name}/{path.name}"
    table_id = path.name
    data = path.read_bytes()
    try:
        entries = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StandardSourceError(f"not JSON: {exc}", source_file=source_file) from exc
    if not isinstance(entries, list):
        raise StandardSourceError("expected a JSON array of attributes", source_file=source_file)

    def fail(index: int, message: str) -> StandardSourceError:
        return StandardSourceError(message, source_file=source_file, table_id=table_id, row=index)

    elements: list[DataElementDef] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise fail(index, f"expected an object, found {type(entry).__name__}")
        missing = [f for f in _FIELDS if not isinstance(entry.get(f), str)]
        if missing:
            raise fail(index, f"missing or non-text fields {missing}")
        texts = {f: normalise_text(entry[f]) for f in _FIELDS}
        try:
            tag = TagPattern.parse(texts["tag"])
        except ValueError as exc:
            raise fail(index, str(exc)) from exc
        if texts["id"].lower() != tag.text.lower():
            raise fail(index, f"id {texts['id']!r} does not match tag {texts['tag']!r}")
        for field, pattern in (
            ("keyword", KEYWORD_TEXT),
            ("valueRepresentation", VR_TEXT),
            ("valueMultiplicity", VM_TEXT),
        ):
            if pattern.fullmatch(texts[field]) is None:
                raise fail(index, f"{field} {texts[field]!r} does not follow PS3.6 §6")
        if texts["retired"] not in ("Y", "N"):
            raise fail(index, f"retired must be 'Y' or 'N', found {texts['retired']!r}")
        elements.append(
            DataElementDef(
                tag=tag,
                name=texts["name"],
                keyword=texts["keyword"],
                vr=texts["valueRepresentation"],
                vm=texts["valueMultiplicity"],
                retired=texts["retired"] == "Y",
                provenance=Provenance(
                    part=PART,
                    edition=edition,
                    table_id=table_id,
                    source_file=source_file,
                    row=index,
                ),
            )
        )
    digest = SourceDigest(
        part=PART,
        edition=edition,
        source_file=source_file,
        sha256=hashlib.sha256(data).hexdigest(),
        table_ids=(table_id,),
    )
    return StandardModel(sources=(digest,), data_elements=tuple(elements))
