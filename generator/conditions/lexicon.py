"""The vocabulary of PS3.3's condition prose, as data the parser matches word by word.

Every phrase is a tuple of case-folded tokens (words and punctuation as the lexer splits
them).  The tables were drawn from the distinct sentences of the 2020 JSON rendition and the
2016c PS3.3 DocBook excerpt (``python -m dicompile.generator.conditions_audit`` lists them);
a phrase is added only when its meaning is unambiguous wherever it occurs.
"""

from __future__ import annotations

import enum

from dicompile.generator.conditions.ast import CompareOp, UndecidableReason

Phrase = tuple[str, ...]


class Opener(enum.Enum):
    """What a sentence of a condition says about the attribute."""

    REQUIRED = "required if"
    NOT_PRESENT = "shall not be present if"
    NOT_PRESENT_OTHERWISE = "shall not be present otherwise"
    MAY_OTHERWISE = "may be present otherwise"
    MAY_IF = "may be present if"
    MUTUALLY_EXCLUSIVE = "mutually exclusive with"
    UNDECIDABLE = "a requirement stated without a testable condition"


# Longest phrases are tried first (the parser sorts), so "may be present otherwise if" wins
# over "may be present otherwise".
OPENERS: dict[Phrase, Opener] = {
    ("required", "if"): Opener.REQUIRED,
    ("required", "if", "required", "if"): Opener.REQUIRED,  # PS3.3 2020 typo, 4 rows
    ("required", ",", "if"): Opener.REQUIRED,
    ("required", "only", "if"): Opener.REQUIRED,
    ("required", "when"): Opener.REQUIRED,
    ("otherwise", ",", "required", "when"): Opener.REQUIRED,
    ("otherwise", "required", "if"): Opener.REQUIRED,
    ("c", "-", "required", "if"): Opener.REQUIRED,
    ("shall", "be", "present", "if"): Opener.REQUIRED,
    ("shall", "be", "present", "only", "if"): Opener.REQUIRED,
    ("required", "for"): Opener.REQUIRED,
    ("only", "required", "for"): Opener.REQUIRED,
    ("shall", "not", "be", "present", "if"): Opener.NOT_PRESENT,
    ("shall", "not", "be", "present", ",", "if"): Opener.NOT_PRESENT,
    ("shall", "not", "be", "present", "when"): Opener.NOT_PRESENT,
    ("shall", "not", "be", "included", "if"): Opener.NOT_PRESENT,
    ("shall", "not", "be", "present"): Opener.NOT_PRESENT,
    ("shall", "not", "be", "present", "otherwise"): Opener.NOT_PRESENT_OTHERWISE,
    ("it", "shall", "not", "be", "present", "otherwise"): Opener.NOT_PRESENT_OTHERWISE,
    ("may", "be", "present", "otherwise"): Opener.MAY_OTHERWISE,
    ("may", "also", "be", "present", "otherwise"): Opener.MAY_OTHERWISE,
    ("otherwise", "may", "be", "present"): Opener.MAY_OTHERWISE,
    ("may", "be", "present", "if"): Opener.MAY_IF,
    ("may", "be", "present", ",", "if"): Opener.MAY_IF,
    ("may", "also", "be", "present", "if"): Opener.MAY_IF,
    ("may", "be", "present", "otherwise", "if"): Opener.MAY_IF,
    ("may", "be", "present", "otherwise", ",", "if"): Opener.MAY_IF,
    ("may", "be", "present", "otherwise", "only", "if"): Opener.MAY_IF,
    ("otherwise", "may", "be", "present", "if"): Opener.MAY_IF,
    ("may", "be", "present", "for", "other", "sop", "classes", "if"): Opener.MAY_IF,
    ("u", "-", "optional", "if"): Opener.MAY_IF,
    ("mutually", "exclusive", "with"): Opener.MUTUALLY_EXCLUSIVE,
    ("if", "required", "by"): Opener.UNDECIDABLE,
    ("required", "as", "described", "in"): Opener.UNDECIDABLE,
    ("required", "to", "specify"): Opener.UNDECIDABLE,
}


class Verb(enum.Enum):
    """The predicate a verb phrase introduces."""

    PRESENT = "present"
    ABSENT = "absent"
    HAS_VALUE = "has a value"
    NO_VALUE = "has no value"
    EMPTY = "zero length"
    EQUALS = "equals"
    NOT_EQUALS = "does not equal"
    POINTS_TO = "holds the tag of"
    PRIVATE_TAG = "is the tag of a private attribute"
    CONTAINS_CODE = "has an Item with the code"
    URN_OR_URL = "is a URN or URL"
    NOT_URN_OR_URL = "is not a URN or URL"
    LENGTH_AT_MOST = "length at most"
    COMPARE = "compares with a number"
    COUNT = "number of Items or values"
    NOT_SUFFICIENT = "does not identify a code value unambiguously"


