"""Tests of the DocBook reader's common layer on hand-written snippets and the real parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicompile.generator.sources.docbook.common import (
    body_rows,
    check_columns,
    load_part,
    normalise_text,
)
from dicompile.runtime.errors import StandardSourceError

SNIPPET = """<?xml version="1.0" encoding="utf-8"?>
<book xmlns="http://docbook.org/ns/docbook" xml:id="PS3.99">
  <subtitle>DICOM PS3.99 2021b - Test Part</subtitle>
  <section xml:id="dup"><title>first</title></section>
  <section xml:id="dup"><title>second</title></section>
  <table xml:id="table_X-1">
    <thead><tr><th><para>A</para></th><th><para>B</para></th><th><para>C</para></th></tr></thead>
    <tbody>
      <tr><td rowspan="2"><para>a1</para></td><td colspan="2"><para>b\u200bc <emphasis
        role="italic">1</emphasis></para></td></tr>
      <tr><td><para>b2</para></td><td><para>c2</para></td></tr>
    </tbody>
  </table>
</book>
"""


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    path = tmp_path / "2021b" / "part99.xml"
    path.parent.mkdir()
    path.write_text(SNIPPET.replace("\\u200b", "\u200b"), encoding="utf-8")
    return path


def test_edition_and_duplicate_ids(snippet: Path) -> None:
    part = load_part(snippet)
    assert (part.part, part.edition) == ("PS3.99", "2021b")
    assert part.duplicate_ids == ("dup",)
    # The first definition wins.
    assert part.element("dup").findtext("{http://docbook.org/ns/docbook}title") == "first"
    assert part.source_file == "2021b/part99.xml"


def test_spans_are_expanded_and_text_normalised(snippet: Path) -> None:
    rows = body_rows(load_part(snippet).table("table_X-1"))
    assert [row.texts() for row in rows] == [["a1", "bc 1", "bc 1"], ["a1", "b2", "c2"]]
    assert rows[1].cells[0].spanned and not rows[0].cells[0].spanned
    assert rows[0].cells[1].italic is False


def test_missing_table_and_changed_columns_name_the_table(snippet: Path) -> None:
    part = load_part(snippet)
    with pytest.raises(StandardSourceError, match=r"2021b/part99.xml, table table_Y-1"):
        part.table("table_Y-1")
    with pytest.raises(StandardSourceError, match="columns changed"):
        check_columns(part, "table_X-1", ["A", "C"])
    assert check_columns(part, "table_X-1", ["a", "b"]) == ["A", "B", "C"]


def test_bad_xml_is_a_standard_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "part06.xml"
    bad.write_text("<book><subtitle>DICOM PS3.6 2013</subtitle>", encoding="utf-8")
    with pytest.raises(StandardSourceError, match="cannot parse"):
        load_part(bad)


def test_normalise_text() -> None:
    assert normalise_text(" Length\u200bTo\u00a0End \n x") == "LengthTo End x"


def test_real_parts_editions(xml_2013: Path, part03_2016c: Path) -> None:
    assert load_part(xml_2013 / "part06.xml").edition == "2013"
    ps33 = load_part(part03_2016c)
    assert (ps33.part, ps33.edition) == ("PS3.3", "2016c")
    # The excerpt defines 102 ids twice (shared/README.md); the reader reports, not refuses.
    assert len(ps33.duplicate_ids) == 102
