"""The ``generated/services/`` emitter: a tiny hand-built PS3.4 model, and golden checks on the
committed modules (UIDs and statuses against pydicom/pynetdicom as oracles, worklist keys as
PS3.4 Table K.6-1 lists them, handler protocols checked structurally and by mypy)."""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
import types
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dicompile.generated.dimse_commands import StatusCategory as Category
from dicompile.generated.dimse_commands import StatusCode as GeneralStatus
from dicompile.generated.services import (
    SERVICE_CLASSES,
    ServiceClassEntry,
    module_names,
    service_class,
    service_modules,
    storage,
    verification,
)
from dicompile.generated.services import basic_worklist_management as worklist
from dicompile.generated.services import basic_worklist_management_keys as worklist_keys
from dicompile.generated.services import procedure_step_attributes as mpps_attributes
from dicompile.generated.services import query_retrieve as qr
from dicompile.generated.services import query_retrieve_keys as qr_keys
from dicompile.generated.services.base import (
    Match,
    MatchingKeyType,
    MatchingType,
    Outcome,
    QueryKey,
    ReturnKeyType,
    ServiceContext,
    ServiceFailure,
)
from dicompile.generator.emit.services import emit_services
from dicompile.generator.emit.services_names import EmitError, constant_name, module_name, pascal
from dicompile.generator.emit.services_tables import matching_types
from dicompile.generator.model import Provenance, SourceDigest, StandardModel, TagPattern
from dicompile.generator.pipeline import EMIT_JOBS, Build, MissingSource
from dicompile.generator.service_model import (
    DimseAttributeRequirement,
    DimseAttributeTable,
    DimseOperation,
    DimseServiceUsage,
    InformationModelDef,
    QueryKeyDef,
    QueryLevelDef,
    ServiceClassDef,
    ServiceModel,
    SOPClassDef,
    StatusCategory,
    StatusCode,
    StatusDef,
)
from dicompile.generator.service_model import MatchingKeyType as KeyType
from dicompile.runtime.core.dataset import Dataset

REPO = Path(__file__).resolve().parents[2]
SRC = SourceDigest("PS3.4", "2013", "2013/part04.xml", "ab" * 32, ("table_X.1-1", "sect_X.2"))


def _prov(table: str, row: int | None = None) -> Provenance:
    return Provenance("PS3.4", "2013", table, "2013/part04.xml", row)


def _tiny_model() -> ServiceModel:
    """A query service (one model, two levels, a sequence key) and a DIMSE-N SOP class."""
    query = "Tiny Query/Retrieve Service Class"
    notify = "Tiny Notification Service Class"
    key = QueryKeyDef(
        TagPattern.parse("(0040,0100)"),
        "Scheduled Procedure Step Sequence",
        KeyType.REQUIRED,
        None,
        _prov("table_X.1-1", 1),
        children=(
            QueryKeyDef(
                TagPattern.parse("(0040,0001)"),
                "Scheduled Station AE Title",
                KeyType.REQUIRED,
                None,
                _prov("table_X.1-1", 2),
            ),
        ),
    )
    model = InformationModelDef(
        "Tiny Information Model",
        query,
        (
            QueryLevelDef("Study", "STUDY", (key,), _prov("table_X.1-1")),
            QueryLevelDef(
                "Series",
                "SERIES",
                (QueryKeyDef(None, "All other", KeyType.OPTIONAL, None, _prov("t")),),
                _prov("table_X.1-1"),
            ),
        ),
        ((DimseOperation.C_FIND, "1.2.3.1"),),
        _prov("table_X.1-1"),
    )

    def status(code: str, category: StatusCategory, meaning: str) -> StatusDef:
        return StatusDef(
            query, DimseOperation.C_FIND, "", StatusCode.parse(code), category, meaning, _prov("t")
        )

    return ServiceModel(
        sources=(SRC,),
        service_classes=(
            ServiceClassDef(query, "X", False, _prov("chapter_X")),
            ServiceClassDef(notify, "Y", False, _prov("chapter_Y")),
            ServiceClassDef("Empty Service Class", "Z", True, _prov("chapter_Z")),
        ),
        sop_classes=(
            SOPClassDef("1.2.3.1", "Tiny Information Model - FIND", query, _prov("table_X.1-1")),
            SOPClassDef("1.2.3.2", "Tiny Notice SOP Class", notify, _prov("sect_X.2")),
        ),
        information_models=(model,),
        statuses=(
            status("A700", StatusCategory.FAILURE, "Refused: Out of Resources"),
            status("Cxxx", StatusCategory.FAILURE, "Unable to process"),
            status("C001", StatusCategory.FAILURE, "Unable to process"),
            status("FF00", StatusCategory.PENDING, "Matches are continuing"),
        ),
        attribute_tables=(
            DimseAttributeTable(
                notify,
                "Tiny Notice SOP Class",
                DimseOperation.N_ACTION,
                (
                    DimseAttributeRequirement(
                        TagPattern.parse("(0008,1195)"), "Transaction UID", "1", "1", _prov("t")
                    ),
                ),
                _prov("table_Y.1-1"),
                type_id=1,
                type_name="Do Something",
            ),
        ),
        service_usages=(
            DimseServiceUsage(
                notify, "Tiny Notice SOP Class", DimseOperation.N_ACTION, "M", "U", _prov("t")
            ),
            DimseServiceUsage(
                notify, "Tiny Notice SOP Class", DimseOperation.N_EVENT_REPORT, "M", "M", _prov("t")
            ),
        ),
    )


