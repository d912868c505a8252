"""Parse condition prose into a :class:`~dicompile.generator.conditions.ast.Condition`.

Theory of operation
-------------------
* **Sentences.**  A description cell holds explanation and condition sentences.  A condition
  sentence starts with an *opener* ("Required if", "Shall not be present if", "May be present
  otherwise", see ``lexicon.OPENERS``): at the start of a sentence, after ``,`` ``;`` ``:``,
  or anywhere when capitalised (PS3.3 sometimes drops the full stop).  It runs to the next
  full stop, semicolon or opener.  Other sentences are explanation and are ignored.
* **Expressions.**  The body of a sentence is read by recursive descent with four levels of
  connective, loosest first: ``, and`` / ``, or`` (a comma before the connective), ``and if``
  / ``or if``, ``or``, ``and``.  This is how PS3.3 groups in practice: "A, or if B and C" is
  ``A or (B and C)``; "A or B, and C" is ``(A or B) and C``.
* **Predicates.**  subject (an attribute reference, a list of them, "Value 3 of …", "the
  value" for the last one named, "the code value") + verb phrase (``lexicon.VERBS``) +
  operands (values, codes, numbers, tags).  A predicate must end at a connective or at the end
  of the sentence; otherwise it did not parse.
* **Opaque clauses.**  Where no predicate parses, the clause runs to the next connective that
  is followed by a predicate that does.  If it matches an undecidable phrase
  (``lexicon.UNDECIDABLE_PHRASES``) or names no attribute, it becomes an
  :class:`~dicompile.generator.conditions.ast.Undecidable` leaf; if it names an attribute but
  matches nothing known, the whole condition is :class:`Unparsed`.  Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import attrs

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
)
from dicompile.generator.conditions.lexer import Kind, RawToken, scan
from dicompile.generator.conditions.lexicon import (
    IMPLICIT_REFERENCES,
    NUMBER_WORDS,
    OPENERS,
    ORDINALS,
    PREFIX_VERBS,
    QUALIFIERS,
    SUBJECT_PREFIXES,
    TRAILERS,
    UNDECIDABLE_PHRASES,
    VERBS,
    Opener,
    Phrase,
    Verb,
)
from dicompile.generator.conditions.names import NameIndex
from dicompile.generator.conditions.tokens import resolve

# "the code value" of a Code Sequence Item: Code Value, Long Code Value, URN Code Value.
CODE_VALUE_PATHS: tuple[TagPath, ...] = ((0x00080100,), (0x00080119,), (0x00080120,))
CODING_SCHEME_DESIGNATOR = 0x00080102
_NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "DS", "IS", "SV", "UV"})
_WORD_KINDS = frozenset({Kind.WORD, Kind.PUNCT, Kind.NUMBER, Kind.SECTION})

_T = TypeVar("_T")


@attrs.frozen
class ConditionContext:
    """What the caller knows about where the condition stands (used in reasons only).

    ``citation`` is a short provenance string such as ``"PS3.3 2020 table_C.7-1 row 12"``.
    """

    attribute: TagPath | None = None
    citation: str | None = None


class _Fail(Exception):
    """The current alternative does not parse; the caller backtracks."""


class _Unreadable(Exception):
    """A clause names an attribute but matches no known form: the condition is unparsed."""


def _sorted_phrases(table: Mapping[Phrase, _T]) -> list[tuple[Phrase, _T]]:
    return sorted(table.items(), key=lambda item: -len(item[0]))


_OPENERS = _sorted_phrases(OPENERS)
_VERBS = _sorted_phrases(VERBS)
_PREFIX_VERBS = _sorted_phrases(PREFIX_VERBS)
_PREFIXES = sorted(SUBJECT_PREFIXES, key=len, reverse=True)
_QUALIFIERS = sorted(QUALIFIERS, key=len, reverse=True)


def _words(tokens: Sequence[RawToken], pos: int, phrase: Phrase) -> bool:
    """True when ``tokens[pos:]`` starts with ``phrase`` (case-folded words and punctuation)."""
    if pos + len(phrase) > len(tokens):
        return False
    return all(
        tokens[pos + k].kind in _WORD_KINDS and tokens[pos + k].lower == word
        for k, word in enumerate(phrase)
    )


def _contains(words: Sequence[str], phrase: Phrase) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def _is_value_word(token: RawToken) -> bool:
    """An enumerated value as PS3.3 writes it: ``ORIGINAL``, ``3D``, ``REV_TID``, ``Y``."""
    if token.kind is not Kind.WORD:
        return False
    text = token.text
    return any(c.isalnum() for c in text) and not any(c.islower() for c in text)


def _flatten(kind: type[And] | type[Or], operands: Sequence[Expr]) -> Expr:
    flat: list[Expr] = []
    for operand in operands:
        if isinstance(operand, kind):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


@attrs.frozen
class _Subject:
    refs: tuple[tuple[TagPath, int | None], ...]
    combine: type[And] | type[Or] = Or
    concept: bool = False  # "the code value"
    count: bool = False  # "the number of Items in X"


@attrs.frozen
class _Connective:
    level: int  # 0: ", and"/", or"; 1: "and if"/"or if"; 2: "or"; 3: "and"
    kind: type[And] | type[Or]
    length: int


class _ExprParser:
    """Recursive descent over the tokens of one sentence body."""

    def __init__(self, tokens: list[RawToken], names: NameIndex, text: str) -> None:
        self.tokens = tokens
        self.names = names
        self.text = text
        self.pos = 0
        self.last: tuple[TagPath, int | None] | None = None

    # --- token helpers ------------------------------------------------------------------

    def peek(self, offset: int = 0) -> RawToken | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def accept(self, phrase: Phrase) -> bool:
        if _words(self.tokens, self.pos, phrase):
            self.pos += len(phrase)
            return True
        return False

    def span_text(self, start: int, end: int) -> str:
        return self.text[self.tokens[start].start : self.tokens[end - 1].end]

    def connective(self, pos: int) -> _Connective | None:
        def word(k: int) -> str | None:
            i = pos + k
            if i < len(self.tokens) and self.tokens[i].kind in _WORD_KINDS:
                return self.tokens[i].lower
            return None

        first, second = word(0), word(1)
        if first == "," and second in ("and", "or"):
            length = 3 if word(2) == "if" else 2
            return _Connective(0, And if second == "and" else Or, length)
        if first in ("and", "or") and second == "if":
            return _Connective(1, And if first == "and" else Or, 2)
        if first == "or":
            return _Connective(2, Or, 1)
        if first in ("and", "nor"):
            return _Connective(3, And, 1)
        return None

    def at_boundary(self) -> bool:
        return self.pos >= len(self.tokens) or self.connective(self.pos) is not None

    # --- expressions --------------------------------------------------------------------

    def parse(self) -> Expr:
        if not self.tokens:
            raise _Unreadable("the sentence states no condition")
        expr = self.expression(0)
        if self.pos != len(self.tokens):
            raise _Unreadable(f"cannot read {self.span_text(self.pos, len(self.tokens))!r}")
        return expr

    def expression(self, level: int) -> Expr:
        if level == 4:
            return self.atom()
        operands = [self.expression(level + 1)]
        kinds: list[type[And] | type[Or]] = []
        while (conn := self.connective(self.pos)) is not None and conn.level == level:
            self.pos += conn.length
            if self.pos >= len(self.tokens):
                raise _Unreadable("the sentence ends with a connective")
            kinds.append(conn.kind)
            operands.append(self.expression(level + 1))
        # Left to right: "A, or B, and C" is "(A or B) and C".
        result = operands[0]
        for kind, operand in zip(kinds, operands[1:], strict=True):
            result = _flatten(kind, [result, operand])
        return result

    def atom(self) -> Expr:
        start, last = self.pos, self.last
        try:
            node = self.predicate()
            if self.at_boundary():
                return node
        except _Fail:
            pass
        self.pos, self.last = start, last
        return self.opaque()

    def predicate_parses_at(self, pos: int) -> bool:
        saved = (self.pos, self.last)
        self.pos = pos
        try:
            self.predicate()
            return self.at_boundary()
        except _Fail:
            return False
        finally:
            self.pos, self.last = saved

    def opaque(self) -> Expr:
        start = self.pos
        end = start + 1
        while end < len(self.tokens):
            conn = self.connective(end)
            if conn is not None and self.predicate_parses_at(end + conn.length):
                break
            end += 1
        self.pos = end
        return self.classify(start, end)

    def classify(self, start: int, end: int) -> Undecidable:
        span = self.tokens[start:end]
        text = self.span_text(start, end)
        words = ["@ref" if t.kind in (Kind.REF, Kind.CONCEPT) else t.lower for t in span]
        for phrase, reason in UNDECIDABLE_PHRASES:
            if _contains(words, phrase):
                return Undecidable(text, reason)
        if "@ref" in words:
            raise _Unreadable(f"cannot read {text!r}")
        if any(_contains(words, phrase) for phrase in IMPLICIT_REFERENCES):
            raise _Unreadable(f"{text!r} refers to an attribute it does not name")
        if self.looks_like_attribute(span):
            raise _Unreadable(f"{text!r} looks like an attribute name missing from the dictionary")
        return Undecidable(text, UndecidableReason.NO_ATTRIBUTE)

    @staticmethod
    def looks_like_attribute(span: Sequence[RawToken]) -> bool:
        """Two capitalised words, a verb and an enumerated value: an unknown attribute name."""
        for i in range(len(span) - 3):
            a, b, verb, value = span[i : i + 4]
            if (
                a.text[:1].isupper()
                and b.text[:1].isupper()
                and verb.lower in ("is", "equals", "=")
                and _is_value_word(value)
            ):
                return True
        return False

    # --- predicates ---------------------------------------------------------------------

    def predicate(self) -> Expr:
        neither = False
        if self.accept(("either",)):
            pass
        elif self.accept(("neither",)):
            neither = True
        for phrase, meaning in _PREFIX_VERBS:
            if self.accept(phrase):
                # "a value is present in X or Y": the verb comes before its subjects.
                subject = self.reference_list(None)
                return self.predicate_after(subject, meaning, neither=False)
        subject = self.subject()
        node = self.verb_phrase(subject, neither=neither)
        # "… is absent or has a value of TIME or BOTH": a second verb phrase on the same
        # subject binds tighter than any connective between clauses.
        while (conn := self.connective(self.pos)) is not None and conn.level >= 2:
            save = (self.pos, self.last)
            self.pos += conn.length
            try:
                following = self.verb_phrase(subject, neither=neither)
            except _Fail:
                self.pos, self.last = save
                break
            node = _flatten(conn.kind, [node, following])
        return node

    def subject(self) -> _Subject:
        token = self.peek()
        if token is not None and token.kind is Kind.CONCEPT:
            self.pos += 1
            return _Subject((), concept=True)
        if self.accept(("the", "number", "of", "items", "in")):
            return _Subject((self.reference(None),), count=True)
        index, anaphoric = self.value_index_prefix()
        self.skip(_PREFIXES)
        token = self.peek()
        if token is not None and token.kind is Kind.REF:
            if anaphoric:
                raise _Fail
            return self.reference_list(index)
        if self.last is not None and self.verb_starts_here():
            path, last_index = self.last
            return _Subject(((path, index if index is not None else last_index),))
        raise _Fail

    def value_index_prefix(self) -> tuple[int | None, bool]:
        """ "Value 3 of …", "the third value of …" (index), "Value 3 is …" (anaphoric index)."""
        token, following = self.peek(), self.peek(1)
        if (
            token is not None
            and following is not None
            and token.lower == "value"
            and following.kind is Kind.NUMBER
        ):
            self.pos += 2
            if self.accept(("of",)):
                return int(following.text), False
            return int(following.text), True
        if token is not None and token.lower == "the" and following is not None:
            ordinal = ORDINALS.get(following.lower)
            if ordinal is not None and _words(self.tokens, self.pos + 2, ("value", "of")):
                self.pos += 4
                return ordinal, False
        return None, False

    def skip(self, phrases: Sequence[Phrase]) -> None:
        progressed = True
        while progressed:
            progressed = False
            for phrase in phrases:
                if self.accept(phrase):
                    progressed = True
                    break

    def verb_starts_here(self) -> bool:
        return any(_words(self.tokens, self.pos, phrase) for phrase, _ in _VERBS)

    def reference(self, index: int | None) -> tuple[TagPath, int | None]:
        token = self.peek()
        if token is None or token.kind is not Kind.REF or token.tag is None:
            raise _Fail
        self.pos += 1
        path: TagPath = (token.tag,)
        for _ in range(3):
            before = self.pos
            index = self.value_index_suffix(index)
            if self.accept(("within", "the")) or self.accept(("within",)):
                outer = self.peek()
                if outer is None or outer.kind is not Kind.REF or outer.tag is None:
                    raise _Fail
                self.pos += 1
                path = (outer.tag, *path)
            self.skip(_QUALIFIERS)
            self.skip_module_qualifier()
            self.skip_item_qualifier()
            if self.pos == before:
                break
        self.last = (path, index)
        return path, index

    def value_index_suffix(self, index: int | None) -> int | None:
        """ "Image Type (0008,0008) Value 3", "Series Type (0054,1000), Value 1"."""
        for lead in ((",", "value"), ("value",)):
            if _words(self.tokens, self.pos, lead):
                number = self.peek(len(lead))
                if number is not None and number.kind is Kind.NUMBER:
                    self.pos += len(lead) + 1
                    return int(number.text)
        return index

    def skip_module_qualifier(self) -> None:
        """ "… in the Enhanced CT Image Module (or the X Module)": where, not which, attribute."""
        if not _words(self.tokens, self.pos, ("in",)):
            return
        end = self.pos + 1
        last_module = None
        while end < len(self.tokens) and end - self.pos <= 16:
            token = self.tokens[end]
            if token.kind is not Kind.WORD or token.lower == "and":
                break
            if token.lower == "module":
                last_module = end
            end += 1
        if last_module is not None:
            self.pos = last_module + 1

    def skip_item_qualifier(self) -> None:
        """ "… in this Item of the Fiducial Set Sequence (0070,031C)": the Item being validated."""
        for lead in (("in", "this", "item", "of", "the"), ("in", "this", "item", "of")):
            following = self.peek(len(lead))
            if (
                _words(self.tokens, self.pos, lead)
                and following is not None
                and following.kind is Kind.REF
            ):
                self.pos += len(lead) + 1
                return

    def reference_list(self, index: int | None) -> _Subject:
        refs = [self.reference(index)]
        kinds: list[type[And] | type[Or]] = []
        while True:
            save = self.pos
            separator: type[And] | type[Or] | None = None
            for phrase, kind in (
                ((",", "and"), And),
                ((",", "or"), Or),
                ((",",), None),
                (("and",), And),
                (("or",), Or),
                (("nor",), And),
            ):
                if self.accept(phrase):
                    separator = kind
                    break
            else:
                break
            self.skip((("any", "value", "of"), ("the",)))
            token = self.peek()
            if token is None or token.kind is not Kind.REF:
                self.pos = save
                break
            refs.append(self.reference(None))
            if separator is not None:
                kinds.append(separator)
        if len(set(kinds)) > 1:
            raise _Fail  # "A or B, and C are present": mixed lists are not guessed
        combine: type[And] | type[Or] = kinds[0] if kinds else Or
        return _Subject(tuple(refs), combine)

    # --- verb phrases -------------------------------------------------------------------

    def verb_phrase(self, subject: _Subject, *, neither: bool) -> Expr:
        """Try every verb phrase that matches here, longest first, until one reads through."""
        start, last = self.pos, self.last
        for phrase, meaning in _VERBS:
            if not _words(self.tokens, start, phrase):
                continue
            self.pos, self.last = start + len(phrase), last
            try:
                node = self.predicate_after(subject, meaning, neither=neither)
            except _Fail:
                continue
            if self.at_boundary():
                return node
        self.pos, self.last = start, last
        raise _Fail

    def predicate_after(
        self,
        subject: _Subject,
        meaning: tuple[Verb, CompareOp | None, int | None],
        *,
        neither: bool,
    ) -> Expr:
        verb, op, number = meaning
        if subject.concept:
            return self.concept_predicate(verb)
        leaves: list[Expr]
        if verb in (Verb.PRESENT, Verb.ABSENT, Verb.HAS_VALUE, Verb.NO_VALUE, Verb.EMPTY):
            if neither:
                verb = {Verb.PRESENT: Verb.ABSENT, Verb.HAS_VALUE: Verb.NO_VALUE}.get(verb, verb)
            leaves = [self.presence(verb, path) for path, _ in subject.refs]
            self.skip_module_qualifier()
            self.skip_item_qualifier()
        elif verb in (Verb.EQUALS, Verb.NOT_EQUALS, Verb.POINTS_TO):
            leaves = self.value_predicates(subject, verb)
        elif verb is Verb.PRIVATE_TAG:
            leaves = [PrivateTagValue(path) for path, _ in subject.refs]
        elif verb is Verb.COMPARE:
            threshold = number if number is not None else self.number()
            if subject.count:
                leaves = [
                    CountCompare(op or CompareOp.EQ, p, int(threshold)) for p, _ in subject.refs
                ]
            else:
                leaves = [
                    Compare(op or CompareOp.EQ, path, threshold, index)
                    for path, index in subject.refs
                ]
                self.check_numeric(subject)
        elif verb is Verb.COUNT:
            leaves = [CountCompare(op or CompareOp.EQ, p, number or 0) for p, _ in subject.refs]
        elif verb is Verb.NOT_SUFFICIENT:
            leaves = [self.ambiguous_code(path) for path, _ in subject.refs]
        else:
            raise _Fail
        return _flatten(subject.combine, leaves)

    def ambiguous_code(self, designator: TagPath) -> AmbiguousCode:
        """ "… is not sufficient to identify the Code Value (0008,0100) or Long Code Value
        (0008,0119) unambiguously": the code values are alternatives (PS3.3 §8.1)."""
        if designator[-1] != CODING_SCHEME_DESIGNATOR:
            raise _Fail  # only a Coding Scheme Designator identifies code values
        values = self.reference_list(None)
        if not self.accept(("unambiguously",)):
            raise _Fail
        return AmbiguousCode(designator, tuple(path for path, _ in values.refs))

    @staticmethod
    def presence(verb: Verb, path: TagPath) -> Expr:
        if verb is Verb.PRESENT:
            return Present(path)
        if verb is Verb.ABSENT:
            return Absent(path)
        if verb is Verb.HAS_VALUE:
            return HasValue(path)
        if verb is Verb.NO_VALUE:
            return Not(HasValue(path))
        return Empty(path)

    def concept_predicate(self, verb: Verb) -> Expr:
        if verb is Verb.URN_OR_URL:
            return IsUrnOrUrl(CODE_VALUE_PATHS)
        if verb is Verb.NOT_URN_OR_URL:
            return Not(IsUrnOrUrl(CODE_VALUE_PATHS))
        if verb is Verb.LENGTH_AT_MOST:
            length = int(self.number())
            if self.accept(("characters", "or", "less")) or self.accept(
                ("characters", "or", "fewer")
            ):
                return LengthCompare(CompareOp.LE, CODE_VALUE_PATHS, length)
            if self.accept(("characters", "or", "more")):
                return LengthCompare(CompareOp.GE, CODE_VALUE_PATHS, length)
        raise _Fail

    def number(self) -> int | float:
        token = self.peek()
        if token is None:
            raise _Fail
        if token.kind is Kind.NUMBER:
            self.pos += 1
            value = float(token.text)
            return int(value) if value.is_integer() and "." not in token.text else value
        if token.lower in NUMBER_WORDS:
            self.pos += 1
            return NUMBER_WORDS[token.lower]
        raise _Fail

    def check_numeric(self, subject: _Subject) -> None:
        for path, _ in subject.refs:
            vr = self.names.vr_of(path[-1])
            if vr is not None and not (set(vr.replace(" or ", " ").split()) & _NUMERIC_VRS):
                raise _Fail  # "greater than" on a string attribute is not what was meant

    def value_predicates(self, subject: _Subject, verb: Verb) -> list[Expr]:
        token = self.peek()
        leaves: list[Expr] = []
        if token is not None and (token.kind is Kind.CODE or token.lower == "either"):
            codes = self.codes()
            for path, _ in subject.refs:
                leaf: Expr = ContainsCode(path, codes)
                leaves.append(And((Present(path), Not(leaf))) if verb is Verb.NOT_EQUALS else leaf)
            return leaves
        pointers = verb is Verb.POINTS_TO or all(
            self.names.vr_of(path[-1]) == "AT" for path, _ in subject.refs
        )
        values = self.values(pointers=pointers, negated=verb is Verb.NOT_EQUALS)
        for path, index in subject.refs:
            self.check_literals(path, values)
            match: Expr = (
                Equals(path, values[0], index) if len(values) == 1 else OneOf(path, values, index)
            )
            if verb is Verb.NOT_EQUALS:
                match = And((Present(path), Not(match)))
            leaves.append(match)
        return leaves

    def check_literals(self, path: TagPath, values: Sequence[Literal]) -> None:
        vr = self.names.vr_of(path[-1])
        if vr is None:
            return
        vrs = set(vr.replace(" or ", " ").split())
        if vrs == {"SQ"}:
            raise _Fail  # a Sequence compared with a word: not a form we know
        if vrs and vrs <= _NUMERIC_VRS:
            for value in values:
                try:
                    float(value)
                except ValueError:
                    raise _Fail from None

    def codes(self) -> tuple[CodedValue, ...]:
        codes: list[CodedValue] = []
        self.accept(("either",))
        while True:
            self.accept(("or",))
            token = self.peek()
            if token is None or token.kind is not Kind.CODE or token.code is None:
                break
            codes.append(token.code)
            self.pos += 1
            save = self.pos
            if not (self.accept((",", "or")) or self.accept((",",)) or self.accept(("or",))):
                break
            following = self.peek()
            if following is None or following.kind is not Kind.CODE:
                self.pos = save
                break
        if not codes:
            raise _Fail
        return tuple(codes)

    def values(self, *, pointers: bool, negated: bool) -> tuple[Literal, ...]:
        self.accept((":",))
        values = [self.value(pointers=pointers)]
        separators: tuple[Phrase, ...] = ((",", "or"), ("or",), (",",))
        if negated:
            separators += (("and", "not"), ("or", "not"))
        while True:
            save = self.pos
            if not any(self.accept(s) for s in separators):
                break
            if not self.value_starts(pointers=pointers):
                self.pos = save
                break
            values.append(self.value(pointers=pointers))
        return tuple(values)

    def value_starts(self, *, pointers: bool) -> bool:
        saved = (self.pos, self.last)
        try:
            self.value(pointers=pointers)
            return True
        except _Fail:
            return False
        finally:
            self.pos, self.last = saved

    def value(self, *, pointers: bool) -> Literal:
        token = self.peek()
        if token is None:
            raise _Fail
        if pointers and token.kind is Kind.REF and token.tag is not None:
            self.pos += 1
            return token.tag
        named = self.named_uid()
        if named is not None:
            return named
        literal: str
        if token.kind in (Kind.QUOTED, Kind.UID, Kind.NUMBER):
            self.pos += 1
            literal = token.literal
        elif _is_value_word(token):
            words = []
            while (current := self.peek()) is not None and _is_value_word(current):
                words.append(current.text)
                self.pos += 1
            literal = " ".join(words)
        else:
            raise _Fail
        self.skip_comment()
        return literal

    def named_uid(self) -> str | None:
        """ "RT Structure Set Storage ("1.2.840.10008.5.1.4.1.1.481.3")": the UID is the value."""
        end = self.pos
        while (
            end < len(self.tokens)
            and end - self.pos < 10
            and self.tokens[end].kind is Kind.WORD
            and self.tokens[end].text[:1].isupper()
        ):
            end += 1
        if end == self.pos or end + 2 >= len(self.tokens):
            return None
        opening, inner, closing = self.tokens[end : end + 3]
        if opening.text == "(" and inner.kind in (Kind.QUOTED, Kind.UID) and closing.text == ")":
            self.pos = end + 3
            return inner.literal
        return None

    def skip_comment(self) -> None:
        """ "DF (Digitized Film)", "… (Legacy Converted)": a gloss after a value."""
        token = self.peek()
        if token is None or token.text != "(":
            return
        end = self.pos + 1
        while end < len(self.tokens) and self.tokens[end].text != ")":
            if self.tokens[end].kind not in (Kind.WORD, Kind.NUMBER, Kind.PUNCT):
                return
            end += 1
        if end < len(self.tokens):
            self.pos = end + 1


