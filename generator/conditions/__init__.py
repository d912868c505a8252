"""Conditions of the DICOM standard ("Required if …") as typed, executable expressions.

``parse_condition`` reads the prose of a Type 1C/2C attribute or of a conditional module
usage into a :class:`Condition` (or :class:`Unparsed`); ``evaluate`` and ``verdict`` execute
it against any object that follows the small :class:`DatasetView` protocol.  See ``parser``
for the grammar, ``lexicon`` for the vocabulary and ``ast`` for the tree (DESIGN.md,
"Conditions"; STYLE.md item 12).

References
----------
PS3.3 §5.4 (module usage), PS3.5 §7.4 (Data Element Types 1C and 2C).
"""

from __future__ import annotations

from dicompile.generator.conditions.ast import (
    Absent,
    AmbiguousCode,
    And,
    CodedValue,
    Compare,
    CompareOp,
    Condition,
    ContainsCode,
    CountCompare,
    Decidability,
    Empty,
    Equals,
    Expr,
    HasValue,
    IsUrnOrUrl,
    LengthCompare,
    Literal,
    Not,
    OneOf,
    Or,
    ParsedCondition,
    Present,
    PrivateTagValue,
    TagPath,
    Undecidable,
    UndecidableReason,
    Unparsed,
    classify,
    render,
    undecidable_parts,
    walk,
)
from dicompile.generator.conditions.evaluate import (
    DatasetView,
    ModuleDecision,
    Presence,
    Scalar,
    Verdict,
    conditional_module,
    evaluate,
    evaluate_expr,
    verdict,
)
from dicompile.generator.conditions.names import NameEntry, NameIndex
from dicompile.generator.conditions.parser import (
    CODE_VALUE_PATHS,
    ConditionContext,
    condition_sentences,
    parse_condition,
)
from dicompile.generator.conditions.text import html_cell_text, join_paragraphs

__all__ = [
    "CODE_VALUE_PATHS",
    "Absent",
    "AmbiguousCode",
    "And",
    "CodedValue",
    "Compare",
    "CompareOp",
    "Condition",
    "ConditionContext",
    "ContainsCode",
    "CountCompare",
    "DatasetView",
    "Decidability",
    "Empty",
    "Equals",
    "Expr",
    "HasValue",
    "IsUrnOrUrl",
    "LengthCompare",
    "Literal",
    "ModuleDecision",
    "NameEntry",
    "NameIndex",
    "Not",
    "OneOf",
    "Or",
    "ParsedCondition",
    "Presence",
    "Present",
    "PrivateTagValue",
    "Scalar",
    "TagPath",
    "Undecidable",
    "UndecidableReason",
    "Unparsed",
    "Verdict",
    "classify",
    "condition_sentences",
    "conditional_module",
    "evaluate",
    "evaluate_expr",
    "html_cell_text",
    "join_paragraphs",
    "parse_condition",
    "render",
    "undecidable_parts",
    "verdict",
    "walk",
]
