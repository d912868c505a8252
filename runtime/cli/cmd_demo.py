"""``dicompile demo``: the main job on bundled defaults, end to end.

It runs what a user would run, as separate ``dicompile`` processes, and checks the results:

1. look up the generated data dictionary and UID registry (no ../shared needed: the
   generated code is committed);
2. build a CT Image instance (PS3.3 A.3) and write it as a Part 10 file (PS3.10 §7);
3. print it with ``dicompile dump``;
4. start ``dicompile serve`` on 127.0.0.1, C-ECHO it, C-STORE the file to it, stop it with
   SIGTERM, and check that the stored file holds the same data set, element for element.

Nothing leaves the loopback interface.  Exit status 0 when every step passed.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

_LISTENING = re.compile(r"listening on (?P<host>[\d.]+):(?P<port>\d+)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the main job on bundled defaults (dictionary, Part 10, network on loopback)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the files the demo writes (default: a temporary folder, removed after)",
    )
    parser.set_defaults(handler=_demo)


def _step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def _run(arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run ``dicompile ARGUMENTS`` as its own process, echoing the command and its output."""
    command = [sys.executable, "-m", "dicompile.runtime.cli", *arguments]
    print("$ dicompile " + " ".join(arguments), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise DemoFailed(f"'dicompile {' '.join(arguments)}' exited with {done.returncode}")
    return done


class DemoFailed(Exception):
    """A step of the demo did not do what it should."""


def build_ct_image() -> object:
    """A small but complete CT Image instance (PS3.3 A.3), 64×64 16-bit, as a Dataset."""
    from dicompile.generated import tags, uids
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.core.vr import VR

    ds = Dataset()
    study = "2.25.302718497183052395478251339312813451991"
    ds[tags.SpecificCharacterSet] = "ISO_IR 192"
    ds[tags.ImageType] = ("ORIGINAL", "PRIMARY", "AXIAL")
    ds[tags.SOPClassUID] = uids.CTImageStorage
    ds[tags.SOPInstanceUID] = study + ".1.1"
    ds[tags.StudyDate] = "20261126"
    ds[tags.StudyTime] = "101500"
    ds[tags.AccessionNumber] = "DEMO0001"
    ds[tags.Modality] = "CT"
    ds[tags.Manufacturer] = "dicompile"
    ds[tags.ReferringPhysicianName] = ""
    ds[tags.PatientName] = "Müller^Jürgen"
    ds[tags.PatientID] = "DEMO-1"
    ds[tags.PatientBirthDate] = "19700101"
    ds[tags.PatientSex] = "M"
    ds[tags.KVP] = "120"
    ds[tags.StudyInstanceUID] = study
    ds[tags.SeriesInstanceUID] = study + ".1"
    ds[tags.StudyID] = "1"
    ds[tags.SeriesNumber] = "1"
    ds[tags.InstanceNumber] = "1"
    ds[tags.ImagePositionPatient] = ("-32", "-32", "0")
    ds[tags.ImageOrientationPatient] = ("1", "0", "0", "0", "1", "0")
    ds[tags.FrameOfReferenceUID] = study + ".2"
    ds[tags.PositionReferenceIndicator] = ""
    ds[tags.SliceThickness] = "1.25"
    ds[tags.PixelSpacing] = ("0.5", "0.5")
    ds[tags.SamplesPerPixel] = 1
    ds[tags.PhotometricInterpretation] = "MONOCHROME2"
    ds[tags.Rows] = 64
    ds[tags.Columns] = 64
    ds[tags.BitsAllocated] = 16
    ds[tags.BitsStored] = 12
    ds[tags.HighBit] = 11
    ds[tags.PixelRepresentation] = 0
    ds[tags.RescaleIntercept] = "-1024"
    ds[tags.RescaleSlope] = "1"
    # A gradient, so a viewer shows something and a byte error would show too.
    pixels = b"".join(((i * 4) & 0x0FFF).to_bytes(2, "little") for i in range(64 * 64))
    ds.set(tags.PixelData, pixels, VR.OW)
    return ds


def _serve(storage: Path) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "dicompile.runtime.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", "0", "--aet", "DEMO_SCP", "--storage", str(storage)]
    print("$ dicompile " + " ".join(command[3:]) + " &", flush=True)
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    print(line, end="", flush=True)
    match = _LISTENING.search(line)
    if match is None:
        server.kill()
        raise DemoFailed(f"dicompile serve did not say where it listens: {line!r}")
    return server, int(match["port"])


def _demo(args: argparse.Namespace) -> int:
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        return _run_demo(args.out)
    with tempfile.TemporaryDirectory(prefix="dicompile-demo-") as folder:
        return _run_demo(Path(folder))


def _run_demo(out: Path) -> int:
    from dicompile.runtime import read_file, write_file

    try:
        _step("1. The generated data dictionary and UID registry")
        _run(["dictionary", "PatientName", "(60xx,3000)", "7FE00010"])
        _run(["uids", "CTImageStorage", "1.2.840.10008.1.2.1"])

        _step("2. Build a CT Image instance and write it as a Part 10 file")
        dataset = build_ct_image()
        path = out / "ct-demo.dcm"
        size = write_file(path, dataset)  # type: ignore[arg-type]
        print(f"wrote {path} ({size} bytes, Explicit VR Little Endian)")
        again = read_file(path)
        if again.dataset != dataset:
            raise DemoFailed("the file read back differs from the data set written")
        print("read back: equal, element for element")

        _step("3. Print it")
        _run(["dump", str(path)])

        _step("4. Verification and Storage over loopback")
        storage = out / "received"
        server, port = _serve(storage)
        try:
            _run(["echo", "127.0.0.1", str(port), "--called-aet", "DEMO_SCP"])
            _run(["store", "127.0.0.1", str(port), str(path), "--called-aet", "DEMO_SCP"])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        received = sorted(storage.rglob("*.dcm"))
        if len(received) != 1:
            raise DemoFailed(f"expected one stored file in {storage}, found {len(received)}")
        stored = read_file(received[0])
        if stored.dataset != dataset:
            raise DemoFailed(f"{received[0]} does not hold the data set that was sent")
        print(f"stored as {received[0].relative_to(out)}: equal to what was sent")
    except DemoFailed as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        return 1
    print("\ndemo: every step passed")
    return 0
