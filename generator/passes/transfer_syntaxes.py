"""Pass: describe how each transfer syntax of the UID registry encodes a data set.

PS3.6 lists transfer syntaxes by name only; their properties are the rules of PS3.5:

* implicit VR only where the name says "Implicit VR" (PS3.5 §10.1, Annex A.1);
* big endian only where the name says "Big Endian" (PS3.5 Annex A.3); every other transfer
  syntax, including the encapsulated ones, uses Explicit VR Little Endian (PS3.5 Annex A.4);
* deflated where the name says "Deflate" (PS3.5 Annex A.5; also JPIP Referenced Deflate);
* native (not encapsulated) for the uncompressed encodings, whose names begin with
  "Implicit VR", "Explicit VR" or "Deflated Explicit VR", and for the JPIP referenced ones,
  which send no pixel data at all (PS3.5 Annex A.6); every other transfer syntax encapsulates
  its pixel data in fragments (PS3.5 Annex A.4).

The UIDs under 1.2.840.10008.1.2.6 name whole-file formats for media (RFC 2557 MIME, XML;
PS3.10 Annex A), not encodings of a data set, and get no description.
"""

from __future__ import annotations

import re

import attrs

from dicompile.generator.model import StandardModel, TransferSyntaxDef, UIDDef

TRANSFER_SYNTAX_TYPE = "Transfer Syntax"
FILE_FORMAT_ARC = "1.2.840.10008.1.2.6."
_NATIVE = re.compile(r"(?:Implicit VR|Explicit VR|Deflated Explicit VR|JPIP Referenced)\b")


def describe_transfer_syntax(uid: UIDDef) -> TransferSyntaxDef:
    """The encoding properties of one transfer syntax, read from its name (see module doc).

    References
    ----------
    PS3.5 §10 and Annex A.
    """
    name = uid.name
    return TransferSyntaxDef(
        uid=uid.uid,
        implicit_vr="Implicit VR" in name,
        little_endian="Big Endian" not in name,
        deflated="Deflate" in name,
        encapsulated=_NATIVE.match(name) is None,
    )


def describe_transfer_syntaxes(model: StandardModel) -> StandardModel:
    """Return ``model`` with a :class:`TransferSyntaxDef` for every data set encoding.

    References
    ----------
    PS3.5 §10 and Annex A; PS3.6 Annex A, Table A-1.
    """
    described = {ts.uid: ts for ts in model.transfer_syntaxes}
    for uid in model.uids:
        if uid.uid_type != TRANSFER_SYNTAX_TYPE or uid.uid.startswith(FILE_FORMAT_ARC):
            continue
        described.setdefault(uid.uid, describe_transfer_syntax(uid))
    order = {uid.uid: uid.sort_key for uid in model.uids}
    return attrs.evolve(
        model,
        transfer_syntaxes=tuple(sorted(described.values(), key=lambda ts: order[ts.uid])),
    )
