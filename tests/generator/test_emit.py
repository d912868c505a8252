"""Emitters: layout helpers, headers, and formatted, lint-clean output (checked with ruff)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dicompile.generator.emit import pyfmt
from dicompile.generator.emit.dictionary import MAX_ENTRIES_PER_MODULE, chunks
from dicompile.generator.emit.render import citation_constants, header, sources_used
from dicompile.generator.model import (
    DataElementDef,
    Provenance,
    SourceDigest,
    TagPattern,
)
from dicompile.generator.pipeline import generate

REPO = Path(__file__).resolve().parents[2]
FIXTURE_DIR = Path(__file__).parent / "fixtures" / "part06"


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("Patient's Name", '"Patient\'s Name"'),
        ('say "x"', "'say \"x\"'"),
        ("a\\b", '"a\\\\b"'),
        ("Exposure in µAs", '"Exposure in µAs"'),
    ],
)
def test_py_str(text: str, literal: str) -> None:
    assert pyfmt.py_str(text) == literal
    assert eval(literal) == text


def test_call_lines_split_like_ruff() -> None:
    short = pyfmt.call_lines("", "f", ["a", 1, True])
    assert short == ['f("a", 1, True)']
    hugged = pyfmt.call_lines("x = ", "f", ["a" * 45, "b" * 45], suffix="")
    assert hugged == ["x = f(", f'    "{"a" * 45}", "{"b" * 45}"', ")"]
    exploded = pyfmt.call_lines("x = ", "f", ["a" * 60, "b" * 60])
    assert exploded[1:3] == [f'    "{"a" * 60}",', f'    "{"b" * 60}",']


def test_assign_line_parenthesises_only_when_it_helps() -> None:
    assert pyfmt.assign_line("A: Final", "1.2") == ['A: Final = "1.2"']
    long_name = "K" * 80
    assert pyfmt.assign_line(f"{long_name}: Final", "1.2.840.10008.5.1.4.1.1.2") == [
        f"{long_name}: Final = (",
        '    "1.2.840.10008.5.1.4.1.1.2"',
        ")",
    ]
    longer = "K" * 97
    assert len(pyfmt.assign_line(f"{longer}: Final", "1.2")) == 1


def test_header_names_sources_without_paths() -> None:
    digest = SourceDigest("PS3.6", "2013", "2013/part06.xml", "ab" * 32, ("table_6-1", "table_A-1"))
    used = sources_used([digest], [Provenance("PS3.6", "2013", "table_6-1", "2013/part06.xml", 3)])
    text = header(used)
    assert f"PS3.6 2013 (2013/part06.xml sha256 {'ab' * 32}: table_6-1)" in text
    assert "table_A-1" not in text  # only the tables the file's entries come from
    assert text.endswith('Do not edit; run "nox -s generate".')


def test_citation_constants() -> None:
    assert citation_constants(["PS3.6 2020 attributes.json"]) == {
        "PS3.6 2020 attributes.json": "_SOURCE"
    }
    assert citation_constants(["PS3.6 2013 table_6-1", "PS3.6 2013 table_7-1"]) == {
        "PS3.6 2013 table_6-1": "_SOURCE_2013_TABLE_6_1",
        "PS3.6 2013 table_7-1": "_SOURCE_2013_TABLE_7_1",
    }


def test_large_groups_are_split_by_element_ranges() -> None:
    prov = Provenance("PS3.6", "2020", "attributes.json", "x/attributes.json", 0)

    def element(tag: int) -> DataElementDef:
        return DataElementDef(TagPattern(f"{tag:08X}"), "N", f"K{tag:08X}", "CS", "1", False, prov)

    many = [element(0x00180000 + i) for i in range(MAX_ENTRIES_PER_MODULE)]
    many += [element(0x00189000 + i) for i in range(10)]
    parts = chunks([*many, element(0x00100010)])
    assert [(c.module, len(c.elements)) for c in parts] == [
        ("group_0010", 1),
        ("group_0018_0000", MAX_ENTRIES_PER_MODULE),
        ("group_0018_9000", 10),
    ]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_fixture_output_is_formatted_and_lint_clean(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    generate([FIXTURE_DIR], out)
    config = ["--config", str(REPO / "pyproject.toml")]
    formatted = subprocess.run(
        ["ruff", "format", "--check", *config, str(out)], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    # E501: long data rows are allowed in generated/ (pyproject's per-file-ignores).
    linted = subprocess.run(
        ["ruff", "check", *config, "--ignore", "E501", str(out)], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_generated_files_stay_small() -> None:
    """No giant generated files (STYLE.md, "What to avoid"): each well under 150 KB."""
    sizes = {p: p.stat().st_size for p in (REPO / "generated").rglob("*.py")}
    assert sizes
    assert max(sizes.values()) < 110_000, max(sizes, key=lambda p: sizes[p])