def _load(text: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(text, name, "exec"), module.__dict__)
    return module


# ------------------------------------------------------------------ emitter on a tiny model


def test_tiny_model_files_and_names() -> None:
    files = {f.path: f.text for f in emit_services(_tiny_model())}
    assert sorted(files) == [
        "services/__init__.py",
        "services/base.py",
        "services/tiny_notification.py",
        "services/tiny_notification_attributes.py",
        "services/tiny_query_retrieve.py",
        "services/tiny_query_retrieve_keys.py",
    ]  # the service class without records gets no module
    head = files["services/tiny_query_retrieve.py"].splitlines()[1]
    assert "sha256 " + "ab" * 32 in head and "table_X.1-1" in head
    assert emit_services(_tiny_model()) == emit_services(_tiny_model())  # deterministic


def test_tiny_model_modules_execute() -> None:
    files = {f.path: f.text for f in emit_services(_tiny_model())}
    query = _load(files["services/tiny_query_retrieve.py"], "tiny_query_retrieve")
    assert query.TINY_INFORMATION_MODEL_FIND == "1.2.3.1"
    find = query.FindStatus
    # the two "Unable to process" rows get their codes appended to stay distinct
    assert find.classify(0xC001) is find.UNABLE_TO_PROCESS_C001
    assert find.classify(0xC0FF) is find.UNABLE_TO_PROCESS_CXXX
    assert find.classify(0xA700).category is Category.FAILURE
    assert find.classify(0xB000) is None
    assert hasattr(query, "TinySCP") and hasattr(query, "TinySCU")

    notify = _load(files["services/tiny_notification.py"], "tiny_notification")
    assert notify.TinyNoticeActionType.DO_SOMETHING == 1
    assert {"TinyNoticeSCP", "TinyNoticeSCU", "TinyNoticeEventHandler", "TinyNoticeNotifier"} <= (
        set(vars(notify))
    )

    keys = _load(files["services/tiny_query_retrieve_keys.py"], "tiny_keys")
    study, series = keys.TINY_INFORMATION_MODEL.levels
    assert study.value == "STUDY" and study.keys[0].tag == 0x00400100
    assert study.keys[0].children[0].tag == 0x00400001
    assert series.keys[0].tag is None

    attributes = _load(files["services/tiny_notification_attributes.py"], "tiny_attrs")
    table = attributes.TINY_NOTICE_N_ACTION_1
    assert (table.type_id, table.attributes[0].tag, table.attributes[0].scu) == (1, 0x00081195, "1")

    init = _load(files["services/__init__.py"], "tiny_init")
    assert init.module_names("1.2.3.2") == ("tiny_notification",)


def test_naming_helpers() -> None:
    assert module_name("Query/Retrieve Service Class") == "query_retrieve"
    assert module_name("Unified Procedure Step Service and SOP Classes") == "unified_procedure_step"
    assert module_name("Basic Worklist Management Service") == "basic_worklist_management"
    assert constant_name("12-lead ECG Waveform Storage") == "UID_12_LEAD_ECG_WAVEFORM_STORAGE"
    assert pascal("Change UPS State") == "ChangeUPSState"


