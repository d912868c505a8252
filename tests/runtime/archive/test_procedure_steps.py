"""The workflow state store (procedure_steps.sqlite): MPPS rows and commitment requests."""

from __future__ import annotations

from pathlib import Path

from dicompile.runtime.archive.procedure_steps import FILE_NAME, ProcedureStepStore
from dicompile.runtime.core.dataset import Dataset


def attributes(step_id: str) -> Dataset:
    dataset = Dataset()
    dataset.set("PerformedProcedureStepID", step_id)
    dataset.set("PatientName", "DOE^JANE")
    return dataset


def test_steps_survive_a_reopen_and_update_only_from_the_expected_status(tmp_path: Path) -> None:
    store = ProcedureStepStore(tmp_path)
    assert store.create_step("1.2.3", "IN PROGRESS", "MOD", attributes("A"))
    assert not store.create_step("1.2.3", "IN PROGRESS", "MOD", attributes("B"))  # taken
    store.close()
    assert (tmp_path / FILE_NAME).is_file()

    store = ProcedureStepStore(tmp_path)
    step = store.step("1.2.3")
    assert step is not None
    assert (step.status, step.creator_ae_title) == ("IN PROGRESS", "MOD")
    assert step.attributes.get_value("PerformedProcedureStepID") == "A"
    # compare-and-set on the status: the second final update loses
    assert store.update_step("1.2.3", "IN PROGRESS", "COMPLETED", attributes("C"))
    assert not store.update_step("1.2.3", "IN PROGRESS", "DISCONTINUED", attributes("D"))
    step = store.step("1.2.3")
    assert step is not None and step.status == "COMPLETED"
    assert step.attributes.get_value("PerformedProcedureStepID") == "C"
    assert store.step("9.9") is None
    assert [s.sop_instance_uid for s in store.steps()] == ["1.2.3"]


def test_commitments_are_recorded_once_and_reported(tmp_path: Path) -> None:
    store = ProcedureStepStore(tmp_path)
    info = Dataset()
    info.set("TransactionUID", "2.25.1")
    assert store.add_commitment("2.25.1", "SCU", info)
    assert not store.add_commitment("2.25.1", "SCU", info)  # Transaction UID seen before
    assert store.add_commitment("2.25.2", "OTHER", info)
    pending = store.commitment("2.25.1")
    assert pending is not None and pending.event_type_id is None and pending.reported is None
    result = Dataset()
    result.set("TransactionUID", "2.25.1")
    store.record_result("2.25.1", 1, result)
    store.mark_reported("2.25.1")
    done = store.commitment("2.25.1")
    assert done is not None and done.event_type_id == 1 and done.reported is not None
    assert done.event_information is not None
    assert done.event_information.get_value("TransactionUID") == "2.25.1"
    assert [c.transaction_uid for c in store.unreported()] == ["2.25.2"]
