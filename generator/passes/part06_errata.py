"""Pass: correct the known errors of PS3.6's UID registry, each reported as an ``ERRATUM``.

Every correction names the edition and table it applies to and the value it expects there, so
it does nothing once a newer edition (which wins the merge) has fixed the text;
``tests/generator/test_part06_errata.py`` fails when an edition in ``../shared`` no longer has
the error, so that the entry can be removed.
"""

from __future__ import annotations

import attrs

from dicompile.generator.model import Conflict, ConflictKind, StandardModel, UIDDef


@attrs.frozen
class UIDErratum:
    """A wrong value of one field of one Table A-1 row, and the right one."""

    edition: str
    table_id: str
    uid: str  # the UID as the erroneous text writes it
    field: str  # "uid" or "uid_type"
    wrong: str
    right: str
    why: str


ERRATA: tuple[UIDErratum, ...] = (
    # ERRATUM: PS3.6 2013 Table A-1 writes Corneal Topography Map Storage with a stray leading
    # "1"; PS3.4 2013 Table B.5-1 and later editions of PS3.6 give 1.2.840.10008.5.1.4.1.1.82.1.
    UIDErratum(
        "2013",
        "table_A-1",
        "11.2.840.10008.5.1.4.1.1.82.1",
        "uid",
        "11.2.840.10008.5.1.4.1.1.82.1",
        "1.2.840.10008.5.1.4.1.1.82.1",
        "stray leading '1' (PS3.4 Table B.5-1 has 1.2.840.10008.5.1.4.1.1.82.1)",
    ),
    # ERRATUM: PS3.6 2013 Table A-1 gives the Color Palette SOP classes the UID types
    # "Transfer" and "Query/Retrieve", which are no UID types; later editions say "SOP Class".
    UIDErratum(
        "2013",
        "table_A-1",
        "1.2.840.10008.5.1.4.39.1",
        "uid_type",
        "Transfer",
        "SOP Class",
        "Color Palette Storage is a SOP Class (PS3.4 Table B.5-1)",
    ),
    *(
        UIDErratum(
            "2013",
            "table_A-1",
            f"1.2.840.10008.5.1.4.39.{n}",
            "uid_type",
            "Query/Retrieve",
            "SOP Class",
            "the Color Palette Information Models are SOP Classes (PS3.4 Table X.1-1)",
        )
        for n in (2, 3, 4)
    ),
)


def _applies(erratum: UIDErratum, uid: UIDDef) -> bool:
    return (
        uid.uid == erratum.uid
        and uid.provenance.edition == erratum.edition
        and uid.provenance.table_id == erratum.table_id
        and getattr(uid, erratum.field) == erratum.wrong
    )


def apply_part06_errata(model: StandardModel) -> StandardModel:
    """Return ``model`` with the :data:`ERRATA` that apply corrected and reported.

    References
    ----------
    DESIGN.md (errata register); PS3.6 Annex A, Table A-1.
    """
    uids: list[UIDDef] = []
    conflicts: list[Conflict] = []
    for uid in model.uids:
        for erratum in ERRATA:
            if _applies(erratum, uid):
                fixed = (
                    attrs.evolve(uid, uid=erratum.right)
                    if erratum.field == "uid"
                    else attrs.evolve(uid, uid_type=erratum.right)
                )
                conflicts.append(
                    Conflict(
                        kind=ConflictKind.ERRATUM,
                        item=erratum.uid,
                        field=erratum.field,
                        kept_value=erratum.right,
                        other_value=erratum.wrong,
                        kept=uid.provenance,
                        other=uid.provenance,
                    )
                )
                uid = fixed
        uids.append(uid)
    return attrs.evolve(
        model,
        uids=tuple(sorted(uids, key=lambda u: u.sort_key)),
        conflicts=(*model.conflicts, *conflicts),
    )