@pytest.mark.parametrize(
    ("remark", "kinds"),
    [
        # remarks as PS3.4 2013 Tables K.6-1 and BB.6-1 write them
        ("The Modality shall be retrieved with Single Value Matching.", ("SINGLE_VALUE",)),
        (
            "Patient Name shall be retrieved with Single Value Matching or Wild Card Matching.",
            ("SINGLE_VALUE", "WILD_CARD"),
        ),
        (
            "Shall be retrieved with Single Value, Wild Card, or Universal Matching.",
            ("SINGLE_VALUE", "WILD_CARD", "UNIVERSAL"),
        ),
        ("Shall be retrieved with List of UID Matching.", ("LIST_OF_UID",)),
        ("Code Meaning shall not be used as Matching Key.", ()),
        ("The Protocol Context Sequence and its Items shall not be used for matching", ()),
        ("Either the Description or the Code Sequence shall be present.", ()),
    ],
)
def test_matching_types_from_remarks(remark: str, kinds: tuple[str, ...]) -> None:
    assert matching_types(remark) == kinds


def test_clashing_sop_class_names_are_an_error() -> None:
    model = _tiny_model()
    clash = SOPClassDef(
        "1.2.3.9", "Tiny Information Model FIND", model.sop_classes[0].service_class, _prov("t")
    )
    with pytest.raises(EmitError, match="clash"):
        emit_services(
            ServiceModel(
                sources=model.sources,
                service_classes=model.service_classes,
                sop_classes=(*model.sop_classes, clash),
                information_models=model.information_models,
            )
        )


def test_job_is_registered_and_skipped_without_part04(tmp_path: Path) -> None:
    jobs = {job.name: job for job in EMIT_JOBS}
    assert jobs["services"].owns == ("services/",)
    with pytest.raises(MissingSource, match=r"part04\.xml"):
        jobs["services"].render(Build(StandardModel(), (tmp_path,)))


# ------------------------------------------------------------------ golden: generated modules


def test_study_root_find_uid_matches_pydicom() -> None:
    from pynetdicom import sop_class

    assert qr.STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND == "1.2.840.10008.5.1.4.1.2.2.1"
    oracle = [
        (
            qr.STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
            "StudyRootQueryRetrieveInformationModelFind",
        ),
        (
            qr.PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET,
            "PatientRootQueryRetrieveInformationModelGet",
        ),
        (worklist.MODALITY_WORKLIST_INFORMATION_MODEL_FIND, "ModalityWorklistInformationFind"),
        (verification.VERIFICATION, "Verification"),
    ]
    for uid, name in oracle:
        assert getattr(sop_class, name) == uid, name


def test_find_status_a700_and_cxxx() -> None:
    refused = qr.FindStatus.classify(0xA700)
    assert refused is not None
    assert refused.category is Category.FAILURE
    assert refused.meaning == "Refused: Out of Resources"
    assert refused.fields == ("(0000,0902)",)
    unable = qr.FindStatus.classify(0xC123)
    assert unable is not None and unable.is_range
    assert (unable.code, unable.mask, unable.category) == (0xC000, 0xF000, Category.FAILURE)
    assert qr.FindStatus.classify(0xFF01) is not qr.FindStatus.classify(0xFF00)
    assert qr.FindStatus.classify(0x0107) is None  # a general status (PS3.7 C.4.2)
    store = storage.StoreStatus.classify(0xA7FF)
    assert store is not None and store.meaning == "Refused: Out of Resources"


@pytest.mark.parametrize(
    ("enum", "oracle"),
    [
        (qr.FindStatus, "QR_FIND_SERVICE_CLASS_STATUS"),
        (qr.MoveStatus, "QR_MOVE_SERVICE_CLASS_STATUS"),
        (qr.GetStatus, "QR_GET_SERVICE_CLASS_STATUS"),
        (storage.StoreStatus, "STORAGE_SERVICE_CLASS_STATUS"),
    ],
)
def test_status_categories_agree_with_pynetdicom(enum: type[qr.FindStatus], oracle: str) -> None:
    from pynetdicom import status as pynetdicom_status

    table = getattr(pynetdicom_status, oracle)
    for member in enum:
        codes = [c for c in table if member.matches(c)]
        assert codes, f"{member} not in pynetdicom's {oracle}"
        assert {table[c][0] for c in codes} == {member.category.value}, member


