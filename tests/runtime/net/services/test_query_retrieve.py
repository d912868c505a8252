"""Query/Retrieve (PS3.4 Annex C) SCU <-> SCP over loopback: C-FIND matches and statuses,
C-CANCEL, C-MOVE to a second SCP, C-GET with role selection, failure statuses for bad
identifiers.  The archive is qr_support.MemoryArchive (the SQLite archive has its own file)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from net_support import run, running_server, same_elements, scp_ae, scu_ae
from qr_support import Made, MemoryArchive, make_studies

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.element import DataElement
from dicompile.runtime.core.vr import VR
from dicompile.runtime.net.ae import ApplicationEntity
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.dimse import (
    CFindRQ,
    CFindRSP,
    CGetRQ,
    CGetRSP,
    CMoveRQ,
    CMoveRSP,
    CStoreRQ,
)
from dicompile.runtime.net.services.query_retrieve import (
    CANCEL,
    IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
    MOVE_DESTINATION_UNKNOWN,
    PENDING,
    PENDING_KEYS_UNSUPPORTED,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
    SUBOPERATIONS_WARNING,
    SUCCESS,
    UNABLE_TO_PERFORM_SUBOPERATIONS,
    UNABLE_TO_PROCESS,
    IdentifierProblem,
    Level,
    Operation,
    QueryModel,
    QueryRetrieveArchive,
    QueryRetrieveSCP,
    check_identifier,
    decode_identifier,
    encode_identifier,
    find,
    get,
    get_contexts,
    move,
    qr_scp_contexts,
    query_context,
    storage_contexts_for_retrieve,
)
from dicompile.runtime.net.services.storage import (
    FileStore,
    ReceivedInstance,
    StoreOutcome,
    storage_handler,
)
from dicompile.runtime.net.services.verification import VERIFICATION_SCP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NATIVE = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
)


def identifier(level: str | None, **keys: object) -> Dataset:
    ds = Dataset()
    if level is not None:
        ds.set("QueryRetrieveLevel", level)
    for keyword, value in keys.items():
        ds.set(keyword, value)
    return ds


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> list[Made]:
    return make_studies(tmp_path_factory.mktemp("archive"))


def qr_ae(title: str = "QR-SCP") -> ApplicationEntity:
    return scp_ae(title, (VERIFICATION_SCP, *qr_scp_contexts(), *storage_contexts_for_retrieve()))


@asynccontextmanager
async def qr_server(
    archive: QueryRetrieveArchive,
    destinations: Mapping[str, tuple[str, int]] | None = None,
    *,
    relational: bool = True,
) -> AsyncIterator[int]:
    ae = qr_ae()
    scp = QueryRetrieveSCP(archive, ae, destinations=destinations, relational=relational)
    async with running_server(ae, handlers=scp.handlers()) as (_, port):
        yield port


# -- identifiers --------------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", NATIVE)
def test_identifier_round_trip_in_every_native_syntax(syntax: str) -> None:
    ds = identifier("STUDY", PatientName="Müller*", StudyInstanceUID="", ModalitiesInStudy="")
    ds.set("SpecificCharacterSet", "ISO_IR 100")
    back = decode_identifier(encode_identifier(ds, syntax), syntax)
    assert back.get_value("PatientName") == ds.get_value("PatientName")
    assert back.tags() == ds.tags()


@pytest.mark.parametrize(
    ("ds", "model", "offending"),
    [
        (Dataset(), QueryModel.STUDY, ()),
        (identifier(None, PatientID="1"), QueryModel.STUDY, (0x00080052,)),
        (identifier("PATIENT", PatientID="1"), QueryModel.STUDY, (0x00080052,)),
        (identifier("FRAME", PatientID="1"), QueryModel.PATIENT, (0x00080052,)),
    ],
)
def test_bad_identifiers_are_a900(ds: Dataset, model: QueryModel, offending: tuple[int]) -> None:
    with pytest.raises(IdentifierProblem) as raised:
        check_identifier(ds, model, relational=True)
    assert raised.value.status == IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert raised.value.offending == offending


def test_hierarchical_queries_need_unique_keys_above_the_level() -> None:
    series = identifier("SERIES", Modality="CT")
    with pytest.raises(IdentifierProblem) as raised:
        check_identifier(series, QueryModel.STUDY, relational=False)
    assert raised.value.offending == (0x0020000D,)
    assert check_identifier(series, QueryModel.STUDY, relational=True) is Level.SERIES
    series.set("StudyInstanceUID", "1.2.3")
    assert check_identifier(series, QueryModel.STUDY, relational=False) is Level.SERIES
    # Patient root: the patient ID is needed too, and a wildcard is not a single value.
    image = identifier("IMAGE", PatientID="P*", StudyInstanceUID="1.2", SeriesInstanceUID="1.3")
    with pytest.raises(IdentifierProblem):
        check_identifier(image, QueryModel.PATIENT, relational=False)


# -- C-FIND -----------------------------------------------------------------------------------


async def _find_all(
    port: int, query: Dataset, model: QueryModel = QueryModel.STUDY, **kwargs: object
) -> list[tuple[int, Dataset | None]]:
    async with await associate(
        scu_ae("QR-SCU"),
        "127.0.0.1",
        port,
        called_ae_title="QR-SCP",
        contexts=[query_context(model, Operation.FIND)],
    ) as association:
        return [
            (r.status, r.identifier)
            async for r in find(association, query, model=model, **kwargs)  # type: ignore[arg-type]
        ]


def test_find_studies_returns_each_study_with_the_requested_keys(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])

    async def body() -> list[tuple[int, Dataset | None]]:
        async with qr_server(archive) as port:
            query = identifier(
                "STUDY", PatientName="", PatientID="", StudyInstanceUID="", StudyDate=""
            )
            query.add(DataElement(0x00080054, VR.AE, None))  # Retrieve AE Title
            return await _find_all(port, query)

    responses = run(body())
    assert [s for s, _ in responses] == [PENDING] * 3 + [SUCCESS]
    assert responses[-1][1] is None
    got = {str(ds.get_value("StudyInstanceUID")): ds for _, ds in responses[:-1] if ds is not None}
    expected = {m.study_uid: m for m in studies}
    assert set(got) == set(expected)
    for uid, ds in got.items():
        made = expected[uid]
        assert ds.get_value("PatientID") == made.patient_id
        assert str(ds.get_value("PatientName")) == made.patient_name
        assert str(ds.get_value("StudyDate")) in (made.study_date, "2020-01-01", made.study_date)
        assert ds.get_value("QueryRetrieveLevel") == "STUDY"
        assert ds.get_value("RetrieveAETitle") == "QR-SCP"
        # Only requested keys (and the character set of the non-ASCII match) come back.
        assert set(ds.tags()) <= {
            0x00080005,
            0x00080020,
            0x00080052,
            0x00080054,
            0x00100010,
            0x00100020,
            0x0020000D,
        }


def test_find_matches_with_wildcards_and_uid_lists(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    p1_series = {m.series_uid for m in studies if m.patient_id == "P1"}
    ct_series = {m.series_uid for m in studies if m.modality == "CT"}

    async def body() -> tuple[list[object], list[object]]:
        async with qr_server(archive) as port:
            query = identifier("SERIES", PatientName="Mü*", SeriesInstanceUID="")
            query.set("SpecificCharacterSet", "ISO_IR 100")
            by_name = await _find_all(port, query)
            uids = tuple(sorted(ct_series))[:2]
            by_list = await _find_all(
                port, identifier("SERIES", SeriesInstanceUID=uids, Modality="")
            )
            return by_name, by_list

    by_name, by_list = run(body())
    assert {str(ds.get_value("SeriesInstanceUID")) for _, ds in by_name if ds} == p1_series  # type: ignore[union-attr]
    assert len([1 for _, ds in by_list if ds]) == 2
    assert all(ds.get_value("Modality") == "CT" for _, ds in by_list if ds)  # type: ignore[union-attr]


def test_find_pending_ff01_when_a_key_is_unsupported(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies], unsupported=[0x00081030])

    async def body() -> list[tuple[int, Dataset | None]]:
        async with qr_server(archive) as port:
            return await _find_all(
                port, identifier("STUDY", StudyInstanceUID="", StudyDescription="")
            )

    statuses = [s for s, _ in run(body())]
    assert statuses == [PENDING_KEYS_UNSUPPORTED] * 3 + [SUCCESS]


def test_find_patient_root_at_image_level(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    target = studies[0]

    async def body() -> list[tuple[int, Dataset | None]]:
        async with qr_server(archive, relational=False) as port:
            query = identifier(
                "IMAGE",
                PatientID=target.patient_id,
                StudyInstanceUID=target.study_uid,
                SeriesInstanceUID=target.series_uid,
                SOPInstanceUID="",
            )
            return await _find_all(port, query, QueryModel.PATIENT)

    responses = run(body())
    expected = {m.sop_instance_uid for m in studies if m.series_uid == target.series_uid}
    assert {str(ds.get_value("SOPInstanceUID")) for _, ds in responses if ds} == expected


class ManyMatches:
    """An archive with ``count`` image matches made on the fly (no files)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.yielded = 0

    def find(
        self, level: Level, identifier: Dataset, model: QueryModel, *, relational: bool
    ) -> Iterator[Dataset]:
        for number in range(1, self.count + 1):
            self.yielded += 1
            match = Dataset()
            match.set("SOPInstanceUID", f"1.2.826.0.1.3680043.10.1561.9.{number}")
            yield match

    def locate(self, level: Level, uids: Sequence[str]) -> Iterator[str]:
        return iter(())


