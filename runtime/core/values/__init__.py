"""Value types of the text VRs and the helpers that read, write and check them (PS3.5 §6.2).

=================  =====================================================================
VR                 type / helper
=================  =====================================================================
PN                 :class:`PersonName`, :class:`ComponentGroup`
DA, TM, DT         :class:`DA`, :class:`TM`, :class:`DT` (``.text``, ``.value``,
                   ``.precision``), :func:`parse_range` for range-matching keys
DS, IS             :class:`DS` (a ``float``), :class:`IS` (an ``int``), both keeping their
                   text; :func:`ds_value` / :func:`is_value` and the bulk
                   :func:`ds_values` / :func:`is_values` for fast decoding
AS                 :class:`Age`, :func:`parse_age`
AT                 :func:`unpack_at`, :func:`pack_at`, :func:`at_to_text`, :func:`at_from_text`
UI                 :func:`check_uid`, :func:`uid_from_uuid`
all text VRs       :func:`split_values`, :func:`join_values`, :func:`pad`,
                   :func:`validate_text`, :func:`validate_value` (problems as data)
=================  =====================================================================
"""

from __future__ import annotations

from dicompile.runtime.core.values.age import Age, AgeUnit, parse_age
from dicompile.runtime.core.values.attribute_tag import at_from_text, at_to_text, pack_at, unpack_at
from dicompile.runtime.core.values.dates import (
    DA,
    DT,
    TM,
    DateTimeRange,
    Precision,
    parse_da,
    parse_dt,
    parse_range,
    parse_tm,
)
from dicompile.runtime.core.values.numbers import (
    DS,
    IS,
    ds_value,
    ds_values,
    format_ds,
    format_float32,
    is_value,
    is_values,
    parse_ds,
    parse_is,
)
from dicompile.runtime.core.values.person_name import ComponentGroup, PersonName
from dicompile.runtime.core.values.problems import ProblemKind, ValueProblem
from dicompile.runtime.core.values.text import (
    PADDING,
    SINGLE_VALUED,
    Padding,
    join_values,
    pad,
    split_values,
)
from dicompile.runtime.core.values.uid import check_uid, is_valid_uid, uid_from_uuid
from dicompile.runtime.core.values.validate import validate_text, validate_value

__all__ = [
    "DA",
    "DS",
    "DT",
    "IS",
    "PADDING",
    "SINGLE_VALUED",
    "TM",
    "Age",
    "AgeUnit",
    "ComponentGroup",
    "DateTimeRange",
    "Padding",
    "PersonName",
    "Precision",
    "ProblemKind",
    "ValueProblem",
    "at_from_text",
    "at_to_text",
    "check_uid",
    "ds_value",
    "ds_values",
    "format_ds",
    "format_float32",
    "is_valid_uid",
    "is_value",
    "is_values",
    "join_values",
    "pack_at",
    "pad",
    "parse_age",
    "parse_da",
    "parse_ds",
    "parse_dt",
    "parse_is",
    "parse_range",
    "parse_tm",
    "split_values",
    "uid_from_uuid",
    "unpack_at",
    "validate_text",
    "validate_value",
]
