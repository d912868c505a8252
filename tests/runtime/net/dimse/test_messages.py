"""DIMSE messages: every type round trip, classes against the generated tables, bad messages."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest

from dicompile.generated import dimse_commands as generated
from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError
from dicompile.runtime.net.dimse import (
    BY_COMMAND_FIELD,
    MESSAGE_TYPES,
    NO_DATA_SET,
    CEchoRQ,
    CFindRSP,
    CStoreRQ,
    DimseMessage,
    NGetRQ,
    Priority,
    decode_command,
    decode_command_set,
    decode_message,
    encode_command,
    encode_command_set,
)
from dicompile.runtime.net.dimse.messages import message_fields, snake_case
from dicompile.runtime.net.ul.pdu import Reserved

from .samples import CT_IMAGE, DATA, INSTANCE, SAMPLES, sample_id

PROTOCOL_FIELDS = {0x0000, 0x0100, 0x0800}
ANNEX_C_FIELDS = {tag for status in generated.STATUS_TYPES for tag in status.fields}
PYTHON_TYPE = {"US": "int", "UL": "int", "UI": "str", "AE": "str", "LO": "str"}


@pytest.mark.parametrize("message", SAMPLES, ids=sample_id)
def test_round_trip(message: DimseMessage) -> None:
    data_set = getattr(message, "data_set", None)
    command = encode_command(message)
    assert decode_command(command, data_set) == message
    # Re-encoding what was decoded gives the same bytes.
    assert encode_command(decode_command(command, data_set)) == command


def test_samples_cover_every_message_type() -> None:
    assert {type(m) for m in SAMPLES} == set(MESSAGE_TYPES)
    assert len(MESSAGE_TYPES) == 23  # 11 services x RQ/RSP, and C-CANCEL-RQ


@pytest.mark.parametrize("name", sorted(generated.MESSAGES))
def test_class_follows_generated_message_table(name: str) -> None:
    table = generated.MESSAGES[name]
    cls = BY_COMMAND_FIELD[table.command_field]
    assert ("C-CANCEL-RQ" if name.startswith("C-CANCEL") else name) == cls.MESSAGE
    assert cls.DATA_SET.value == table.data_set.value
    fields = {f.name: f for f in attrs.fields(cls)}
    by_tag = {tag: fields[n] for n, tag in message_fields(cls).items()}
    for field in table.fields:
        if field.tag in PROTOCOL_FIELDS:
            continue
        attribute = by_tag[field.tag]  # every field of the table is a field of the class
        assert attribute.name == snake_case(field.keyword)
        annotation = str(attribute.type)
        assert ("None" in annotation) == (field.usage != "M"), (attribute.name, field.usage)
        if field.keyword == "Priority":
            assert annotation == "Priority | Reserved"
        elif field.vr == "AT":
            assert annotation.startswith("tuple[int, ...]")
        else:
            assert annotation.split(" | ")[0] == PYTHON_TYPE[field.vr]
    # Fields beyond the table: only the optional status fields of Annex C, on responses.
    extra = set(by_tag) - {f.tag for f in table.fields}
    assert extra <= ANNEX_C_FIELDS
    assert not extra or name.endswith("-RSP")
    assert all("None" in str(by_tag[tag].type) for tag in extra)
    data_set = fields.get("data_set")
    if table.data_set is generated.DataSetPresence.ABSENT:
        assert data_set is None
    else:
        assert data_set is not None
        assert ("None" in str(data_set.type)) == (
            table.data_set is generated.DataSetPresence.OPTIONAL
        )


def test_priority_and_no_data_set_follow_the_dictionary() -> None:
    assert {p.name: p.value for p in Priority} == dict(generated.PRIORITIES)
    assert generated.NO_DATA_SET == NO_DATA_SET
    assert {cls.COMMAND_FIELD for cls in MESSAGE_TYPES} == set(generated.COMMAND_FIELDS)


def test_snake_case() -> None:
    assert snake_case("AffectedSOPClassUID") == "affected_sop_class_uid"
    assert snake_case("MessageIDBeingRespondedTo") == "message_id_being_responded_to"
    assert snake_case("NumberOfRemainingSuboperations") == "number_of_remaining_suboperations"


def test_data_set_type_follows_data_set() -> None:
    present = decode_command_set(encode_command(SAMPLES[0]))
    assert present[0x0800] != NO_DATA_SET
    none = decode_command_set(encode_command(CFindRSP(message_id_being_responded_to=1, status=0)))
    assert none[0x0800] == NO_DATA_SET


def test_reserved_priority_is_kept() -> None:
    elements = decode_command_set(encode_command(SAMPLES[0]))
    command = encode_command_set(_without_length(elements, {0x0700: 7}))  # type: ignore[arg-type]
    message = decode_command(command, DATA)
    assert isinstance(message, CStoreRQ)
    assert message.priority == Reserved(7)
    assert encode_command(message) == command


def _without_length(
    elements: Mapping[int, object], changes: Mapping[int, object]
) -> dict[int, object]:
    result = {t: v for t, v in elements.items() if t != 0x0000}
    result.update(changes)
    return result


def test_other_elements_are_kept() -> None:
    # (0000,0001) Command Length to End is retired (Table E.2-1) but may still be sent.
    elements = _without_length(decode_command_set(encode_command(CEchoRQ(message_id=5))), {})
    elements[0x0001] = 1234
    command = encode_command_set(elements)  # type: ignore[arg-type]
    message = decode_command(command, None)
    assert message.other_elements == ((0x0001, 1234),)
    assert encode_command(message) == command


def test_other_elements_may_not_shadow_fields() -> None:
    message = CEchoRQ(message_id=5, other_elements=((0x0110, 6),))
    with pytest.raises(LocalProtocolError, match=r"repeats \(0000,0110\)"):
        encode_command(message)


def _decode(changes: dict[int, object], data_set: bytes | None, base: DimseMessage) -> object:
    elements = _without_length(decode_command_set(encode_command(base)), changes)
    elements = {t: v for t, v in elements.items() if v is not None}
    return decode_command(encode_command_set(elements), data_set)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "data_set", "message"),
    [
        # C-STORE-RQ without Affected SOP Instance UID, which is M (Table 9.1-1)
        ({0x1000: None}, DATA, r"C-STORE-RQ, \(0000,1000\): a mandatory field is missing"),
        ({0x0110: None}, DATA, r"\(0000,0110\): a mandatory field is missing"),
        ({0x0100: 0x0031}, DATA, r"unknown Command Field 0031H"),
        ({0x0100: None}, DATA, r"no Command Field"),
        ({0x0800: None}, DATA, r"no Command Data Set Type"),
        ({}, None, r"says a data set follows, but none came"),
        ({0x0800: NO_DATA_SET}, DATA, r"says no data set, but one came"),
        ({0x0800: NO_DATA_SET}, None, r"C-STORE-RQ.*always carries a data set"),
    ],
)
def test_bad_messages(changes: dict[int, object], data_set: bytes | None, message: str) -> None:
    base = CStoreRQ(
        message_id=1,
        affected_sop_class_uid=CT_IMAGE,
        affected_sop_instance_uid=INSTANCE,
        data_set=DATA,
    )
    with pytest.raises(DIMSEProtocolError, match=message):
        _decode(changes, data_set, base)


def test_message_that_never_has_a_data_set() -> None:
    with pytest.raises(DIMSEProtocolError, match=r"C-ECHO-RQ: this message never carries"):
        _decode({0x0800: 0x0001}, DATA, CEchoRQ(message_id=1))


def test_decode_message_names_the_context() -> None:
    elements = decode_command_set(
        encode_command(
            NGetRQ(message_id=1, requested_sop_class_uid="1.2", requested_sop_instance_uid="1.3")
        )
    )
    del elements[0x1001]
    with pytest.raises(
        DIMSEProtocolError, match=r"presentation context 5, N-GET-RQ, \(0000,1001\)"
    ):
        decode_message(elements, None, context_id=5)


def test_empty_attribute_identifier_list_is_kept() -> None:
    # A zero-length AT value: present without tags (PS3.5 §7.1.1).
    message = NGetRQ(
        message_id=1,
        requested_sop_class_uid="1.2",
        requested_sop_instance_uid="1.3",
        attribute_identifier_list=(),
    )
    assert decode_command(encode_command(message), None) == message