def test_find_cancel_stops_matching() -> None:
    many = ManyMatches(5000)

    async def body() -> list[tuple[int, Dataset | None]]:
        async with qr_server(many) as port:
            return await _find_all(port, identifier("IMAGE", SOPInstanceUID=""), cancel_after=1)

    responses = run(body())
    assert responses[-1][0] == CANCEL
    # The SCP stopped matching: it did not go through the archive's 5000 matches.
    assert 1 <= len(responses) - 1 < 5000
    assert many.yielded < 5000


async def _raw_find(port: int, message: CFindRQ | CMoveRQ | CGetRQ, uid: str) -> object:
    async with await associate(
        scu_ae("QR-SCU"),
        "127.0.0.1",
        port,
        called_ae_title="QR-SCP",
        contexts=[query_context(QueryModel.STUDY, op) for op in Operation],
    ) as association:
        context = association.negotiated.find(uid)
        assert context is not None
        return await association.request(message, context.context_id)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"\x08\x00\x52\x00CS\xff\x7f", UNABLE_TO_PROCESS),  # a length past the end
        (encode_identifier(identifier(None, PatientID="x"), NATIVE[1]), 0xA900),
    ],
)
def test_find_with_a_bad_identifier_answers_a_failure(
    studies: list[Made], data: bytes, status: int
) -> None:
    archive = MemoryArchive([m.path for m in studies[:1]])

    async def body() -> object:
        async with qr_server(archive) as port:
            request = CFindRQ(message_id=1, affected_sop_class_uid=STUDY_ROOT_FIND, data_set=data)
            return await _raw_find(port, request, STUDY_ROOT_FIND)

    response = run(body())
    assert isinstance(response, CFindRSP)
    assert response.status == status
    assert response.error_comment


