"""dcmtk storescu sending instances larger than the Storage SCP's streaming threshold: each
data set is written to its file as its (16 KB, storescu's default maximum) PDUs arrive, and
the stored file holds exactly the data set storescu sent (PS3.4 B.4.2; PS3.8 Annex E)."""

from __future__ import annotations

from pathlib import Path

import pytest
from net_support import EXPLICIT_LE, IMPLICIT_LE, make_ct, run, running_server, scp_ae

from dicompile.runtime.net.dimse import CStoreRQ
from dicompile.runtime.net.services.storage import FileStore, probe, storage_handler

from .peers import need_dcmtk, run_tool

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("syntax", [EXPLICIT_LE, IMPLICIT_LE])
def test_storescu_large_instances_are_streamed_byte_for_byte(tmp_path: Path, syntax: str) -> None:
    storescu = need_dcmtk("storescu")
    (tmp_path / "in").mkdir()
    sent = [
        make_ct(tmp_path / "in" / f"ct{i}.dcm", syntax=syntax, seed=i, rows=1024, columns=768)
        for i in range(2)
    ]
    folder = tmp_path / "store"
    store = FileStore(folder, fsync=True, stream_threshold=64 * 1024)
    opened: list[object] = []
    open_stream = store.open_stream

    def counting(instance: object) -> object:
        sink = open_stream(instance)  # type: ignore[arg-type]
        opened.append(sink)
        return sink

    store.open_stream = counting  # type: ignore[assignment, method-assign]

    async def go() -> tuple[int, str]:
        handlers = {CStoreRQ: storage_handler(store)}
        async with running_server(scp_ae(), handlers=handlers) as (_, port):
            return await run_tool(
                storescu, "-xi" if syntax == IMPLICIT_LE else "-xe", "-aec", "STORE-SCP",
                "+sd", "+r", "127.0.0.1", str(port),
                str(tmp_path / "in"),
            )  # fmt: skip

    code, out = run(go())
    assert code == 0, out
    assert len(opened) == 2 and all(sink is not None for sink in opened)
    files = sorted(p for p in folder.iterdir())
    assert [p.name.startswith(".") for p in files] == [False, False]
    by_uid = {probe(f).sop_instance_uid: f for f in files}
    for path in sent:
        source = probe(path)
        target = by_uid[source.sop_instance_uid]
        stored = probe(target)
        assert stored.transfer_syntax == syntax
        # The data set as storescu read it from the file (no conversion: -xi / -xe propose
        # only the files' own syntax), byte for byte behind our File Meta Information.
        original = path.read_bytes()[source.data_set_offset or 0 :]
        assert stored.data_set_offset is not None
        assert target.read_bytes()[stored.data_set_offset :] == original
        assert len(original) > 1024 * 768 * 2
