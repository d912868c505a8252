"""Helpers for the network tests (tests/runtime/net, tests/interop): bounded asyncio runs,
a test server, and small DICOM files written by pydicom (a test-only oracle, independent
of our writer)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from dicompile.runtime.net.ae import ApplicationEntity, SupportedContext, Timeouts
from dicompile.runtime.net.association import RequestHandler
from dicompile.runtime.net.dimse import CEchoRQ, CStoreRQ, Request
from dicompile.runtime.net.server import Server
from dicompile.runtime.net.services.storage import (
    FileStore,
    storage_handler,
    storage_scp_contexts,
)
from dicompile.runtime.net.services.verification import VERIFICATION_SCP, handle_echo

T = TypeVar("T")

#: Every test coroutine is bounded: a hang fails the test instead of the suite.
TEST_TIMEOUT: Final = 30.0
FAST: Final = Timeouts(artim=2.0, connect=5.0, acse=5.0, dimse=10.0, idle=10.0)

CT_IMAGE: Final = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT_LE: Final = "1.2.840.10008.1.2"
EXPLICIT_LE: Final = "1.2.840.10008.1.2.1"
DEFLATED_LE: Final = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE: Final = "1.2.840.10008.1.2.2"
JPEG_BASELINE: Final = "1.2.840.10008.1.2.4.50"


def run(coro: Coroutine[Any, Any, T], timeout: float = TEST_TIMEOUT) -> T:
    """Run ``coro`` in a fresh event loop, failing after ``timeout`` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def scp_ae(
    title: str = "STORE-SCP",
    contexts: tuple[SupportedContext, ...] | None = None,
    **kwargs: Any,
) -> ApplicationEntity:
    kwargs.setdefault("timeouts", FAST)
    return ApplicationEntity(
        title,
        contexts=contexts if contexts is not None else (VERIFICATION_SCP, *storage_scp_contexts()),
        **kwargs,
    )


def scu_ae(title: str = "STORE-SCU", **kwargs: Any) -> ApplicationEntity:
    kwargs.setdefault("timeouts", FAST)
    return ApplicationEntity(title, **kwargs)


@asynccontextmanager
async def running_server(
    ae: ApplicationEntity,
    storage: Path | None = None,
    *,
    handlers: Mapping[type[Request], RequestHandler] | None = None,
    fsync: bool = False,
    **kwargs: Any,
) -> AsyncIterator[tuple[Server, int]]:
    """A server on 127.0.0.1 and a free port, closed afterwards."""
    if handlers is None:
        handlers = {CEchoRQ: handle_echo}
        if storage is not None:
            handlers = {**handlers, CStoreRQ: storage_handler(FileStore(storage, fsync=fsync))}
    server = Server(ae, handlers, **kwargs)
    _, port = await server.start("127.0.0.1", 0)
    try:
        yield server, port
    finally:
        await server.close(grace=2.0)


async def gather_all(*awaitables: Awaitable[T]) -> list[T]:
    return list(await asyncio.gather(*awaitables))


# --------------------------------------------------------------------------------------
# Files made by pydicom
# --------------------------------------------------------------------------------------


def _uid(rng: random.Random) -> str:
    return "2.25." + str(rng.getrandbits(100))


def make_ct(
    path: Path,
    *,
    syntax: str = EXPLICIT_LE,
    seed: int = 0,
    rows: int = 64,
    columns: int = 64,
    sop_instance_uid: str | None = None,
) -> Path:
    """A small CT image with a sequence, a private block and accented text, as pydicom
    writes it in ``syntax``."""
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence

    rng = random.Random(seed)
    instance = sop_instance_uid or _uid(rng)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1561.9"
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = instance
    ds.StudyInstanceUID = _uid(rng)
    ds.SeriesInstanceUID = _uid(rng)
    ds.PatientName = "Müller^Jürgen"
    ds.PatientID = f"ID{seed}"
    ds.Modality = "CT"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SliceThickness = "1.25"
    ds.ImagePositionPatient = [0.5, -1.25, float(seed)]
    ds.InstanceNumber = seed
    item = Dataset()
    item.CodeValue = "T-D3000"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Chest"
    ds.AnatomicRegionSequence = Sequence([item])
    block = ds.private_block(0x0029, "DICOMPILE TEST", create=True)
    block.add_new(0x01, "LO", "private value")
    ds.Rows = rows
    ds.Columns = columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    pixels = bytes(rng.getrandbits(8) for _ in range(rows * columns * 2))
    ds.PixelData = pixels
    ds["PixelData"].VR = "OW"
    import pydicom

    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def make_jpeg_like(path: Path, *, seed: int = 0) -> Path:
    """A CT "compressed" with JPEG Baseline: encapsulated fragments that are not decoded by
    anyone here (C-STORE passes them through)."""
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.encaps import encapsulate

    rng = random.Random(seed)
    instance = _uid(rng)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = JPEG_BASELINE
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = instance
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate(
        [b"\xff\xd8" + bytes(rng.getrandbits(8) for _ in range(30)) + b"\xff\xd9"]
    )
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def same_elements(sent: Path, stored: Path) -> None:
    """Assert that two files hold the same data set, element for element (pydicom reads
    both; file meta information is not compared)."""
    import pydicom

    a = pydicom.dcmread(sent)
    b = pydicom.dcmread(stored)
    _same_datasets(a, b, a.original_encoding[1] != b.original_encoding[1])


_WORD_SIZES: Final = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:120] + "..."


def _same_datasets(a: Any, b: Any, swapped: bool) -> None:
    assert [e.tag for e in a] == [e.tag for e in b]
    for x, y in zip(a, b, strict=True):
        if "UN" in (x.VR, y.VR) and x.VR != y.VR:
            # Implicit VR: a private element's VR is unknown to the reader (PS3.5 §6.2.2).
            known, unknown = (x, y) if y.VR == "UN" else (y, x)
            assert isinstance(known.value, str), (known.tag, known.VR)
            assert unknown.value.decode("latin-1").rstrip(" \x00") == known.value
            continue
        assert x.VR == y.VR, (x.tag, x.VR, y.VR)
        if x.VR == "SQ":
            assert len(x.value) == len(y.value), x.tag
            for i, j in zip(x.value, y.value, strict=True):
                _same_datasets(i, j, swapped)
            continue
        xv, yv = x.value, y.value
        if swapped and x.VR in _WORD_SIZES and isinstance(yv, bytes):
            # pydicom keeps OW/OF/... as the file's bytes: compare the words, not the bytes.
            size = _WORD_SIZES[x.VR]
            yv = b"".join(yv[k : k + size][::-1] for k in range(0, len(yv), size))
        assert xv == yv, (x.tag, _short(xv), _short(yv))


def make_corpus(
    folder: Path, count: int, *, syntax: str = EXPLICIT_LE, start: int = 0
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_ct(folder / f"ct{i:04d}.dcm", syntax=syntax, seed=i)
        for i in range(start, start + count)
    ]


Callback = Callable[[], None]