# -- C-MOVE -----------------------------------------------------------------------------------


async def _move(port: int, query: Dataset, destination: str) -> list[tuple[int, object]]:
    async with await associate(
        scu_ae("QR-SCU"),
        "127.0.0.1",
        port,
        called_ae_title="QR-SCP",
        contexts=[query_context(QueryModel.STUDY, Operation.MOVE)],
    ) as association:
        return [(r.status, r) async for r in move(association, query, destination)]


def test_move_study_to_a_second_scp(tmp_path: Path, studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    study = studies[0].study_uid
    wanted = [m for m in studies if m.study_uid == study]
    received = tmp_path / "dest"

    async def body() -> list[tuple[int, object]]:
        async with (
            running_server(scp_ae("DEST"), received) as (_, dest_port),
            qr_server(archive, {"DEST": ("127.0.0.1", dest_port)}) as port,
        ):
            return await _move(port, identifier("STUDY", StudyInstanceUID=study), "DEST")

    responses = run(body())
    statuses = [s for s, _ in responses]
    assert statuses == [PENDING] * (len(wanted) - 1) + [SUCCESS]
    remaining = [r.counts.remaining for _, r in responses]  # type: ignore[attr-defined]
    assert remaining == [*range(len(wanted) - 1, 0, -1), 0]
    final = responses[-1][1]
    assert final.counts.completed == len(wanted) and final.counts.failed == 0  # type: ignore[attr-defined]
    stored = sorted(received.glob("*.dcm"))
    assert sorted(p.stem for p in stored) == sorted(m.sop_instance_uid for m in wanted)
    for made in wanted:
        same_elements(made.path, received / f"{made.sop_instance_uid}.dcm")


def test_move_to_an_unknown_destination_is_a801(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])

    async def body() -> list[tuple[int, object]]:
        async with qr_server(archive, {}) as port:
            query = identifier("STUDY", StudyInstanceUID=studies[0].study_uid)
            return await _move(port, query, "NOWHERE")

    assert [s for s, _ in run(body())] == [MOVE_DESTINATION_UNKNOWN]


