"""Data rows of the generated key tables (``*_keys.py``) and attribute tables (``*_attributes.py``).

Rows are written one per line, nested for sequence items, under ``# fmt: off``.

References
----------
PS3.4 C.2.2 (key types, kinds of matching), K.6-1 and the other key tables; F.7.2-1, J.3 and
the other DIMSE-N attribute tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dicompile.generator.emit.pyfmt import INDENT, py_str
from dicompile.generator.emit.services_names import (
    Names,
    cite,
    constant_name,
    py_text,
    scope_stem,
    tag_literal,
)
from dicompile.generator.service_model import (
    DimseAttributeRequirement,
    DimseAttributeTable,
    IdentifierAttributeDef,
    InformationModelDef,
    QueryKeyDef,
)

# The kinds of matching of PS3.4 C.2.2.2 as the remarks name them, and the enum members.
_MATCHING_KINDS: Mapping[str, str] = {
    "single value": "SINGLE_VALUE",
    "list of uid": "LIST_OF_UID",
    "universal": "UNIVERSAL",
    "wild card": "WILD_CARD",
    "range": "RANGE",
    "sequence": "SEQUENCE",
}
_MATCHING_CLAUSE = re.compile(r"(?:retrieved with|subject to)\s+(.*?)\bmatching\b(.*)", re.I)
_MATCHING_KIND = re.compile(r"single value|list of uid|universal|wild ?card|range|sequence", re.I)


def matching_types(remark: str) -> tuple[str, ...]:
    """The kinds of matching a key's remark allows, as ``MatchingType`` member names.

    ``"... shall be retrieved with Single Value, Wild Card, or Universal Matching"`` gives
    ``("SINGLE_VALUE", "WILD_CARD", "UNIVERSAL")``; a remark naming none gives ``()``, and so
    does a sentence saying the key "shall not" be used for matching.

    References
    ----------
    PS3.4 C.2.2.2 (kinds of matching); K.6-1 and the like (the remarks).
    """
    found: list[str] = []
    for sentence in re.split(r"(?<=\.)\s+", " ".join(remark.split())):
        if re.search(r"shall not", sentence, re.I):
            continue
        clause = _MATCHING_CLAUSE.search(sentence)
        if clause is None:
            continue
        # "Single Value Matching or Wild Card Matching": the kinds after the first "matching"
        text = clause[1] + clause[2]
        for kind in _MATCHING_KIND.findall(text):
            member = _MATCHING_KINDS[
                re.sub(r"\s+", " ", kind.lower()).replace("wildcard", "wild card")
            ]
            if member not in found:
                found.append(member)
    return tuple(found)


def _key_lines(key: QueryKeyDef, names: Names, depth: int) -> list[str]:
    pad = INDENT * depth
    ret = f"ReturnKeyType.{key.return_key_type.name}" if key.return_key_type else "None"
    kinds = [f"MatchingType.{m}" for m in matching_types(key.remark)]
    kinds_text = f"({kinds[0]},)" if len(kinds) == 1 else f"({', '.join(kinds)})"
    head = (
        f"{pad}QueryKey({tag_literal(key.tag)}, {py_str(names.keyword(key.tag))},"
        f" {py_text(key.name)}, MatchingKeyType.{key.matching_key_type.name}, {ret},"
        f" {py_text(key.remark)}, {kinds_text}, {py_text(key.module)}, "
    )
    if not key.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in key.children:
        lines += _key_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def _identifier_lines(attr: IdentifierAttributeDef, names: Names, depth: int) -> list[str]:
    pad = INDENT * depth
    head = (
        f"{pad}IdentifierAttribute({tag_literal(attr.tag)}, {py_str(names.keyword(attr.tag))},"
        f" {py_text(attr.name)}, ReturnKeyType.{attr.request_type.name},"
        f" ReturnKeyType.{attr.response_type.name}, {py_text(attr.remark)}, "
    )
    if not attr.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in attr.children:
        lines += _identifier_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def model_lines(im: InformationModelDef, names: Names) -> list[str]:
    """An ``InformationModel`` constant: SOP classes, levels with nested keys, attributes."""
    sops = " ".join(f"({py_str(op.value)}, {py_str(uid)})," for op, uid in im.sop_classes)
    lines = [
        f"{constant_name(im.name)}: Final = InformationModel(",
        f"{INDENT}{py_str(im.name)},",
        f"{INDENT}({sops}),",
        f"{INDENT}(",
    ]
    for level in im.levels:
        lines.append(f"{INDENT * 2}QueryLevel({py_str(level.value)}, {py_text(level.name)}, (")
        for key in level.keys:
            lines += _key_lines(key, names, 3)
        lines.append(f"{INDENT * 2}), {py_str(cite(level.provenance))}),")
    lines.append(f"{INDENT}),")
    lines.append(f"{INDENT}(")
    for attr in im.identifier_attributes:
        lines += _identifier_lines(attr, names, 2)
    lines += [f"{INDENT}),", f"{INDENT}{py_str(cite(im.provenance))},", ")"]
    return lines


def _requirement_lines(req: DimseAttributeRequirement, names: Names, depth: int) -> list[str]:
    pad = INDENT * depth
    head = (
        f"{pad}AttributeRequirement({tag_literal(req.tag)}, {py_str(names.keyword(req.tag))},"
        f" {py_text(req.name)}, {py_str(req.scu)}, {py_str(req.scp)}, {req.not_allowed},"
        f" {py_text(req.final_state)}, {py_text(req.comment)}, {py_text(req.module)}, "
    )
    if not req.children:
        return [head + "()),"]
    lines = [head + "("]
    for child in req.children:
        lines += _requirement_lines(child, names, depth + 1)
    return [*lines, f"{pad})),"]


def table_constant(table: DimseAttributeTable) -> str:
    """``MODALITY_PERFORMED_PROCEDURE_STEP_N_CREATE``; ``_<type id>`` for actions and events."""
    name = constant_name(f"{scope_stem(table.scope)} {table.operation.value}")
    return name if table.type_id is None else f"{name}_{table.type_id}"


def table_lines(table: DimseAttributeTable, names: Names) -> list[str]:
    """An ``AttributeTable`` constant with its nested requirements."""
    lines = [
        f"{table_constant(table)}: Final = AttributeTable(",
        f"{INDENT}{py_str(table.scope)}, {py_str(table.operation.value)},"
        f" {table.type_id}, {py_text(table.type_name)}, (",
    ]
    for req in table.attributes:
        lines += _requirement_lines(req, names, 2)
    lines += [f"{INDENT}), {py_str(cite(table.provenance))},", ")"]
    return lines