# Verb phrases → (verb, comparison operator for COMPARE/COUNT, implied number or None).
VERBS: dict[Phrase, tuple[Verb, CompareOp | None, int | None]] = {}


def _verbs(verb: Verb, *phrases: str, op: CompareOp | None = None, n: int | None = None) -> None:
    for phrase in phrases:
        VERBS[tuple(phrase.replace(",", " ,").split())] = (verb, op, n)


_verbs(
    Verb.PRESENT,
    "is present",
    "are present",
    "is present in this sequence item",
    "is present in this item",
    "exists",
    "is sent",
    "is used",
    "is included",
    "is included in this sop instance",
    "is provided",
)
_verbs(
    Verb.ABSENT,
    "is not present",
    "are not present",
    "is absent",
    "are absent",
    "is not sent",
    "are not sent",
    "is not present in this sequence item",
    "is not included",
)
_verbs(
    Verb.HAS_VALUE,
    "has a value",
    "is present and has a value",
    "is present with a value",
    "is not empty",
    "is non-null",
    "is not zero length",
    "is non-zero length",
    "contain a value",
    "contains a value",
    "contains items",
    "contains one or more items",
)
_verbs(Verb.NO_VALUE, "do not contain a value", "does not contain a value")
_verbs(Verb.EMPTY, "is empty", "is zero length", "is zero-length")
_verbs(
    Verb.EQUALS,
    "is",
    "are",
    "equals",
    "=",
    "is equal to",
    "is set to",
    "value is",
    "has value",
    "has the value",
    "has a value of",
    "has values of",
    "has the value of",
    "is present with a value of",
    "is present with value",
    "is present and equals",
    "is present and is",
    "is present and has a value of",
    "is present and the value is",
    "is provided and has a value of",
    "is either",
    "is one of",
    "is any of",
    "is one of the following",
    "contains the value",
    "contains",
    "contains an item with the value",
    "contains an item with the value of",
    "contains an item with the value or",
    "contains either",
    "attribute value is",
    "is of value",
)
_verbs(
    Verb.NOT_EQUALS,
    "not",
    "is not",
    "is other than",
    "equals other than",
    "does not equal",
    "is not equal to",
    "is not any of",
    "value is not",
    "has a value other than",
    "is present with a value other than",
)
_verbs(
    Verb.POINTS_TO,
    "points to",
    "includes the tag for",
    "contains the tag for",
)
_verbs(
    Verb.PRIVATE_TAG,
    "is the data element tag of a private attribute",
    "value is the data element tag of a private attribute",
)
_verbs(Verb.URN_OR_URL, "is a urn or url")
_verbs(Verb.NOT_URN_OR_URL, "is not a urn or url")
_verbs(Verb.LENGTH_AT_MOST, "length is")
# Coding Scheme Version (0008,0103), PS3.3 Table 8.8-1a: "Required if the value of Coding
# Scheme Designator (0008,0102) is not sufficient to identify the Code Value (0008,0100) …
# unambiguously" (decided by the rule of PS3.3 §8.2, see ast.AmbiguousCode).
_verbs(Verb.NOT_SUFFICIENT, "is not sufficient to identify", "is not sufficient to identify the")
_verbs(
    Verb.COMPARE,
    "is greater than",
    "is more than",
    "has a value greater than",
    "has a value of more than",
    "is present and has a value greater than",
    op=CompareOp.GT,
)
_verbs(
    Verb.COMPARE,
    "is equal to or greater than",
    "is greater than or equal to",
    "is at least",
    op=CompareOp.GE,
)
_verbs(Verb.COMPARE, "is less than", "has a value less than", op=CompareOp.LT)
_verbs(Verb.COMPARE, "is equal to or less than", "is less than or equal to", op=CompareOp.LE)
_verbs(
    Verb.COMPARE,
    "is non-zero",
    "is not zero",
    "has a non-zero value",
    "is present and has a non-zero value",
    op=CompareOp.NE,
    n=0,
)
_verbs(Verb.COMPARE, "is zero", op=CompareOp.EQ, n=0)
_verbs(Verb.COUNT, "contains one item", "sequence contains one item", op=CompareOp.EQ, n=1)
_verbs(
    Verb.COUNT,
    "contains more than one item",
    "has more than one item",
    "is multi-valued",
    op=CompareOp.GT,
    n=1,
)

# Verb phrases written before their subjects ("a value is present in X or Y").
PREFIX_VERBS: dict[Phrase, tuple[Verb, CompareOp | None, int | None]] = {
    ("a", "value", "is", "present", "in"): (Verb.HAS_VALUE, None, None),
    ("there", "is", "more", "than", "one", "item", "in"): (Verb.COUNT, CompareOp.GT, 1),
}

NUMBER_WORDS: dict[str, int] = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4}
ORDINALS: dict[str, int] = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}

