"""Person Name (PN) values: three component groups of five components (PS3.5 §6.2.1).

A PN value is ``alphabetic=ideographic=phonetic``; each group is
``family^given^middle^prefix^suffix``.  Trailing empty components and groups and their
delimiters may be omitted, interior ones need their delimiters.  :class:`PersonName`
keeps the text exactly as written (``str(pn)`` gives it back byte for byte, trailing
``^`` and ``=`` included) and parses the groups on first use.  Equality follows the
standard's meaning: trailing empty components and groups, and leading or trailing spaces
within components, are not significant (§6.2 Table 6.2-1, PN).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from dicompile.runtime.core.values.problems import ProblemKind, ValueProblem

#: Delimiters of PN: component groups, components (PS3.5 §6.2.1.1, §6.2.1.2).
GROUP_DELIMITER: Final = "="
COMPONENT_DELIMITER: Final = "^"
#: Maximum characters of one component group, delimiter included (PS3.5 §6.2.1.2).
MAX_GROUP_LENGTH: Final = 64

_COMPONENT_NAMES: Final = ("family", "given", "middle", "prefix", "suffix")
_GROUP_NAMES: Final = ("alphabetic", "ideographic", "phonetic")


def _check_component(name: str, value: str) -> None:
    for delimiter in ("^", "=", "\\"):
        if delimiter in value:
            raise ValueError(
                f"PN {name} component {value!r} contains the delimiter {delimiter!r} "
                "(PS3.5 §6.2, Table 6.2-1 PN)"
            )


@attrs.frozen
class ComponentGroup:
    """One component group of a person name: five components, each possibly empty.

    References
    ----------
    PS3.5 §6.2 Table 6.2-1 (PN), §6.2.1.1 (component order).
    """

    family: str = ""
    given: str = ""
    middle: str = ""
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def parse(cls, text: str) -> ComponentGroup:
        """Read ``family^given^middle^prefix^suffix``; components past the fifth are
        joined into the suffix with ``^`` so nothing is lost (see :meth:`PersonName.problems`).
        """
        parts = text.split(COMPONENT_DELIMITER)
        if len(parts) > 5:
            parts = [*parts[:4], COMPONENT_DELIMITER.join(parts[4:])]
        return cls(*parts)

    @property
    def components(self) -> tuple[str, str, str, str, str]:
        return (self.family, self.given, self.middle, self.prefix, self.suffix)

    @property
    def is_empty(self) -> bool:
        return not any(self.components)

    def format(self) -> str:
        """The shortest text: trailing empty components and their delimiters omitted."""
        parts = list(self.components)
        while parts and not parts[-1]:
            parts.pop()
        return COMPONENT_DELIMITER.join(parts)

    def normalized(self) -> tuple[str, ...]:
        """Components without insignificant spaces and without trailing empties."""
        parts = [part.strip(" ") for part in self.components]
        while parts and not parts[-1]:
            parts.pop()
        return tuple(parts)


_EMPTY_GROUP: Final = ComponentGroup()


def _as_group(value: ComponentGroup | str | Sequence[str] | None) -> ComponentGroup:
    if value is None:
        return _EMPTY_GROUP
    if isinstance(value, ComponentGroup):
        group = value
    elif isinstance(value, str):
        if GROUP_DELIMITER in value:
            raise ValueError(f"a PN component group cannot contain '=': {value!r}")
        group = ComponentGroup.parse(value)
    else:
        if len(value) > 5:
            raise ValueError(f"a PN component group has at most 5 components, got {len(value)}")
        group = ComponentGroup(*value)
    for name, component in zip(_COMPONENT_NAMES, group.components, strict=True):
        _check_component(name, component)
    return group


class PersonName:
    """A PN value that keeps its exact text and exposes its groups and components.

    ``PersonName("Adams^John Robert Quincy^^Rev.^B.A. M.Div.")``: ``.family_name`` is
    ``"Adams"``, ``.alphabetic`` the first :class:`ComponentGroup`, ``str()`` the text.

    References
    ----------
    PS3.5 §6.2 Table 6.2-1 (PN), §6.2.1 (examples, component groups), Annexes H-J.
    """

    __slots__ = ("_groups", "text")

    text: str
    _groups: tuple[ComponentGroup, ComponentGroup, ComponentGroup] | None

    def __init__(self, text: str) -> None:
        self.text = text
        self._groups = None

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_components(
        cls,
        family: str = "",
        given: str = "",
        middle: str = "",
        prefix: str = "",
        suffix: str = "",
        *,
        ideographic: ComponentGroup | str | Sequence[str] | None = None,
        phonetic: ComponentGroup | str | Sequence[str] | None = None,
    ) -> PersonName:
        """The name with these alphabetic components (and optional other groups), written
        in the shortest form the standard allows (trailing empties omitted)."""
        alphabetic = _as_group((family, given, middle, prefix, suffix))
        return cls.from_groups(alphabetic, ideographic, phonetic)

    @classmethod
    def from_groups(
        cls,
        alphabetic: ComponentGroup | str | Sequence[str] | None = None,
        ideographic: ComponentGroup | str | Sequence[str] | None = None,
        phonetic: ComponentGroup | str | Sequence[str] | None = None,
    ) -> PersonName:
        """The name made of up to three component groups (each a :class:`ComponentGroup`,
        its ``^``-delimited text, or a sequence of up to five components)."""
        groups = (_as_group(alphabetic), _as_group(ideographic), _as_group(phonetic))
        texts = [group.format() for group in groups]
        while texts and not texts[-1]:
            texts.pop()
        name = cls(GROUP_DELIMITER.join(texts))
        name._groups = groups
        return name

    # --- views --------------------------------------------------------------------------

    @property
    def group_texts(self) -> tuple[str, ...]:
        """The raw text of each component group as written (1 to 3 entries, or more when
        the value is malformed)."""
        return tuple(self.text.split(GROUP_DELIMITER))

    @property
    def groups(self) -> tuple[ComponentGroup, ComponentGroup, ComponentGroup]:
        """Alphabetic, ideographic and phonetic groups; absent groups are empty."""
        if self._groups is None:
            texts = self.text.split(GROUP_DELIMITER)
            parsed = [ComponentGroup.parse(text) if text else _EMPTY_GROUP for text in texts[:3]]
            parsed += [_EMPTY_GROUP] * (3 - len(parsed))
            self._groups = (parsed[0], parsed[1], parsed[2])
        return self._groups

    @property
    def alphabetic(self) -> ComponentGroup:
        return self.groups[0]

    @property
    def ideographic(self) -> ComponentGroup:
        return self.groups[1]

    @property
    def phonetic(self) -> ComponentGroup:
        return self.groups[2]

    @property
    def family_name(self) -> str:
        return self.groups[0].family

    @property
    def given_name(self) -> str:
        return self.groups[0].given

    @property
    def middle_name(self) -> str:
        return self.groups[0].middle

    @property
    def name_prefix(self) -> str:
        return self.groups[0].prefix

    @property
    def name_suffix(self) -> str:
        return self.groups[0].suffix

    @property
    def is_empty(self) -> bool:
        return all(group.is_empty for group in self.groups)

    def normalized(self) -> tuple[tuple[str, ...], ...]:
        """The name's meaning: per group the significant components, trailing empties gone."""
        groups = [group.normalized() for group in self.groups]
        while groups and not groups[-1]:
            groups.pop()
        return tuple(groups)

    def problems(self) -> list[ValueProblem]:
        """Structural problems of the text: more than three groups or five components, a
        group longer than 64 characters, characters PN does not allow.

        References
        ----------
        PS3.5 Table 6.2-1 (PN: no backslash, no CR/LF/FF), §6.2.1.2 (64 characters per
        group, delimiter included).
        """
        found: list[ValueProblem] = []
        texts = self.text.split(GROUP_DELIMITER)
        if len(texts) > 3:
            found.append(
                ValueProblem(
                    ProblemKind.MULTIPLICITY,
                    f"{len(texts)} component groups; PN has at most 3",
                    reference="PS3.5 §6.2.1.2",
                )
            )
        for number, text in enumerate(texts):
            group_name = _GROUP_NAMES[number] if number < 3 else f"group {number + 1}"
            if text.count(COMPONENT_DELIMITER) > 4:
                found.append(
                    ValueProblem(
                        ProblemKind.MULTIPLICITY,
                        f"{group_name} group has {text.count(COMPONENT_DELIMITER) + 1} "
                        "components; PN has at most 5",
                    )
                )
            # The delimiter that ends a group counts toward its 64 characters.
            length = len(text) + (1 if number < len(texts) - 1 else 0)
            if length > MAX_GROUP_LENGTH:
                found.append(
                    ValueProblem(
                        ProblemKind.TOO_LONG,
                        f"{group_name} group has {length} characters; at most 64",
                        reference="PS3.5 §6.2.1.2",
                    )
                )
        bad = sorted({ch for ch in self.text if ch in "\\\r\n\x0c" or ch < " " or ch == "\x7f"})
        if bad:
            found.append(
                ValueProblem(
                    ProblemKind.BAD_CHARACTER,
                    "characters not allowed in PN: " + ", ".join(repr(ch) for ch in bad),
                )
            )
        return found

    # --- value semantics ----------------------------------------------------------------

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"PersonName({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PersonName):
            return self.text == other.text or self.normalized() == other.normalized()
        if isinstance(other, str):
            return self.text == other or self.normalized() == PersonName(other).normalized()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.normalized())

    def __bool__(self) -> bool:
        return not self.is_empty
