"""Pass: give every UID a keyword, derived from its name where the source has none.

PS3.6 of 2013 has no "UID Keyword" column in Table A-1 (later editions added one).  The
keywords derived here follow the convention those editions use:

* the words of the name, each capitalised, concatenated: "CT Image Storage" → ``CTImageStorage``;
  letters after the first keep their case ("XA/XRF" → ``XAXRF``, "Multi-frame" → ``MultiFrame``);
* "(Retired)" and a comment after ':' are not part of the name ("Implicit VR Little Endian:
  Default Transfer Syntax for DICOM" → ``ImplicitVRLittleEndian``); '&' reads "and";
* the class words are dropped as the later keyword column drops them: "SOP Class" (a
  "Meta SOP Class" keeps ``Meta``), "Service Class", "Frame of Reference"; "SOP Instance"
  becomes ``Instance``;
* the operation of a Query/Retrieve model is a word: "- FIND" → ``Find`` (also MOVE, GET);
* a name that is already an identifier ("dicomDeviceName", the LDAP OIDs) is kept as it is;
* a leading number is spelled out ("12-lead ECG ..." → ``TwelveLeadECG...``).

Keywords must be unique.  They are given in UID order, current UIDs before retired ones; a
retired UID whose keyword is taken gets the suffix ``Retired``, and any remaining clash a number
(``2``, ``3``, ...) after that.  Each such clash is reported as a ``KEYWORD_CLASH`` conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from dicompile.generator.model import Conflict, ConflictKind, StandardModel, UIDDef

_RETIRED = re.compile(r"\s*\(Retired\)")
_CLASS_WORDS: Sequence[tuple[re.Pattern[str], str]] = (
    (re.compile(r"\bMeta SOP Class\b"), "Meta"),
    (re.compile(r"\bSOP Class\b"), ""),
    (re.compile(r"\bSOP Instance\b"), "Instance"),
    (re.compile(r"\bService Class\b"), ""),
    (re.compile(r"\bFrame of Reference\b"), ""),
)
# The DIMSE operations in Query/Retrieve model names ("- FIND") read as words in later keywords.
_DIMSE_WORDS = {"FIND": "Find", "MOVE": "Move", "GET": "Get"}
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_WORD = re.compile(r"[A-Za-z0-9]+")
_LEADING_NUMBER = re.compile(r"\d+")
_ONES = (
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
)
_TENS = (
    "Twenty",
    "Thirty",
    "Forty",
    "Fifty",
    "Sixty",
    "Seventy",
    "Eighty",
    "Ninety",
)


def spell_number(number: int) -> str:
    """``12`` → ``Twelve``, ``45`` → ``FortyFive``; larger numbers as ``N123``."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens - 2] + (_ONES[ones] if ones else "")
    return f"N{number}"


def keyword_from_name(name: str, *, drop_class_words: bool = True) -> str:
    """Derive a keyword from a registry name (see the module's docstring for the rules).

    Returns ``""`` for a name with no letters or digits.

    References
    ----------
    PS3.6 §6 (keywords of data elements, the model for UID keywords), Annex A, Table A-1.
    """
    text = _RETIRED.sub("", name).split(":", 1)[0].strip()
    if _IDENTIFIER.fullmatch(text):
        return text
    text = text.replace("&", " and ")
    if drop_class_words:
        for pattern, replacement in _CLASS_WORDS:
            text = pattern.sub(replacement, text)
    words = [_DIMSE_WORDS.get(word, word) for word in _WORD.findall(text)]
    keyword = "".join(word[0].upper() + word[1:] for word in words)
    leading = _LEADING_NUMBER.match(keyword)
    if leading:
        keyword = spell_number(int(leading[0])) + keyword[leading.end() :]
    return keyword


def unique_keywords(
    items: Sequence[tuple[str, str, bool]], taken: Iterable[str] = ()
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Make keywords unique: ``items`` are ``(key, wanted keyword, retired)`` in priority order.

    Current items claim their keyword before retired ones.  Returns the keyword per key and
    the clashes as ``(key, wanted, given)``.
    """
    used = set(taken)
    given: dict[str, str] = {}
    clashes: list[tuple[str, str, str]] = []
    ordered = [i for i in items if not i[2]] + [i for i in items if i[2]]
    for key, wanted, retired in ordered:
        if not wanted:
            given[key] = ""
            continue
        base = f"{wanted}Retired" if wanted in used and retired else wanted
        keyword, number = base, 2
        while keyword in used:
            keyword = f"{base}{number}"
            number += 1
        used.add(keyword)
        given[key] = keyword
        if keyword != wanted:
            clashes.append((key, wanted, keyword))
    return given, clashes


def name_uid_keywords(model: StandardModel) -> StandardModel:
    """Return ``model`` with a unique keyword for every UID.

    Keywords given by the source are kept; the others are derived with
    :func:`keyword_from_name`.

    References
    ----------
    PS3.6 Annex A, Table A-1.
    """
    by_uid = {uid.uid: uid for uid in model.uids}
    wanted = [
        (uid.uid, uid.keyword or keyword_from_name(uid.name), uid.retired) for uid in model.uids
    ]
    given, clashes = unique_keywords(wanted)
    conflicts = [
        _clash(by_uid[key], by_uid, wanted_keyword, keyword, given)
        for key, wanted_keyword, keyword in clashes
    ]
    return attrs.evolve(
        model,
        uids=tuple(attrs.evolve(uid, keyword=given[uid.uid]) for uid in model.uids),
        conflicts=(*model.conflicts, *conflicts),
    )


def _clash(
    uid: UIDDef, by_uid: dict[str, UIDDef], wanted: str, keyword: str, given: dict[str, str]
) -> Conflict:
    holder = next(other for key, other in by_uid.items() if given[key] == wanted)
    return Conflict(
        kind=ConflictKind.KEYWORD_CLASH,
        item=uid.uid,
        field="keyword",
        kept_value=keyword,
        other_value=wanted,
        kept=uid.provenance,
        other=holder.provenance,
    )