def test_move_to_a_destination_that_is_down_fails_every_sub_operation(
    studies: list[Made],
) -> None:
    archive = MemoryArchive([m.path for m in studies])

    async def body() -> list[tuple[int, object]]:
        async with qr_server(archive, {"DOWN": ("127.0.0.1", free_port())}) as port:
            query = identifier("STUDY", StudyInstanceUID=studies[0].study_uid)
            return await _move(port, query, "DOWN")

    responses = run(body())
    status, final = responses[-1]
    assert status == UNABLE_TO_PERFORM_SUBOPERATIONS
    wanted = {m.sop_instance_uid for m in studies if m.study_uid == studies[0].study_uid}
    assert final.counts.failed == len(wanted)  # type: ignore[attr-defined]
    assert set(final.failed_sop_instance_uids) == wanted  # type: ignore[attr-defined]


def test_move_with_an_unreadable_file_counts_a_failure(tmp_path: Path, studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"not dicom")
    first = next(
        r for r, _ in archive.records if r.get_value("SeriesInstanceUID") == studies[0].series_uid
    )
    archive.records.append((first, str(broken)))
    received = tmp_path / "dest"

    async def body() -> list[tuple[int, object]]:
        async with (
            running_server(scp_ae("DEST"), received) as (_, dest_port),
            qr_server(archive, {"DEST": ("127.0.0.1", dest_port)}) as port,
        ):
            query = identifier("SERIES", SeriesInstanceUID=studies[0].series_uid)
            return await _move(port, query, "DEST")

    status, final = run(body())[-1]
    assert status == SUBOPERATIONS_WARNING
    assert final.counts.failed == 1  # type: ignore[attr-defined]
    assert final.failed_sop_instance_uids == (str(broken),)  # type: ignore[attr-defined]


def test_move_response_without_remaining_when_final(studies: list[Made], tmp_path: Path) -> None:
    archive = MemoryArchive([m.path for m in studies[:1]])

    async def body() -> object:
        async with (
            running_server(scp_ae("DEST"), tmp_path) as (_, dest_port),
            qr_server(archive, {"DEST": ("127.0.0.1", dest_port)}) as port,
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=[query_context(QueryModel.STUDY, Operation.MOVE)],
            ) as association,
        ):
            context = association.negotiated.find(STUDY_ROOT_MOVE)
            assert context is not None
            request = CMoveRQ(
                message_id=5,
                affected_sop_class_uid=STUDY_ROOT_MOVE,
                move_destination="DEST",
                data_set=encode_identifier(
                    identifier("STUDY", StudyInstanceUID=studies[0].study_uid),
                    context.transfer_syntax,
                ),
            )
            return await association.request(request, context.context_id)

    final = run(body())
    assert isinstance(final, CMoveRSP)
    assert final.status == SUCCESS
    assert final.number_of_remaining_suboperations is None  # PS3.4 C.4.2.3.1
    assert final.number_of_completed_suboperations == 1


# -- C-GET ------------------------------------------------------------------------------------