def test_worklist_keys_include_scheduled_procedure_step_sequence() -> None:
    model = worklist_keys.MODALITY_WORKLIST_INFORMATION_MODEL
    assert model.sop_classes == (("C-FIND", worklist.MODALITY_WORKLIST_INFORMATION_MODEL_FIND),)
    (level,) = model.levels
    sps = next(k for k in level.keys if k.tag == 0x00400100)
    assert sps.keyword == "ScheduledProcedureStepSequence"
    assert sps.matching is MatchingKeyType.REQUIRED and sps.return_type is ReturnKeyType.TYPE_1
    nested = {k.tag: k for k in sps.children}
    # PS3.4 Table K.6-1: Scheduled Station AE Title, Start Date, Start Time, Modality are R/1
    for tag in (0x00400001, 0x00400002, 0x00400003, 0x00080060):
        assert nested[tag].matching is MatchingKeyType.REQUIRED, hex(tag)
    assert nested[0x00400010].matching is MatchingKeyType.OPTIONAL  # Scheduled Station Name
    assert nested[0x00400001].matching_types == (MatchingType.SINGLE_VALUE,)
    assert nested[0x00400002].matching_types == (MatchingType.SINGLE_VALUE, MatchingType.RANGE)
    assert sps.matching_types == (MatchingType.SEQUENCE,)
    assert model.level("") is level and level.key(0x00400100) is sps

    def walk(keys: tuple[QueryKey, ...]) -> int:
        return sum(1 + walk(k.children) for k in keys)

    assert walk(level.keys) > 100


def test_query_retrieve_levels() -> None:
    study_root = qr_keys.STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL
    assert [lv.value for lv in study_root.levels] == ["STUDY", "SERIES", "IMAGE"]
    assert study_root.level("PATIENT") is None
    series = study_root.level("SERIES")
    assert series is not None and series.key(0x0020000E) is not None  # Series Instance UID
    study = {k.tag: k for k in study_root.levels[0].keys}
    assert study[0x0020000D].matching is MatchingKeyType.UNIQUE  # Study Instance UID
    assert study[0x00100010].matching is MatchingKeyType.REQUIRED  # Patient's Name


def test_mpps_n_create_attributes() -> None:
    table = mpps_attributes.MODALITY_PERFORMED_PROCEDURE_STEP_N_CREATE
    assert table.operation == "N-CREATE"
    rows = {r.tag: r for r in table.attributes}
    # PS3.4 Table F.7.2-1: Performed Procedure Step Status is 1/1 in N-CREATE
    assert (rows[0x00400252].scu, rows[0x00400252].scp) == ("1", "1")


def test_registry_is_lazy_and_complete(shared_dir: Path) -> None:
    assert "storage" in module_names("1.2.840.10008.5.1.4.1.1.2")  # CT Image Storage
    entry = service_class("1.2.840.10008.5.1.4.1.1.2")
    assert entry is not None and entry.name == "Storage Service Class"
    assert entry.uid == storage.SERVICE_CLASS_UID
    assert service_modules("1.2.840.10008.1.1") == (verification,)
    assert service_class("1.2.3.4") is None
    assert len({s.module for s in SERVICE_CLASSES}) == len(SERVICE_CLASSES)
    sops = json.loads((shared_dir / "standard-json" / "innolitics-2020" / "sops.json").read_text())
    storage_uids = {s.uid for s in storage.SOP_CLASSES}
    missing = [s["id"] for s in sops if s["id"] not in storage_uids]
    assert not missing, missing


_HANDLER = {
    "C-ECHO": "handle_echo",
    "C-STORE": "handle_store",
    "C-FIND": "handle_find",
    "C-MOVE": "handle_move",
    "C-GET": "handle_get",
    "N-CREATE": "handle_n_create",
    "N-SET": "handle_n_set",
    "N-GET": "handle_n_get",
    "N-ACTION": "handle_n_action",
    "N-DELETE": "handle_n_delete",
}


@pytest.mark.parametrize("entry", SERVICE_CLASSES, ids=lambda e: e.module)
def test_dispatch_tables_name_protocols_with_the_handlers(entry: ServiceClassEntry) -> None:
    import importlib

    module = importlib.import_module(f"dicompile.generated.services.{entry.module}")
    operations = getattr(module, "OPERATIONS", {})
    for uid, name in getattr(module, "SCP_PROTOCOLS", {}).items():
        protocol = getattr(module, name)
        for operation in operations[uid]:
            if operation != "N-EVENT-REPORT":
                assert callable(getattr(protocol, _HANDLER[operation])), (name, operation)


def test_ups_watch_n_action_statuses_are_those_of_its_actions() -> None:
    from dicompile.generated.services import unified_procedure_step as ups

    # PS3.4 CC.2-3: UPS Watch uses N-ACTION for Un/Subscribe and for Request UPS Cancel, and
    # CC.2.2/CC.2.3 give those actions their own status tables; the alias is their union.
    alias = ups.UPSWatchNActionStatus
    assert set(alias.__args__) == {
        ups.RequestUPSCancelNActionStatus,
        ups.SubscribeUnsubscribeToReceiveUPSEventReportsNActionStatus,
    }
    assert ups.UPSWatchActionType(3).name == "SUBSCRIBE_TO_RECEIVE_UPS_EVENT_REPORTS"


