"""Pass: give every context group UID a keyword derived from its name (PS3.6 Table A-3).

The rules are those of UID keywords (``uid_keywords.keyword_from_name``) without dropping class
words: "Anatomic Region" → ``AnatomicRegion``.  Keywords are unique among context groups; a
clash is resolved and reported as for UIDs.
"""

from __future__ import annotations

import attrs

from dicompile.generator.model import Conflict, ConflictKind, StandardModel
from dicompile.generator.passes.uid_keywords import keyword_from_name, unique_keywords


def name_context_group_keywords(model: StandardModel) -> StandardModel:
    """Return ``model`` with a unique keyword for every named context group.

    References
    ----------
    PS3.6 Annex A, Table A-3.
    """
    by_uid = {g.uid: g for g in model.context_groups}
    wanted = [
        (g.uid, g.keyword or keyword_from_name(g.name, drop_class_words=False), False)
        for g in model.context_groups
    ]
    given, clashes = unique_keywords(wanted)
    holders = {keyword: uid for uid, keyword in given.items()}
    conflicts = [
        Conflict(
            kind=ConflictKind.KEYWORD_CLASH,
            item=uid,
            field="keyword",
            kept_value=keyword,
            other_value=wanted_keyword,
            kept=by_uid[uid].provenance,
            other=by_uid[holders[wanted_keyword]].provenance,
        )
        for uid, wanted_keyword, keyword in clashes
    ]
    return attrs.evolve(
        model,
        context_groups=tuple(attrs.evolve(g, keyword=given[g.uid]) for g in model.context_groups),
        conflicts=(*model.conflicts, *conflicts),
    )