def test_get_series_on_the_same_association(tmp_path: Path, studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    series = studies[0].series_uid
    wanted = [m for m in studies if m.series_uid == series]
    received = tmp_path / "got"

    async def body() -> list[object]:
        async with (
            qr_server(archive) as port,
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=get_contexts(QueryModel.STUDY),
            ) as association,
        ):
            query = identifier(
                "SERIES", StudyInstanceUID=studies[0].study_uid, SeriesInstanceUID=series
            )
            store = FileStore(received, fsync=False)
            return [r async for r in get(association, query, store)]

    responses = run(body())
    assert [r.status for r in responses] == [PENDING] * (len(wanted) - 1) + [SUCCESS]  # type: ignore[attr-defined]
    assert responses[-1].counts.completed == len(wanted)  # type: ignore[attr-defined]
    for made in wanted:
        same_elements(made.path, received / f"{made.sop_instance_uid}.dcm")


def test_get_without_storage_role_fails_the_sub_operations(
    tmp_path: Path, studies: list[Made]
) -> None:
    archive = MemoryArchive([m.path for m in studies])

    async def body() -> list[object]:
        async with (
            qr_server(archive) as port,
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=[query_context(QueryModel.STUDY, Operation.GET)],
            ) as association,
        ):
            query = identifier("STUDY", StudyInstanceUID=studies[0].study_uid)
            return [r async for r in get(association, query, FileStore(tmp_path, fsync=False))]

    final = run(body())[-1]
    assert final.status == UNABLE_TO_PERFORM_SUBOPERATIONS  # type: ignore[attr-defined]
    assert final.counts.completed == 0  # type: ignore[attr-defined]
    assert final.counts.failed == len([m for m in studies if m.study_uid == studies[0].study_uid])  # type: ignore[attr-defined]


def test_handlers_dispatch_c_find_by_sop_class(studies: list[Made]) -> None:
    """A Worklist C-FIND SCP and the Q/R one on one server: each gets its SOP class."""
    from dicompile.runtime.net.ae import SupportedContext
    from dicompile.runtime.net.negotiation import ProposedContext

    worklist_uid = "1.2.840.10008.5.1.4.31"
    seen: list[str] = []

    async def worklist(association: object, context: object, request: object) -> CFindRSP:
        assert isinstance(request, CFindRQ)
        seen.append(request.affected_sop_class_uid)
        return CFindRSP(message_id_being_responded_to=request.message_id, status=SUCCESS)

    archive = MemoryArchive([m.path for m in studies])

    async def body() -> tuple[list[int], list[int]]:
        ae = scp_ae(
            "QR-SCP",
            (*qr_scp_contexts(), SupportedContext(worklist_uid, scu=False, scp=True)),
        )
        scp = QueryRetrieveSCP(archive, ae)
        handlers = scp.handlers({CFindRQ: worklist})  # type: ignore[dict-item]
        async with (
            running_server(ae, handlers=handlers) as (_, port),
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=[
                    query_context(QueryModel.STUDY, Operation.FIND),
                    ProposedContext(worklist_uid, ("1.2.840.10008.1.2.1",)),
                ],
            ) as association,
        ):
            context = association.negotiated.find(worklist_uid)
            assert context is not None
            request = CFindRQ(
                message_id=association.next_message_id(),
                affected_sop_class_uid=worklist_uid,
                data_set=encode_identifier(identifier(None, PatientID="x"), NATIVE[1]),
            )
            wl = [(await association.request(request, context.context_id)).status]
            qr = [r.status async for r in find(association, identifier("STUDY", PatientID="P2"))]
        return wl, qr

    wl, qr = run(body())
    assert wl == [SUCCESS] and seen == [worklist_uid]
    assert qr == [PENDING, SUCCESS]


class SlowStore:
    """A store handler that takes its time, so a C-CANCEL arrives mid-retrieve."""

    def __init__(self, folder: Path) -> None:
        self.files = FileStore(folder, fsync=False)

    async def __call__(self, instance: ReceivedInstance) -> StoreOutcome:
        await asyncio.sleep(0.05)
        return await self.files(instance)


