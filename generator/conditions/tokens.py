"""Turn raw tokens into the parser's tokens: attribute references resolved to tags.

Theory of operation
-------------------
* A written tag ``(0008,9007)`` absorbs the words of the attribute's name in front of it
  ("Frame Type (0008,9007)" is one ``REF``).  The name is taken from the index when the words
  match it (ignoring case, hyphens and spaces); when the prose spells the name differently
  ("Multi Planar Reconstruction Style"), the run of capitalised words before the tag is taken.
  Either way the tag, not the words, decides which attribute is meant.
* A name written without a tag ("Number of Frames is greater than 1") is matched against the
  index, longest name first, only where the prose capitalises it; a one-word name
  ("Modality") only when a verb follows, so that ordinary words are not taken for attributes.
* "the code value" (lower case, no tag) is the Code Sequence Item's code value whichever
  attribute carries it (PS3.3 §8.8), not the attribute Code Value (0008,0100): it becomes a
  ``CONCEPT`` token.
"""

from __future__ import annotations

from dicompile.generator.conditions.lexer import Kind, RawToken, fold
from dicompile.generator.conditions.names import NameIndex

_NAME_KINDS = frozenset({Kind.WORD, Kind.NUMBER, Kind.PUNCT})
_MAX_FALLBACK_WORDS = 8
_NAME_JOINERS = frozenset({"of", "in", "for", "to"})
_ONE_WORD_FOLLOWERS = frozenset({"is", "=", "equals", "value", "has", "exists", "are"})
_NEVER_ONE_WORD = frozenset({"item", "reference", "location", "plane", "units", "date", "time"})
_STOP_WORDS = frozenset(
    {"if", "and", "or", "the", "of", "is", "not", "required", "a", "an", "either", "neither"}
)


def _capitalised(token: RawToken) -> bool:
    return token.kind in (Kind.WORD, Kind.NUMBER) and (
        token.text[0].isupper() or token.text[0].isdigit()
    )


def _name_before(previous: list[RawToken], tag: int, names: NameIndex) -> int:
    """How many tokens before a tag spell the attribute's name (0 if none)."""
    name = names.name_of(tag)
    if name:
        key = fold([name])
        for count in range(1, min(len(previous), 16) + 1):
            window = previous[-count:]
            if window[0].kind not in _NAME_KINDS or any(t.kind not in _NAME_KINDS for t in window):
                break
            if fold([t.text for t in window]) == key:
                return count
    # Fallback: the run of capitalised words (and "of", "in" between them) before the tag,
    # as in "Multi Planar Reconstruction Style" or "Patient's Alternative Death Date in
    # Calendar"; it must start with a capitalised word.
    count = 0
    taken = 0
    while count < min(len(previous), _MAX_FALLBACK_WORDS):
        token = previous[-1 - count]
        if _capitalised(token) and token.lower not in _STOP_WORDS:
            count += 1
            taken = count
        elif token.lower in _NAME_JOINERS and count > 0:
            count += 1
        else:
            break
    return taken


def _name_at(tokens: list[RawToken], i: int, names: NameIndex) -> tuple[int, int] | None:
    """(tokens used, tag) of the longest attribute name spelled from ``tokens[i]``, if any."""
    first = tokens[i]
    if not _capitalised(first):
        return None
    for words, entry in names.candidates(fold([first.text])):
        used = 0
        matched: list[str] = []
        j = i
        while j < len(tokens) and len(matched) < len(words):
            token = tokens[j]
            if token.kind is Kind.PUNCT and token.text in "()":
                j += 1
                continue
            if token.kind not in (Kind.WORD, Kind.NUMBER):
                break
            matched.append(fold([token.text]))
            j += 1
        used = j - i
        if tuple(matched) != words:
            continue
        spelled = " ".join(t.text for t in tokens[i : i + used])
        if spelled.isupper() and not entry.name.isupper():
            continue  # "CODE" is a value, not the attribute "Code"
        if len(words) == 1:
            follower = tokens[i + used].lower if i + used < len(tokens) else ""
            if follower not in _ONE_WORD_FOLLOWERS or words[0] in _NEVER_ONE_WORD:
                continue
        if i + used < len(tokens) and tokens[i + used].kind is Kind.TAG:
            continue  # the tag pass will decide
        return used, entry.tag
    return None


def resolve(raw: list[RawToken], names: NameIndex, text: str) -> list[RawToken]:
    """The parser's tokens: ``REF`` for every attribute reference, ``CONCEPT`` for "the code value".

    References
    ----------
    PS3.6 Table 6-1 (names and tags); PS3.3 §8.8 (Code Sequence Macro).
    """
    tagged: list[RawToken] = []
    for token in raw:
        if token.kind is Kind.TAG and token.tag is not None:
            count = _name_before(tagged, token.tag, names)
            start = tagged[-count].start if count else token.start
            del tagged[len(tagged) - count :]
            tagged.append(
                RawToken(Kind.REF, text[start : token.end], start, token.end, tag=token.tag)
            )
        else:
            tagged.append(token)
    out: list[RawToken] = []
    i = 0
    while i < len(tagged):
        token = tagged[i]
        if (
            token.lower == "the"
            and i + 2 < len(tagged)
            and (tagged[i + 1].lower, tagged[i + 2].lower) == ("code", "value")
            and (i + 3 >= len(tagged) or tagged[i + 3].kind is not Kind.REF)
        ):
            end = tagged[i + 2].end
            out.append(RawToken(Kind.CONCEPT, text[token.start : end], token.start, end))
            i += 3
            continue
        found = _name_at(tagged, i, names) if token.kind is Kind.WORD else None
        if found is not None:
            used, tag = found
            end = tagged[i + used - 1].end
            out.append(
                RawToken(Kind.REF, text[token.start : end], token.start, end, tag=tag, by_name=True)
            )
            i += used
            continue
        out.append(token)
        i += 1
    return out