# Words in front of a subject that add nothing ("the", "Attribute Image Type", "a value of X").
SUBJECT_PREFIXES: tuple[Phrase, ...] = tuple(
    tuple(p.split())
    for p in (
        "one or more of the values of",
        "one",
        "any value of",
        "the value of",
        "the value for",
        "a value of",
        "value of",
        "value",
        "the",
        "attribute",
        "attributes",
        "if",
    )
)

# Qualifiers after a subject that do not change which attribute is meant: the evaluator
# already looks in the Item (or frame) that holds the conditioned attribute.
QUALIFIERS: tuple[Phrase, ...] = tuple(
    tuple(p.split())
    for p in (
        "of this frame",
        "for this frame",
        "at the image level",
        "in this sequence item",
        "in this item",
        "of this item",
        "sequence",
        "attribute",
        "item",
        "in the sop common module",
        "of this rt physician intent sop instance",
    )
)

# Words that point at an attribute without naming it ("the value is not TIME"): a clause
# with one of them and no attribute reference is unparsed, not undecidable.
IMPLICIT_REFERENCES: tuple[Phrase, ...] = (
    ("the", "value"),
    ("any", "value"),
    ("this", "attribute"),
    ("the", "attribute"),
    # "Required if the is present": a cross-reference lost from the text (empty <xref/>).
    ("the", "is"),
    ("the", "are"),
)

# Phrases that end the condition proper (what follows is explanation).
TRAILERS: tuple[Phrase, ...] = (
    (":", "defined", "terms"),
    ("defined", "terms"),
    ("in", "which", "case"),
    ("see", "note"),
    ("see",),
    ("for", "further", "explanation"),
    ("overriding",),
)

# Phrases that mark a clause as not decidable from a Data Set, with the reason.  They are
# looked for inside a clause the grammar could not read; "@ref" stands for any attribute
# reference.  A clause that matches none of them and names an attribute is *unparsed*.
UNDECIDABLE_PHRASES: tuple[tuple[Phrase, UndecidableReason], ...] = tuple(
    (tuple(p.replace(",", " ,").split()), reason)
    for reason, phrases in (
        (
            UndecidableReason.JUDGEMENT,
            (
                "insufficient precision",
                "is not sufficient to identify",
                "not fully describe",
                "do not fully describe",
                "does not fully describe",
                "does not fully specify",
                "is a reference to a standard palette",
                "contains a parameter which represents",
                "is only significant under certain conditions",
                "requires ( implies )",
                "has an item value other than one representing",
                "is present with an item value other than",
                "do not have a ratio",
                "does not apply to",
                "do not apply to",
                "is not available",
                "is nested in",
                "is a code sequence",
                "the selected content",
                "the attribute referenced by",
                "was not issued in the current sop instance",
                "is not that which is specified",
                "does not require",
                "is being transmitted",
                "shall be associated to only a subset",
                "that is @ref",
                "contains multiple frames",
                "contains more than one frame",
                "specifies more than one frame",
            ),
        ),
        (
            UndecidableReason.OTHER_INSTANCE,
            (
                "the referenced",
                "referenced image",
                "referenced by",
                "of the images referenced",
                "in the instance referenced",
                "instance referenced in",
                "referenced within",
                "contributing sop instances",
                "contains a reference to",
                "the referenced sop instance",
                "referenced instance",
                "referenced plan",
                "references a sop instance",
            ),
        ),
        (
            UndecidableReason.OTHER_ITEMS,
            (
                "changes during",
                "change during",
                "changes during setup",
                "first item",
                "control point 0",
                "all but the last item",
                "in all subsequent items",
                "in subsequent control points",
                "in control points specified within",
                "in any of the items",
                "any item in",
                "the containing",
                "in every item",
                "for frames included in",
                "within a functional group sequence",
                "in an item of",
                "of the wedge referenced",
                "of the range modulator referenced",
                "for the contrast/bolus agent number",
                "for one or more fraction groups",
                "for any frame",
                "in any of the classic images",
                "in higher items",
            ),
        ),
        (
            UndecidableReason.PROSE_ELSEWHERE,
            (
                "conditions in section",
                "as described in section",
                "is part of cid",
                "in section",
                "see section",
            ),
        ),
        (
            UndecidableReason.MODULE_PRESENCE,
            (
                "module is present",
                "module is not present",
                "module exists",
                "module is included",
                "functional group macros present",
                "functional group is present",
                "functional group is not present",
                "functional group macro is present",
                "functional group module is present",
                "module references",
                "macros present",
                "macro present",
                "functional group",
                "module or bitmap display shutter module is present",
            ),
        ),
        (UndecidableReason.DICTIONARY, ("is contained within a functional group sequence",)),
        (
            UndecidableReason.NO_ATTRIBUTE,
            (
                "frame level retrieve",
                "is capable of calculating",
                "the registration applies to",
                "there is a one-way interaction",
            ),
        ),
    )
    for p in phrases
)