def test_move_cancel_answers_fe00_with_counts(tmp_path: Path, studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    p1 = [m for m in studies if m.patient_id == "P1"]

    async def body() -> list[object]:
        dest_ae = scp_ae("DEST")
        handlers = {CStoreRQ: storage_handler(SlowStore(tmp_path / "dest"))}
        async with (
            running_server(dest_ae, handlers=handlers) as (_, dest_port),
            qr_server(archive, {"DEST": ("127.0.0.1", dest_port)}) as port,
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=[query_context(QueryModel.PATIENT, Operation.MOVE)],
            ) as association,
        ):
            query = identifier("PATIENT", PatientID="P1")
            return [
                r
                async for r in move(
                    association, query, "DEST", model=QueryModel.PATIENT, cancel_after=1
                )
            ]

    responses = run(body())
    final = responses[-1]
    assert final.status == CANCEL  # type: ignore[attr-defined]
    counts = final.counts  # type: ignore[attr-defined]
    assert counts.completed >= 1 and counts.remaining >= 1
    assert counts.completed + counts.remaining + counts.failed == len(p1)


def test_get_cancel_answers_fe00(tmp_path: Path, studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])
    p1 = [m for m in studies if m.patient_id == "P1"]

    async def body() -> list[object]:
        async with (
            qr_server(archive) as port,
            await associate(
                scu_ae("QR-SCU"),
                "127.0.0.1",
                port,
                called_ae_title="QR-SCP",
                contexts=get_contexts(QueryModel.PATIENT),
            ) as association,
        ):
            query = identifier("PATIENT", PatientID="P1")
            store = SlowStore(tmp_path / "got")
            return [
                r
                async for r in get(
                    association, query, store, model=QueryModel.PATIENT, cancel_after=1
                )
            ]

    responses = run(body())
    final = responses[-1]
    assert final.status == CANCEL  # type: ignore[attr-defined]
    assert 1 <= final.counts.completed < len(p1)  # type: ignore[attr-defined]
    assert len(list((tmp_path / "got").glob("*.dcm"))) == final.counts.completed  # type: ignore[attr-defined]


GARBAGE = b"\x08\x00\x52\x00CS\xff\x7f"  # (0008,0052) with a length past the end
NO_LEVEL = encode_identifier(identifier(None, StudyInstanceUID="1.2.3"), NATIVE[1])
NO_UID = encode_identifier(identifier("SERIES", Modality="CT"), NATIVE[1])


@pytest.mark.parametrize(
    ("kind", "data", "status"),
    [
        ("move", GARBAGE, UNABLE_TO_PROCESS),
        ("move", NO_LEVEL, IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),
        ("get", GARBAGE, UNABLE_TO_PROCESS),
        ("get", NO_LEVEL, IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),
    ],
)
def test_retrieve_with_a_bad_identifier_answers_a_failure(
    studies: list[Made], kind: str, data: bytes, status: int
) -> None:
    archive = MemoryArchive([m.path for m in studies[:1]])

    async def body() -> object:
        async with qr_server(archive, {"DEST": ("127.0.0.1", 1)}) as port:
            if kind == "move":
                request: CMoveRQ | CGetRQ = CMoveRQ(
                    message_id=1,
                    affected_sop_class_uid=STUDY_ROOT_MOVE,
                    move_destination="DEST",
                    data_set=data,
                )
                return await _raw_find(port, request, STUDY_ROOT_MOVE)
            request = CGetRQ(message_id=1, affected_sop_class_uid=STUDY_ROOT_GET, data_set=data)
            return await _raw_find(port, request, STUDY_ROOT_GET)

    response = run(body())
    assert isinstance(response, CMoveRSP | CGetRSP)
    assert response.status == status
    assert response.error_comment
    assert response.number_of_remaining_suboperations is None


def test_hierarchical_only_retrieve_needs_the_unique_key(studies: list[Made]) -> None:
    archive = MemoryArchive([m.path for m in studies])

    async def body() -> object:
        async with qr_server(archive, {"DEST": ("127.0.0.1", 1)}, relational=False) as port:
            request = CMoveRQ(
                message_id=1,
                affected_sop_class_uid=STUDY_ROOT_MOVE,
                move_destination="DEST",
                data_set=NO_UID,
            )
            return await _raw_find(port, request, STUDY_ROOT_MOVE)

    response = run(body())
    assert isinstance(response, CMoveRSP)
    assert response.status == IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS
    assert response.offending_element == (0x0020000D,)  # the study's unique key
