"""The generator's pipeline: read the sources, merge them, run the passes, render, write.

Theory of operation
-------------------
Three explicit, ordered lists say everything the generator does (STYLE.md §8):

* :data:`READERS` -- which files of a ``--standard`` folder are read, and by what.  A folder is
  recognised by its content (``partNN.xml`` DocBook parts, ``attributes.json`` of the JSON
  rendition); files no reader consumes yet (``part03.xml``, the PS3.3 JSON files) are left
  alone.  Each reader returns a :class:`StandardModel` of its source.
* :data:`PASSES` -- pure functions ``StandardModel -> StandardModel``, run in this order on the
  merged standard set (``standard_set.merge``: the newer edition wins, conflicts are kept).
* :data:`EMIT_JOBS` -- each renders files, from the final model (:func:`from_model`) or from
  one source file of the newest edition (:func:`from_file`, for emitters with a model of
  their own such as the PS3.8 state table), and declares the paths it owns in the output
  folder (a file, or a folder ending in ``/`` that it writes in full).

To add an emitter (a PS3.8 state table, PS3.3 modules, ...) append an :class:`EmitJob`; if it
renders from the merged model, also a :class:`SourceReader` for a new source and
:class:`Pass` entries for derived data.

PS3.3 (IODs, modules, macros) has a model of its own (``generator/iod_model.py``) and is built
beside the standard model: :func:`generator.iod_build.build_iods` reads every folder holding a
DocBook ``part03.xml`` or the JSON rendition's PS3.3 files, corrects (errata), links, merges
(newest edition wins), names the rules after the merged dictionary and parses every condition.
Emit jobs find it as :attr:`Build.iods` (an :class:`~dicompile.generator.iod_build.IODModel`:
``.model`` the :class:`Part03Model` whose rules carry ``parsed_condition``, ``.condition(text)``
for usage and include conditions, ``.names`` the name index); :func:`from_iods` makes a job that
renders from it and is skipped when the folders hold no PS3.3.

Everything is rendered in memory and written to a temporary folder beside the output first;
only when every job has rendered are the owned paths moved into place, so a failure never
leaves a partial dictionary.  ``check`` renders the same way and compares instead of moving.
"""

from __future__ import annotations

import filecmp
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from dicompile.generator.emit.dictionary import emit_dictionary, emit_tags
from dicompile.generator.emit.dimse import DIMSE_FILE, render_dimse
from dicompile.generator.emit.package import emit_package
from dicompile.generator.emit.render import GeneratedFile
from dicompile.generator.emit.requirements import FOLDER as REQUIREMENTS_FOLDER
from dicompile.generator.emit.requirements import emit_requirements
from dicompile.generator.emit.services import SERVICES_DIR, render_services
from dicompile.generator.emit.typed_classes import emit_typed_files
from dicompile.generator.emit.uids import emit_context_groups, emit_uids
from dicompile.generator.emit.ul_table import UL_TABLE_FILE, render_ul_table
from dicompile.generator.iod_build import IODModel, build_iods
from dicompile.generator.model import Conflict, StandardModel, edition_sort_key
from dicompile.generator.passes.context_group_keywords import name_context_group_keywords
from dicompile.generator.passes.element_keywords import check_element_keywords
from dicompile.generator.passes.part06_errata import apply_part06_errata
from dicompile.generator.passes.transfer_syntaxes import describe_transfer_syntaxes
from dicompile.generator.passes.uid_keywords import name_uid_keywords
from dicompile.generator.sources.docbook.part06 import read_part06
from dicompile.generator.sources.json_rendition import ATTRIBUTES_FILE, read_attributes
from dicompile.generator.standard_set import merge
from dicompile.runtime.errors import StandardSourceError

_DOCBOOK_PART = re.compile(r"part\d\d\.xml")


@attrs.frozen
class SourceReader:
    """Reads one kind of file found in a ``--standard`` folder."""

    name: str
    file_name: str  # the file it reads in a folder ("part06.xml", "attributes.json")
    read: Callable[[Path], StandardModel]


@attrs.frozen
class Pass:
    """A named pure function from model to model."""

    name: str
    run: Callable[[StandardModel], StandardModel]


@attrs.frozen
class Build:
    """What emit jobs render from: the final model, the ``--standard`` folders and PS3.3.

    ``iods`` is ``None`` when no folder holds PS3.3 (see the module docstring).
    """

    model: StandardModel
    folders: tuple[Path, ...]
    iods: IODModel | None = None

    def newest(self, file_name: str) -> Path:
        """The file named ``file_name`` of the newest edition among the folders.

        The edition is read from the DocBook ``<subtitle>`` near the top of the file; between
        equal editions the folder given last wins.  Raises :class:`StandardSourceError` when no
        folder has the file (a :class:`MissingSource`: the job is skipped).
        """
        found = [folder / file_name for folder in self.folders if (folder / file_name).is_file()]
        if not found:
            raise MissingSource(
                f"no --standard folder holds {file_name}",
                source_file=", ".join(str(f) for f in self.folders),
            )
        ranked = sorted(enumerate(found), key=lambda item: (_sniff_edition(item[1]), item[0]))
        return ranked[-1][1]