def test_dispatch_operations_follow_the_dimse_service_groups() -> None:
    from dicompile.generated.services import procedure_step, storage_commitment

    # PS3.4 F.7.1 (Table F.7.1-1) and J.3.1: the DIMSE services of each SOP class
    assert procedure_step.OPERATIONS[procedure_step.MODALITY_PERFORMED_PROCEDURE_STEP] == (
        "N-CREATE",
        "N-SET",
    )
    commit = storage_commitment.STORAGE_COMMITMENT_PUSH_MODEL
    assert set(storage_commitment.OPERATIONS[commit]) == {"N-ACTION", "N-EVENT-REPORT"}
    assert storage.OPERATIONS[storage.CT_IMAGE_STORAGE] == ("C-STORE",)
    assert storage.SCP_PROTOCOLS[storage.CT_IMAGE_STORAGE] == "StorageSCP"
    notification = procedure_step.MODALITY_PERFORMED_PROCEDURE_STEP_NOTIFICATION
    assert notification not in procedure_step.SCP_PROTOCOLS  # the SCP only reports events


def test_headers_cite_part04_sha256(shared_dir: Path) -> None:
    digest = hashlib.sha256((shared_dir / "standard-xml/2013/part04.xml").read_bytes()).hexdigest()
    text = (REPO / "generated/services/query_retrieve.py").read_text()
    assert f"sha256 {digest}" in text.splitlines()[1]
    assert "table_C.4-1" in text.splitlines()[1]


# ------------------------------------------------------------------ handler protocols


class _Context:
    sop_class_uid = qr.STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND
    calling_ae_title = "SCU"
    called_ae_title = "SCP"
    message_id = 1


class _FindOnly:
    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[qr.FindStatus]]:
        yield Match(identifier)

    async def handle_echo(self, context: ServiceContext) -> Outcome[GeneralStatus]:
        return Outcome(GeneralStatus.SUCCESS)


def test_protocols_are_runtime_checkable() -> None:
    handler = _FindOnly()
    assert isinstance(handler, verification.VerificationSCP)
    assert not isinstance(handler, qr.StudyRootQueryRetrieveSCP)  # no handle_move/handle_get

    async def collect() -> list[Match[qr.FindStatus]]:
        return [m async for m in handler.handle_find(Dataset(), _Context())]

    import asyncio

    (match,) = asyncio.run(collect())
    assert match.status == 0xFF00
    failure = ServiceFailure(qr.FindStatus.UNABLE_TO_PROCESS, "disk")
    assert failure.status == 0xC000 and "C000H" in str(failure)


_GOOD = """
from __future__ import annotations
from collections.abc import AsyncIterator
from dicompile.generated.services import query_retrieve as qr
from dicompile.generated.services.base import Match, ServiceContext
from dicompile.runtime.core.dataset import Dataset

class Handler:
    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[qr.FindStatus]]:
        yield Match(identifier, qr.FindStatus.MATCHES_ARE_CONTINUING_FF01)

    async def handle_move(
        self, identifier: Dataset, destination: str, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        yield identifier

    async def handle_get(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Dataset]:
        yield identifier

scp: qr.StudyRootQueryRetrieveSCP = Handler()
"""

_BAD = """
from __future__ import annotations
from collections.abc import AsyncIterator
from dicompile.generated.services import query_retrieve as qr
from dicompile.generated.services.base import Match, ServiceContext
from dicompile.runtime.core.dataset import Dataset

class Handler:
    async def handle_find(
        self, identifier: Dataset, context: ServiceContext
    ) -> AsyncIterator[Match[qr.MoveStatus]]:
        yield Match(identifier)

scp: qr.StudyRootQueryRetrieveSCP = Handler()
"""


def test_protocol_implementation_passes_mypy(tmp_path: Path) -> None:
    from mypy import api

    good, bad = tmp_path / "good_handler.py", tmp_path / "bad_handler.py"
    good.write_text(textwrap.dedent(_GOOD))
    bad.write_text(textwrap.dedent(_BAD))
    # No cache: a cached module of the same name from another run must not answer for these.
    args = ["--strict", "--no-error-summary", "--cache-dir", os.devnull, str(good), str(bad)]
    stdout, _stderr, _code = api.run(args)
    lines = [line for line in stdout.splitlines() if ": error:" in line]
    assert not [line for line in lines if "good_handler" in line], stdout
    assert any("bad_handler" in line and "StudyRootQueryRetrieveSCP" in line for line in lines), (
        stdout
    )
