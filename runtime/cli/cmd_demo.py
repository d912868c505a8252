"""``dicompile demo``: the main job on bundled defaults, end to end.

It runs what a user would run, as separate ``dicompile`` processes, and checks the results:

1. look up the generated data dictionary and UID registry (no ../shared needed: the
   generated code is committed);
2. build a CT Image instance (PS3.3 A.3) with the generated typed classes and write it as
   a Part 10 file (PS3.10 §7);
3. print it with ``dicompile dump`` and validate it with ``dicompile validate``;
4. start ``dicompile serve`` on 127.0.0.1, C-ECHO it, C-STORE the file to it, stop it with
   SIGTERM, and check that the stored file holds the same data set, element for element;
5. report what the generated code covers (``dicompile coverage``).

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dicompile.runtime.core.dataset import Dataset

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


def build_ct_image() -> Dataset:
    """A 64×64 CT Image (PS3.3 A.3) built with the generated typed classes, as a Dataset.

    mypy checks this function like any application code: every Type 1 and Type 2 attribute
    of the mandatory modules must be given, each value of its VR's type.
    """
    from dicompile.generated import uids
    from dicompile.generated.iods.ct_image import CTImage
    from dicompile.generated.modules.ct_image import CTImageModule
    from dicompile.generated.modules.frame_of_reference import FrameOfReferenceModule
    from dicompile.generated.modules.general_equipment import GeneralEquipmentModule
    from dicompile.generated.modules.general_image import GeneralImageModule
    from dicompile.generated.modules.general_series import GeneralSeriesModule
    from dicompile.generated.modules.general_study import GeneralStudyModule
    from dicompile.generated.modules.image_pixel import ImagePixelModule
    from dicompile.generated.modules.image_plane import ImagePlaneModule
    from dicompile.generated.modules.patient import PatientModule
    from dicompile.generated.modules.sop_common import SOPCommonModule
    from dicompile.runtime.core.values import DA, TM, PersonName

    study = "2.25.302718497183052395478251339312813451991"
    # A gradient, so a viewer shows something and a byte error would show too.
    pixels = b"".join(((i * 4) & 0x0FFF).to_bytes(2, "little") for i in range(64 * 64))
    ct = CTImage(
        patient=PatientModule(
            patient_name=PersonName("Müller^Jürgen"),
            patient_id="DEMO-1",
            patient_birth_date=DA("19700101"),
            patient_sex="M",
        ),
        general_study=GeneralStudyModule(
            study_instance_uid=study,
            study_date=DA("20261126"),
            study_time=TM("101500"),
            referring_physician_name=None,
            study_id="1",
            accession_number="DEMO0001",
        ),
        general_series=GeneralSeriesModule(
            modality="CT", series_instance_uid=study + ".1", series_number=1
        ),
        frame_of_reference=FrameOfReferenceModule(
            frame_of_reference_uid=study + ".2", position_reference_indicator=None
        ),
        general_equipment=GeneralEquipmentModule(manufacturer="dicompile"),
        general_image=GeneralImageModule(instance_number=1),
        image_plane=ImagePlaneModule(
            pixel_spacing=(0.5, 0.5),
            image_orientation_patient=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
            image_position_patient=(-16.0, -16.0, 0.0),
            slice_thickness=1.25,
        ),
        image_pixel=ImagePixelModule(
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            rows=64,
            columns=64,
            bits_allocated=16,
            bits_stored=12,
            high_bit=11,
            pixel_representation=0,
            pixel_data=pixels,
        ),
        ct_image=CTImageModule(
            image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            bits_allocated=16,
            bits_stored=12,
            high_bit=11,
            rescale_intercept=-1024.0,
            rescale_slope=1.0,
            kvp=120.0,
            acquisition_number=None,
        ),
        sop_common=SOPCommonModule(
            sop_class_uid=uids.CTImageStorage,
            sop_instance_uid=study + ".1.1",
            specific_character_set=("ISO_IR 192",),
        ),
    )
    return ct.to_dataset()


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

        _step("2. Build a CT Image with the generated typed classes, write it as Part 10")
        dataset = build_ct_image()
        path = out / "ct-demo.dcm"
        size = write_file(path, dataset)
        print(f"wrote {path} ({size} bytes, Explicit VR Little Endian)")
        again = read_file(path)
        if again.dataset != dataset:
            raise DemoFailed("the file read back differs from the data set written")
        print("read back: equal, element for element")

        _step("3. Print it, and validate it against the CT Image IOD")
        _run(["dump", str(path)])
        _run(["validate", str(path)])

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

        _step("5. What the generated code covers")
        _run(["coverage"])
    except DemoFailed as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        return 1
    print("\ndemo: every step passed")
    return 0
