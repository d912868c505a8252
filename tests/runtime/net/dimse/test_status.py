"""Status classes (PS3.7 Annex C), checked by hand and against pynetdicom over every code."""

from __future__ import annotations

import pytest

from dicompile.generated.dimse_commands import StatusCode
from dicompile.runtime.net.dimse import StatusCategory, status_category, status_info


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (0x0000, StatusCategory.SUCCESS),
        (0xFF00, StatusCategory.PENDING),
        (0xFF01, StatusCategory.PENDING),
        (0xFE00, StatusCategory.CANCEL),
        (0x0001, StatusCategory.WARNING),
        (0xB000, StatusCategory.WARNING),  # Storage: coercion of data elements (PS3.4)
        (0x0107, StatusCategory.WARNING),  # Attribute List Error, C.4.2
        (0x0116, StatusCategory.WARNING),  # Attribute Value Out of Range, C.4.3
        (0xA700, StatusCategory.FAILURE),  # Storage: out of resources (PS3.4)
        (0xC000, StatusCategory.FAILURE),
        (0x0122, StatusCategory.FAILURE),
        (0x0213, StatusCategory.FAILURE),
        (0x0002, StatusCategory.UNRECOGNIZED),
        (0x0199, StatusCategory.UNRECOGNIZED),  # 01xx, but not assigned by Annex C
        (0xD000, StatusCategory.UNRECOGNIZED),
        (0xFF02, StatusCategory.UNRECOGNIZED),
    ],
)
def test_categories(code: int, category: StatusCategory) -> None:
    assert status_category(code) is category


def test_assigned_codes_carry_their_section() -> None:
    info = status_info(0x0110)
    assert (info.name, info.section, info.category) == (
        "Processing Failure",
        "C.5.21",
        StatusCategory.FAILURE,
    )
    assert 0x00000903 in info.fields  # Error ID
    assert status_info(0xA700).name == ""  # named by PS3.4, not Annex C
    assert status_info(StatusCode.REFUSED_SOP_CLASS_NOT_SUPPORTED).section == "C.5.6"


def test_out_of_range() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        status_category(0x10000)


def test_every_code_agrees_with_pynetdicom() -> None:
    status = pytest.importorskip("pynetdicom.status")
    theirs = {
        "Success": StatusCategory.SUCCESS,
        "Pending": StatusCategory.PENDING,
        "Cancel": StatusCategory.CANCEL,
        "Warning": StatusCategory.WARNING,
        "Failure": StatusCategory.FAILURE,
        "Unknown": StatusCategory.UNRECOGNIZED,
    }
    disagree = [
        code
        for code in range(0x10000)
        if theirs[status.code_to_category(code)] is not status_category(code)
    ]
    assert disagree == []


def test_assigned_names_agree_with_pynetdicom() -> None:
    status = pytest.importorskip("pynetdicom.status")
    # pynetdicom's GENERAL_STATUS lists the Annex C codes; its spellings differ in places
    # ("Duplication SOP Instance", "Unrecognised"), so compare codes and categories.
    general = {code: category for code, (category, _) in status.GENERAL_STATUS.items()}
    ours = {int(c): status_category(c).value for c in StatusCode}
    assert ours == general
