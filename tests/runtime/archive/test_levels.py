"""The archive's hand-written level tables agree with the generated PS3.4 key tables."""

from __future__ import annotations

import pytest

from dicompile.runtime.archive.levels import UNIQUE_KEY, QueryLevel, QueryModel, model_level_of


@pytest.mark.parametrize(
    ("model", "generated_name"),
    [
        (QueryModel.PATIENT_ROOT, "PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL"),
        (QueryModel.STUDY_ROOT, "STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL"),
    ],
)
def test_levels_match_generated_key_tables(model: QueryModel, generated_name: str) -> None:
    """PS3.4 Tables C.6-1..C.6-7: every key the standard places at a level is kept and
    matched at that level by the archive, and the unique keys agree."""
    keys = pytest.importorskip("dicompile.generated.services.query_retrieve_keys")
    generated = getattr(keys, generated_name)
    assert [level.value for level in generated.levels] == [lvl.value for lvl in model.levels]
    for level in generated.levels:
        ours = QueryLevel(level.value)
        for key in level.keys:
            if key.tag is None:
                continue  # "All other Attributes at ... Level"
            assert model_level_of(key.tag, model) is ours, (level.value, key.keyword)
            if key.matching.name == "UNIQUE":
                assert UNIQUE_KEY[ours] == key.tag
