"""Split condition prose into raw tokens: tags, coded triplets, quoted literals, UIDs, words.

Theory of operation
-------------------
* One ordered list of patterns, tried at each position; the first that matches wins.  Order
  matters: a coded triplet ``(111759, DCM, "Posterior …")`` must be tried before the tag
  pattern and the plain parenthesis, a UID before a number, ``e.g.`` before a word.
* Whitespace is skipped; any character no pattern accepts becomes a one-character ``PUNCT``
  token, so the lexer never fails (the parser decides what is acceptable).
* Tags are read leniently, as NEMA's prose writes them: ``(0008,0068)``, ``(0008.0068)``,
  ``(0062, 000D)``, a missing parenthesis (``0020,9167)``, ``(0018,9170equals``), and ``xx``
  in repeating groups (read as ``00``).
"""

from __future__ import annotations

import enum
import re

import attrs

from dicompile.generator.conditions.ast import CodedValue


class Kind(enum.Enum):
    TAG = "tag"
    CODE = "code"
    QUOTED = "quoted"
    UID = "uid"
    NUMBER = "number"
    SECTION = "section"
    WORD = "word"
    PUNCT = "punct"
    # Produced by ``tokens.resolve`` from the kinds above:
    REF = "ref"  # an attribute reference: name and tag, or a name alone
    CONCEPT = "concept"  # "the code value" of a Code Sequence Item (PS3.3 §8.8)


@attrs.frozen
class RawToken:
    kind: Kind
    text: str  # the source text of the token
    start: int
    end: int
    tag: int | None = None
    code: CodedValue | None = None
    by_name: bool = False  # REF only: resolved from its name, no tag written

    @property
    def lower(self) -> str:
        """The case-folded text phrases are matched against; a section reference is "section"."""
        if self.kind is Kind.SECTION:
            return "section"
        return self.text.casefold().replace("\u2019", "'")

    @property
    def literal(self) -> str:
        """The text without quotes (for QUOTED) or as written."""
        if self.kind is Kind.QUOTED:
            return self.text[1:-1].strip()
        return self.text


_HEX = r"[0-9A-Fa-fxX]{4}"
_QUOTE_OPEN = '"\u201c'
_QUOTE_CLOSE = '"\u201d'
_PATTERNS: tuple[tuple[Kind | None, re.Pattern[str]], ...] = (
    (None, re.compile(r"\s+")),
    # (value, scheme, "meaning"): the meaning is quoted, the first two are bare.
    (
        Kind.CODE,
        re.compile(
            rf"\(\s*([^(),{_QUOTE_OPEN}]+?)\s*,\s*([^(),{_QUOTE_OPEN}]+?)\s*,\s*"
            rf"[{_QUOTE_OPEN}]([^{_QUOTE_CLOSE}]*)[{_QUOTE_CLOSE}]\s*\)"
        ),
    ),
    (Kind.TAG, re.compile(rf"\(\s*({_HEX})\s*[,.]\s*({_HEX})\s*\)?")),
    (Kind.TAG, re.compile(rf"\b({_HEX})\s*,\s*({_HEX})\s*\)")),
    (Kind.QUOTED, re.compile(rf"[{_QUOTE_OPEN}][^{_QUOTE_CLOSE}]*[{_QUOTE_CLOSE}]")),
    (Kind.SECTION, re.compile(r"(?:Sections?|section)\s+(?:[A-Z](?:\.\d+)+|\d+(?:\.\d+)*)")),
    (Kind.SECTION, re.compile(r"\b[A-Z](?:\.\d+){2,}")),
    (Kind.WORD, re.compile(r"(?:e\.g\.|i\.e\.)")),
    (Kind.UID, re.compile(r"\d+(?:\.\d+){2,}")),
    (Kind.WORD, re.compile(r"\d+:\d+")),
    (Kind.NUMBER, re.compile(r"[-+]?\d+(?:\.\d+)?(?![\w'])")),
    (Kind.WORD, re.compile(r"[^\W_][\w'\u2019/+-]*[\w']|[^\W_]")),
)


def _tag(group: str, element: str) -> int:
    return int((group + element).lower().replace("x", "0"), 16)


def scan(text: str) -> list[RawToken]:
    """The raw tokens of ``text``.

    References
    ----------
    PS3.5 §7.1 (tags written as (gggg,eeee)); PS3.3 §8.8 (coded triplets).
    """
    tokens: list[RawToken] = []
    position = 0
    while position < len(text):
        for kind, pattern in _PATTERNS:
            match = pattern.match(text, position)
            if match is None or match.end() == position:
                continue
            if kind is Kind.TAG:
                tokens.append(
                    RawToken(kind, match.group(0), position, match.end(), tag=_tag(*match.groups()))
                )
            elif kind is Kind.CODE:
                first, second, meaning = (g.strip() for g in match.groups())
                # ERRATUM-like tolerance: PS3.3 2020 once writes (DCM, 111759, "…"),
                # scheme first; a designator is letters, a value usually is not.
                if first.isalpha() and not second.isalpha():
                    first, second = second, first
                code = CodedValue(value=first, scheme=second, meaning=meaning)
                tokens.append(RawToken(kind, match.group(0), position, match.end(), code=code))
            elif kind is not None:
                tokens.append(RawToken(kind, match.group(0), position, match.end()))
            position = match.end()
            break
        else:
            tokens.append(RawToken(Kind.PUNCT, text[position], position, position + 1))
            position += 1
    return tokens


def fold(texts: list[str] | tuple[str, ...]) -> str:
    """A key for comparing names regardless of case, hyphens, spaces and apostrophes."""
    return re.sub(r"[^0-9a-z]", "", "".join(texts).casefold())
