"""Source lines of the typed classes: class bodies, field docstrings and ``FIELDS`` tables.

Shared by the module, macro and IOD files (``typed_classes``) and the functional group items
of enhanced IODs (``typed_functional_groups``).  A field's annotation follows its PS3.3 type
(see ``dicompile.runtime.typed``): Type 1 required, Type 2 required but ``None`` allowed
(a sequence: ``()``), Type 1C and 3 ``= None``, Type 2C also :data:`EMPTY`.

References
----------
PS3.3 §5.4 (attribute types); PS3.5 §7.4; STYLE.md §11.
"""

from __future__ import annotations

from dicompile.generator.emit.typed_plan import ClassPlan, FieldPlan

INDENT = "    "
LINE_LENGTH = 100


def py_doc(text: str) -> str:
    """A one-line docstring literal for ``text`` (backslashes and closing quotes escaped)."""
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"') and not text.endswith('\\"'):
        text = text[:-1] + '\\"'
    return f'"""{text}"""'


def py_str(text: str) -> str:
    """A double-quoted string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def annotation(field: FieldPlan) -> tuple[str, bool]:
    """The field's annotation and whether it has a default (``= None``)."""
    base = field.value_type
    match field.requirement:
        case "1":
            return base, False
        case "2":
            return (base, False) if field.is_sequence else (f"{base} | None", False)
        case "2C" if not field.is_sequence:
            return f"{base} | Empty | None", True
        case _:
            return f"{base} | None", True


def field_doc(field: FieldPlan, plan: ClassPlan) -> str:
    """``(0010,0010) PN, VM 1, Type 2 — Patient's Name; PS3.3 C.7.1.1.`` and the condition."""
    tag = field.tag.display
    where = f"written in group {field.tag.text[:2]}00; " if field.tag.is_repeating else ""
    text = (
        f"{tag} {field.vr}, VM {field.vm}, Type {field.requirement} — {field.attribute};"
        f" {where}{plan.cite}."
    )
    if field.condition:
        text += f" {field.condition}"
    return py_doc(text)


def class_lines(plan: ClassPlan, depth: int, base: str) -> list[str]:
    """The attrs class of ``plan`` and its nested item classes, indented ``depth`` levels."""
    pad = INDENT * depth
    inner = pad + INDENT
    lines = [f"{pad}@attrs.frozen(kw_only=True)", f"{pad}class {plan.name}({base}):"]
    lines.append(f"{inner}{py_doc(plan.doc)}")
    for field in plan.fields:
        text, default = annotation(field)
        lines.append("")
        lines.append(f"{inner}{field.name}: {text}{' = None' if default else ''}")
        lines.append(f"{inner}{field_doc(field, plan)}")
    for nested in plan.nested:
        lines.append("")
        lines += class_lines(nested, depth + 1, base)
    return lines


def field_row(field: FieldPlan) -> str:
    """``field("name", 0x00100010, "PN", False, "2"[, Item])``: the runtime's table row."""
    args = [
        py_str(field.name),
        f"0x{field.tag.base:08X}",
        py_str(field.vr),
        str(field.multiple),
        py_str(field.requirement),
    ]
    if field.item is not None:
        args.append(field.item.qualname)
    return f"field({', '.join(args)})"


def fields_lines(plan: ClassPlan) -> list[str]:
    """``Owner.Item.FIELDS = (...)`` for the class and each nested class, in pre-order."""
    lines = [f"{plan.ref.qualname}.FIELDS = ("]
    lines += [f"{INDENT}{field_row(field)}," for field in plan.fields]
    lines.append(")")
    for nested in plan.nested:
        lines += fields_lines(nested)
    return lines