# --- sentences ------------------------------------------------------------------------


@attrs.frozen
class _Sentence:
    opener: Opener
    body: list[RawToken]
    start: int
    end: int


def _opener_at(tokens: Sequence[RawToken], i: int) -> tuple[Opener, int] | None:
    for phrase, opener in _OPENERS:
        if _words(tokens, i, phrase):
            return opener, len(phrase)
    # PS3.3 2020 twice writes "Required Pixel Data (7FE0,0010) is present." ("if" missing).
    if tokens[i].lower == "required" and i + 1 < len(tokens) and tokens[i + 1].kind is Kind.REF:
        return Opener.REQUIRED, 1
    return None


def _trim(body: list[RawToken]) -> list[RawToken]:
    """Drop what follows "in which case", "see …" and stray punctuation at either end."""
    cut = next(
        (i for i in range(len(body)) for phrase in TRAILERS if _words(body, i, phrase)),
        len(body),
    )
    body = body[:cut]
    while body and body[-1].kind is Kind.PUNCT and body[-1].text in ",;:-(.":
        body = body[:-1]
    while body and body[0].kind is Kind.PUNCT and body[0].text in ",:":
        body = body[1:]
    if _words(body, 0, ("either", ":")):
        body = body[2:]
    return body


def _sentences(tokens: list[RawToken]) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    current: tuple[Opener, int, int, list[RawToken]] | None = None  # opener, start, end, body

    def close() -> None:
        nonlocal current
        if current is not None:
            opener, start, end, body = current
            sentences.append(_Sentence(opener, _trim(body), start, end))
            current = None

    sentence_start = True
    i = 0
    while i < len(tokens):
        token = tokens[i]
        after_punct = i > 0 and tokens[i - 1].kind is Kind.PUNCT and tokens[i - 1].text in ",;:"
        if sentence_start or after_punct or token.text[:1].isupper():
            found = _opener_at(tokens, i)
            if found is not None:
                close()
                opener, length = found
                end = tokens[i + length - 1].end
                current = (opener, token.start, end, [])
                sentence_start = False
                i += length
                continue
        if token.kind is Kind.PUNCT and token.text in ".;":
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if (
                current is not None
                and following is not None
                and _words(current[3], 0, ("either", ":"))
                and _opener_at(tokens, i + 1) is None
            ):
                # "Required if either: A. B." (a list, one alternative per item).
                current[3].append(RawToken(Kind.WORD, "or", token.start, token.end))
                i += 1
                continue
            if token.text == ";" or following is None or not following.text[:1].islower():
                close()
                sentence_start = True
                i += 1
                continue
            i += 1  # "AXIS. or CROSSHAIR": a stray full stop inside a sentence
            continue
        if current is not None:
            current[3].append(token)
            current = (current[0], current[1], token.end, current[3])
        sentence_start = False
        i += 1
    close()
    return sentences