_SUBTITLE_EDITION = re.compile(rb"<subtitle>\s*DICOM\s+PS\s?3\.\d+\s+(\d{4}[a-z]?)")


def _sniff_edition(path: Path) -> tuple[int, str]:
    with path.open("rb") as stream:
        head = stream.read(8192)
    match = _SUBTITLE_EDITION.search(head)
    return edition_sort_key(match[1].decode()) if match else (0, "")


Render = Callable[[Build], Sequence[GeneratedFile]]


@attrs.frozen
class EmitJob:
    """Renders files; ``owns`` are the output paths it writes in full (a folder ends in "/")."""

    name: str
    owns: tuple[str, ...]
    render: Render


class MissingSource(StandardSourceError):
    """The ``--standard`` folders hold nothing a job renders from: the job is skipped.

    Its output is then neither written, nor removed, nor compared, and the run reports the
    skipped job: a partial set of sources never yields an empty dictionary.
    """


def from_model(
    emit: Callable[[StandardModel], Sequence[GeneratedFile]],
    needs: Callable[[StandardModel], object] = lambda model: model.sources,
    what: str = "any source",
) -> Render:
    """A job rendering from the merged model; skipped (:class:`MissingSource`) unless ``needs``."""

    def render(build: Build) -> Sequence[GeneratedFile]:
        if not needs(build.model):
            raise MissingSource(f"the --standard folders give no {what}")
        return emit(build.model)

    return render


def from_iods(emit: Callable[[IODModel, StandardModel], Sequence[GeneratedFile]]) -> Render:
    """A job rendering from PS3.3 (and the dictionary); skipped when no folder holds PS3.3."""

    def render(build: Build) -> Sequence[GeneratedFile]:
        if build.iods is None or not build.iods.model.iods:
            raise MissingSource("the --standard folders give no PS3.3 IOD (part03.xml, ciods.json)")
        return emit(build.iods, build.model)

    return render


def from_file(file_name: str, emit: Callable[[Path], Mapping[str, str]]) -> Render:
    """A job rendering from one source file (the newest edition's), e.g. ``part08.xml``.

    ``emit`` maps output paths (relative to ``generated/``) to file texts, as
    ``emit.ul_table.render_ul_table`` does.
    """

    def render(build: Build) -> Sequence[GeneratedFile]:
        rendered = emit(build.newest(file_name))
        return [GeneratedFile(path, text) for path, text in sorted(rendered.items())]

    return render


_ELEMENTS = "PS3.6 data element registry"


def _has_elements(model: StandardModel) -> bool:
    return bool(model.data_elements)


def _has_uids(model: StandardModel) -> bool:
    return bool(model.uids)


def _has_context_groups(model: StandardModel) -> bool:
    return bool(model.context_groups)


READERS: tuple[SourceReader, ...] = (
    SourceReader("PS3.6 DocBook", "part06.xml", read_part06),
    SourceReader("PS3.6 JSON rendition", ATTRIBUTES_FILE, read_attributes),
)

PASSES: tuple[Pass, ...] = (
    Pass("part06_errata", apply_part06_errata),
    Pass("element_keywords", check_element_keywords),
    Pass("uid_keywords", name_uid_keywords),
    Pass("context_group_keywords", name_context_group_keywords),
    Pass("transfer_syntaxes", describe_transfer_syntaxes),
)

EMIT_JOBS: tuple[EmitJob, ...] = (
    EmitJob("package", ("__init__.py", "py.typed"), from_model(emit_package)),
    EmitJob("dictionary", ("dictionary/",), from_model(emit_dictionary, _has_elements, _ELEMENTS)),
    EmitJob("tags", ("tags/",), from_model(emit_tags, _has_elements, _ELEMENTS)),
    EmitJob("uids", ("uids.py",), from_model(emit_uids, _has_uids, "PS3.6 Table A-1")),
    EmitJob(
        "context_groups",
        ("context_groups.py",),
        from_model(emit_context_groups, _has_context_groups, "PS3.6 Table A-3"),
    ),
    EmitJob("ul_table", (UL_TABLE_FILE,), from_file("part08.xml", render_ul_table)),
    EmitJob("dimse", (DIMSE_FILE,), from_file("part07.xml", render_dimse)),
    EmitJob("requirements", (REQUIREMENTS_FOLDER,), from_iods(emit_requirements)),
    EmitJob("typed", ("modules/", "iods/"), from_iods(emit_typed_files)),
    EmitJob("services", (SERVICES_DIR,), render_services),
)


@attrs.frozen
class Result:
    """What a run produced: the model, the rendered files and, for a check, the differences."""

    model: StandardModel
    files: tuple[GeneratedFile, ...]
    differences: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # "job: why" for each job without a source
    iods: IODModel | None = None  # PS3.3, when a folder holds it

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        return self.model.conflicts


