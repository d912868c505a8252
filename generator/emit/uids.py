"""Emitter of ``generated/uids.py`` (Table A-1, A-2, transfer syntaxes) and ``context_groups.py``.

Every UID with a keyword becomes a constant ``Keyword: Final = "1.2..."`` in UID order; the
registry ``UIDS`` and ``TRANSFER_SYNTAXES`` refer to those constants.  Context group UIDs
(Table A-3, close to a thousand) live in their own module, loaded on demand.
"""

from __future__ import annotations

import keyword as python_keyword

from dicompile.generator.emit import pyfmt
from dicompile.generator.emit.dictionary import citation
from dicompile.generator.emit.render import (
    GeneratedFile,
    citation_constants,
    header,
    render,
    sources_used,
)
from dicompile.generator.model import StandardModel, UIDDef, uid_sort_key

UIDS_FILE = "uids.py"
CONTEXT_GROUPS_FILE = "context_groups.py"
# Names the uids module defines itself: a UID keyword must not shadow them.
_RESERVED = frozenset(
    {"UIDEntry", "TransferSyntax", "UIDS", "TRANSFER_SYNTAXES", "uid_entry", "Final", "Mapping"}
    | {"NamedTuple", "annotations"}
)


class EmitError(ValueError):
    """The model cannot be rendered as valid Python (a bug of a pass, not of the standard)."""


def _check_keywords(uids: list[UIDDef]) -> None:
    seen: set[str] = set()
    for uid in uids:
        name = uid.keyword
        if not name.isidentifier() or python_keyword.iskeyword(name) or name in _RESERVED:
            raise EmitError(f"UID {uid.uid}: keyword {name!r} cannot be a constant")
        if name in seen:
            raise EmitError(f"UID {uid.uid}: keyword {name!r} is not unique")
        seen.add(name)


def emit_uids(model: StandardModel) -> list[GeneratedFile]:
    """Render ``uids.py``: UID constants, the registry and the transfer syntaxes.

    References
    ----------
    PS3.6 Annex A, Tables A-1 and A-2; PS3.5 §10 and Annex A (transfer syntaxes).
    """
    uids = sorted((u for u in model.uids if u.keyword), key=lambda u: u.sort_key)
    unnamed = [u.uid for u in model.uids if not u.keyword]
    if unnamed:
        raise EmitError(f"UIDs without a keyword (run the uid_keywords pass): {unnamed}")
    _check_keywords(uids)
    names = dict(citation_constants(citation(u.provenance) for u in uids))
    by_uid = {u.uid: u for u in uids}
    constant_lines = [
        line for u in uids for line in pyfmt.assign_line(f"{u.keyword}: Final", u.uid)
    ]
    entry_lines = [
        f"{pyfmt.INDENT}{u.keyword}: "
        + pyfmt.call_line(
            "UIDEntry",
            [
                pyfmt.Code(u.keyword),
                u.name,
                u.keyword,
                u.uid_type,
                u.retired,
                pyfmt.Code(names[citation(u.provenance)]),
            ],
        )
        + ","
        for u in uids
    ]
    ts_lines: list[str] = []
    for ts in sorted(model.transfer_syntaxes, key=lambda t: uid_sort_key(t.uid)):
        u = by_uid[ts.uid]
        ts_lines += pyfmt.call_lines(
            f"{u.keyword}: ",
            "TransferSyntax",
            [
                pyfmt.Code(u.keyword),
                u.name,
                u.keyword,
                pyfmt.Code(f"implicit_vr={ts.implicit_vr}"),
                pyfmt.Code(f"little_endian={ts.little_endian}"),
                pyfmt.Code(f"deflated={ts.deflated}"),
                pyfmt.Code(f"encapsulated={ts.encapsulated}"),
                pyfmt.Code(f"retired={u.retired}"),
            ],
            indent=pyfmt.INDENT,
            suffix=",",
        )
    return [
        render(
            "uids.py.j2",
            UIDS_FILE,
            header=header(sources_used(model.sources, (u.provenance for u in uids))),
            constant_lines=constant_lines,
            citations=names,
            entry_lines=entry_lines,
            transfer_syntax_lines=ts_lines,
        )
    ]


def emit_context_groups(model: StandardModel) -> list[GeneratedFile]:
    """Render ``context_groups.py`` from Table A-3.

    References
    ----------
    PS3.6 Annex A, Table A-3.
    """
    groups = sorted(model.context_groups, key=lambda g: uid_sort_key(g.uid))
    names = dict(citation_constants(citation(g.provenance) for g in groups))
    entry_lines = [
        pyfmt.INDENT
        + pyfmt.call_line(
            "ContextGroup",
            [g.uid, g.cid, g.name, g.keyword, pyfmt.Code(names[citation(g.provenance)])],
        )
        + ","
        for g in groups
    ]
    return [
        render(
            "context_groups.py.j2",
            CONTEXT_GROUPS_FILE,
            header=header(sources_used(model.sources, (g.provenance for g in groups))),
            citations=names,
            entry_lines=entry_lines,
        )
    ]
