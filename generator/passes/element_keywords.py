"""Pass: make sure no two data elements share a keyword (PS3.6 §6).

A keyword names one data element; ``tag_for_keyword`` and the tag constants depend on it.  Should
a source give two elements the same keyword, the first by tag keeps it, the other's keyword is
emptied, and a ``KEYWORD_CLASH`` conflict reports it.
"""

from __future__ import annotations

import attrs

from dicompile.generator.model import Conflict, ConflictKind, DataElementDef, StandardModel


def check_element_keywords(model: StandardModel) -> StandardModel:
    """Return ``model`` with unique data element keywords, every clash reported.

    References
    ----------
    PS3.6 §6 (keywords).
    """
    holders: dict[str, DataElementDef] = {}
    elements: list[DataElementDef] = []
    conflicts: list[Conflict] = []
    for element in sorted(model.data_elements, key=lambda e: e.tag.sort_key):
        holder = holders.get(element.keyword) if element.keyword else None
        if holder is not None:
            conflicts.append(
                Conflict(
                    kind=ConflictKind.KEYWORD_CLASH,
                    item=element.tag.text,
                    field="keyword",
                    kept_value="",
                    other_value=element.keyword,
                    kept=element.provenance,
                    other=holder.provenance,
                )
            )
            element = attrs.evolve(element, keyword="")
        elif element.keyword:
            holders[element.keyword] = element
        elements.append(element)
    return attrs.evolve(
        model, data_elements=tuple(elements), conflicts=(*model.conflicts, *conflicts)
    )