def is_standard_folder(folder: Path) -> bool:
    """True when ``folder`` holds DocBook parts (``partNN.xml``) or the JSON rendition."""
    return folder.is_dir() and any(
        _DOCBOOK_PART.fullmatch(p.name) or p.name == ATTRIBUTES_FILE for p in folder.iterdir()
    )


def read_sources(
    folders: Iterable[Path], readers: Sequence[SourceReader] = READERS
) -> list[StandardModel]:
    """Run every reader on the files it consumes in each folder.

    Raises :class:`StandardSourceError` for a folder that is not a standard folder.
    """
    models: list[StandardModel] = []
    for folder in folders:
        if not is_standard_folder(folder):
            raise StandardSourceError(
                "not a folder of the standard: expected DocBook partNN.xml files or the JSON"
                f" rendition's {ATTRIBUTES_FILE}",
                source_file=str(folder),
            )
        for reader in readers:
            path = folder / reader.file_name
            if path.is_file():
                models.append(reader.read(path))
    return models


def build_model(
    folders: Iterable[Path],
    readers: Sequence[SourceReader] = READERS,
    passes: Sequence[Pass] = PASSES,
) -> StandardModel:
    """Read, merge and run the passes, in order."""
    model = merge(read_sources(folders, readers))
    for step in passes:
        model = step.run(model)
    return model


def _owned(path: str, owns: Iterable[str]) -> bool:
    return any(path == own or (own.endswith("/") and path.startswith(own)) for own in owns)


def render_files(
    build: Build, jobs: Sequence[EmitJob] = EMIT_JOBS
) -> tuple[list[GeneratedFile], list[EmitJob], list[str]]:
    """Render every job: the files, the jobs that rendered, and the skipped ones with why.

    Each file must lie within the paths its job owns, and be written by one job only.
    """
    files: list[GeneratedFile] = []
    done: list[EmitJob] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for job in jobs:
        try:
            rendered = job.render(build)
        except MissingSource as exc:
            skipped.append(f"{job.name}: {exc.message}")
            continue
        done.append(job)
        for file in rendered:
            if not _owned(file.path, job.owns):
                raise ValueError(f"emit job {job.name!r} wrote {file.path!r} outside {job.owns}")
            if file.path in seen:
                raise ValueError(f"two emit jobs wrote {file.path!r}")
            seen.add(file.path)
            files.append(file)
    return files, done, skipped


def _write_tree(files: Iterable[GeneratedFile], root: Path) -> None:
    for file in files:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.text.encode("utf-8"))


def _listed(root: Path, own: str) -> set[str]:
    """The files under an owned path of ``root`` (relative, ``/``-separated), caches excluded."""
    base = root / own
    if not own.endswith("/"):
        return {own} if base.is_file() else set()
    if not base.is_dir():
        return set()
    return {
        p.relative_to(root).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def compare_trees(new: Path, old: Path, jobs: Sequence[EmitJob] = EMIT_JOBS) -> list[str]:
    """The owned paths that differ between a fresh tree and ``old``, each with why."""
    differences: list[str] = []
    for job in jobs:
        for own in job.owns:
            fresh, current = _listed(new, own), _listed(old, own)
            for path in sorted(fresh | current):
                if path not in current:
                    differences.append(f"{path}: missing")
                elif path not in fresh:
                    differences.append(f"{path}: not generated (stale)")
                elif not filecmp.cmp(new / path, old / path, shallow=False):
                    differences.append(f"{path}: differs")
    return differences


def _move_into_place(new: Path, out: Path, jobs: Sequence[EmitJob]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        for own in job.owns:
            source, target = new / own.rstrip("/"), out / own.rstrip("/")
            if own.endswith("/"):
                if target.exists():
                    old = new / f".old-{own.rstrip('/')}"
                    target.rename(old)
                if source.exists():
                    source.rename(target)
            elif source.exists():
                os.replace(source, target)
            elif target.exists():
                target.unlink()


def generate(
    folders: Sequence[Path],
    out: Path,
    *,
    check: bool = False,
    jobs: Sequence[EmitJob] = EMIT_JOBS,
) -> Result:
    """Generate ``out`` from the standard's folders, or with ``check`` compare with it.

    Parameters
    ----------
    folders
        ``--standard`` folders (DocBook parts of an edition, a JSON rendition), in any order.
    out
        The ``generated/`` folder.
    check
        Render into a temporary folder and report the differences instead of writing.

    References
    ----------
    DESIGN.md, "Generator: three stages, one intermediate model"; STYLE.md §8 and §10.
    """
    model = build_model(folders)
    iods = build_iods(folders, model.data_elements, model.uids)
    files, done, skipped = render_files(Build(model, tuple(folders), iods), jobs)
    if not done:
        raise StandardSourceError(f"nothing to generate from these folders: {'; '.join(skipped)}")
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dicompile-generate-", dir=parent) as tmp:
        staging = Path(tmp)
        _write_tree(files, staging)
        if check:
            differences = compare_trees(staging, out, done)
            return Result(model, tuple(files), tuple(differences), tuple(skipped), iods)
        _move_into_place(staging, out, done)
    return Result(model, tuple(files), skipped=tuple(skipped), iods=iods)
