"""PersonName: PS3.5 §6.2.1 examples, exact round trips, components, equality, problems."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicompile.runtime.core.values import ComponentGroup, PersonName, ProblemKind

# PS3.5 §6.2.1.1 examples (2013 text): name, then the components it holds.
EXAMPLES = [
    ("Adams^John Robert Quincy^^Rev.^B.A. M.Div.", ("Adams", "John Robert Quincy", "", "Rev.",
                                                    "B.A. M.Div.")),
    ("Morrison-Jones^Susan^^^Ph.D., Chief Executive Officer", ("Morrison-Jones", "Susan", "", "",
                                                              "Ph.D., Chief Executive Officer")),
    ("Doe^John", ("Doe", "John", "", "", "")),
    ("Smith^Fluffy", ("Smith", "Fluffy", "", "", "")),
    ("ABC Farms^Running on Water", ("ABC Farms", "Running on Water", "", "", "")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "components"), EXAMPLES)
def test_standard_examples(text: str, components: tuple[str, ...]) -> None:
    name = PersonName(text)
    assert name.alphabetic.components == components
    assert (
        name.family_name,
        name.given_name,
        name.middle_name,
        name.name_prefix,
        name.name_suffix,
    ) == components
    assert str(name) == text
    assert PersonName.from_components(*components).text == text


def test_three_groups_of_annex_h() -> None:
    # PS3.5 H.3.1: alphabetic, ideographic and phonetic groups.
    name = PersonName("Yamada^Tarou=山田^太郎=やまだ^たろう")
    assert name.alphabetic == ComponentGroup("Yamada", "Tarou")
    assert name.ideographic == ComponentGroup("山田", "太郎")
    assert name.phonetic == ComponentGroup("やまだ", "たろう")
    assert name.group_texts == ("Yamada^Tarou", "山田^太郎", "やまだ^たろう")


def test_absent_first_group_and_trailing_delimiters_kept() -> None:
    # PS3.5 §6.2 PN: "the person name may start with one or more '=' delimiters"; Annex J.1
    # ends with an empty phonetic group "=".
    name = PersonName("=山田^太郎")
    assert name.alphabetic.is_empty
    assert name.ideographic.family == "山田"
    assert str(PersonName("Wang^XiaoDong=王^小東=")) == "Wang^XiaoDong=王^小東="
    assert str(PersonName("Doe^John^^^")) == "Doe^John^^^"


def test_equality_ignores_what_the_standard_calls_insignificant() -> None:
    assert PersonName("Doe^John") == PersonName("Doe^John^^^")
    assert PersonName("Doe^John") == PersonName("Doe^John==")
    assert PersonName("Doe^John") == PersonName(" Doe ^John ")  # leading/trailing spaces
    assert PersonName("Doe^John") == "Doe^John^"
    assert PersonName("Doe^John") != PersonName("John^Doe")
    assert PersonName("Doe^^John") != PersonName("Doe^John")
    assert hash(PersonName("Doe^John")) == hash(PersonName("Doe^John^^^"))
    assert len({PersonName("Doe^John"), PersonName("Doe^John^"), PersonName("Roe")}) == 2


def test_from_groups_and_delimiter_checks() -> None:
    name = PersonName.from_groups(None, ("山田", "太郎"), "やまだ^たろう")
    assert name.text == "=山田^太郎=やまだ^たろう"
    assert PersonName.from_components("Doe", ideographic="ドウ").text == "Doe=ドウ"
    assert PersonName.from_components().text == ""
    assert not PersonName.from_components()
    with pytest.raises(ValueError, match="delimiter"):
        PersonName.from_components("Doe^Smith")
    with pytest.raises(ValueError, match="'='"):
        PersonName.from_groups("A=B")
    with pytest.raises(ValueError, match="at most 5"):
        PersonName.from_groups(("a", "b", "c", "d", "e", "f"))


def test_problems() -> None:
    assert PersonName("Doe^John").problems() == []
    kinds = {p.kind for p in PersonName("a=b=c=d").problems()}
    assert ProblemKind.MULTIPLICITY in kinds
    assert PersonName("a^b^c^d^e^f").alphabetic.suffix == "e^f"  # nothing is lost
    assert {p.kind for p in PersonName("a^b^c^d^e^f").problems()} == {ProblemKind.MULTIPLICITY}
    # 64 characters per group, the group delimiter included (PS3.5 §6.2.1.2).
    assert PersonName("x" * 64).problems() == []
    assert PersonName("x" * 63 + "=y").problems() == []
    assert [p.kind for p in PersonName("x" * 64 + "=y").problems()] == [ProblemKind.TOO_LONG]
    assert [p.kind for p in PersonName("Doe\r\nJohn").problems()] == [ProblemKind.BAD_CHARACTER]


COMPONENT = st.text(
    st.characters(blacklist_characters="^=\\", blacklist_categories=["Cs"]), max_size=8
)


@given(st.lists(st.lists(COMPONENT, max_size=6).map("^".join), max_size=4).map("=".join))
def test_text_round_trips_exactly(text: str) -> None:
    name = PersonName(text)
    assert str(name) == text
    assert name == PersonName(text)
    if text.count("=") <= 2 and all(g.count("^") <= 4 for g in text.split("=")):
        rebuilt = PersonName.from_groups(*(group.components for group in name.groups))
        assert rebuilt == name


@given(st.lists(COMPONENT, max_size=5), st.lists(COMPONENT, max_size=5))
def test_from_components_parses_back(alphabetic: list[str], ideographic: list[str]) -> None:
    name = PersonName.from_groups(alphabetic, ideographic)
    reread = PersonName(name.text)
    assert reread.alphabetic.components[: len(alphabetic)] == tuple(alphabetic)
    assert reread.ideographic.components[: len(ideographic)] == tuple(ideographic)
    assert not name.text.endswith("^") and not name.text.endswith("=")


def test_components_agree_with_pydicom() -> None:
    pydicom_valuerep = pytest.importorskip("pydicom.valuerep")
    for text in [e[0] for e in EXAMPLES] + [
        "Yamada^Tarou=山田^太郎=やまだ^たろう",
        "=a^b",
        "a^^^^e",
    ]:
        theirs = pydicom_valuerep.PersonName(text)
        ours = PersonName(text)
        assert (ours.family_name, ours.given_name, ours.middle_name) == (
            theirs.family_name,
            theirs.given_name,
            theirs.middle_name,
        )
        assert (ours.name_prefix, ours.name_suffix) == (theirs.name_prefix, theirs.name_suffix)
        assert ours.ideographic.format() == theirs.ideographic
        assert ours.phonetic.format() == theirs.phonetic