def condition_sentences(text: str, *, names: Mapping[str, int]) -> list[str]:
    """The condition sentences of a cell, as written (explanation sentences left out).

    References
    ----------
    PS3.3 §5.4, PS3.5 §7.4.
    """
    index = NameIndex.from_mapping(names)
    return [text[s.start : s.end] for s in _sentences(resolve(scan(text), index, text))]


def _combine(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    return _flatten(Or, exprs)


def parse_condition(
    text: str,
    *,
    names: Mapping[str, int],
    context: ConditionContext | None = None,
) -> ParsedCondition:
    """Parse the condition sentences of a description (or usage) cell.

    Parameters
    ----------
    text:
        Plain text of the cell (markup removed, whitespace collapsed); explanation sentences
        around the condition are ignored.
    names:
        Attribute name → tag.  Pass a :class:`NameIndex` (built once) when parsing many
        conditions; a plain mapping is indexed on every call.
    context:
        Where the condition stands, quoted in the reason of an :class:`Unparsed` result.

    Returns
    -------
    :class:`Condition` (checkable, or with :class:`Undecidable` parts) or :class:`Unparsed`.

    References
    ----------
    PS3.3 §5.4 (usage "C"), PS3.5 §7.4 (Types 1C and 2C).
    """
    index = NameIndex.from_mapping(names)
    tokens = resolve(scan(text), index, text)
    sentences = _sentences(tokens)
    where = f" ({context.citation})" if context is not None and context.citation else ""
    if not sentences:
        return Unparsed(text, f"no condition sentence found{where}")
    source = text[sentences[0].start : sentences[-1].end]
    required: list[Expr] = []
    forbidden: list[Expr] = []
    allowed: list[Expr] = []
    otherwise_may = False
    try:
        for sentence in sentences:
            body_text = text[sentence.start : sentence.end]
            if sentence.opener is Opener.MAY_OTHERWISE:
                otherwise_may = True
            elif sentence.opener is Opener.NOT_PRESENT_OTHERWISE:
                pass  # the default of PS3.5 §7.4.2/§7.4.4, said again
            elif sentence.opener is Opener.UNDECIDABLE:
                reason = (
                    UndecidableReason.PROSE_ELSEWHERE
                    if any(t.kind is Kind.SECTION for t in sentence.body)
                    else UndecidableReason.NO_ATTRIBUTE
                )
                required.append(Undecidable(body_text, reason))
            elif sentence.opener is Opener.MUTUALLY_EXCLUSIVE:
                parser = _ExprParser(sentence.body, index, text)
                path, _ = parser.reference(None)
                if parser.pos != len(sentence.body):
                    raise _Unreadable(f"cannot read {body_text!r}")
                required.append(Absent(path))
                forbidden.append(Present(path))
            else:
                expr = _ExprParser(sentence.body, index, text).parse()
                {
                    Opener.REQUIRED: required,
                    Opener.NOT_PRESENT: forbidden,
                    Opener.MAY_IF: allowed,
                }[sentence.opener].append(expr)
    except (_Unreadable, _Fail) as problem:
        return Unparsed(source, f"{problem or 'no known form'}{where}")
    if not required:
        # "Shall not be present if …" alone: when it is required is said elsewhere (module
        # prose), so that half is undecidable here while the stated half stays checkable.
        required.append(Undecidable(source, UndecidableReason.NOT_STATED))
    return Condition(
        text=source,
        required_if=_combine(required),
        not_present_if=_combine(forbidden),
        may_be_present_if=_combine(allowed),
        otherwise_may_be_present=otherwise_may,
    )
