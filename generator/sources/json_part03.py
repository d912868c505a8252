"""Reader of the JSON rendition of PS3.3 (IODs, modules, macros) into the PS3.3 model.

The rendition (``../shared/standard-json/innolitics-<edition>/``) is a third-party scrape of the
standard's HTML.  Its PS3.3 files:

==========================  ===================================================================
``ciods.json``              IODs: ``name``, ``id`` (slug), ``linkToStandard`` (…#table_A.3-1)
``modules.json``            modules: the same fields (…#table_C.8-3)
``macros.json``             macros: the same fields (…#table_10-11)
``ciod_to_modules.json``    ``ciodId``, ``moduleId``, ``usage`` (M/C/U), ``conditionalStatement``,
                            ``informationEntity``
``ciod_to_fg_macros.json``  ``ciodId``, ``macroId``, ``usage``, ``conditionalStatement``
``module_to_attributes``    rows: ``moduleId``, ``path`` (``ct-image:00189346:00080100``), ``tag``,
``macro_to_attributes``     ``type`` (``"None"`` in untyped tables), ``description`` (the HTML
                            ``<td>`` of the description column), ``externalReferences``
``references.json``         URL → HTML of the sections that descriptions point to
==========================  ===================================================================

Theory of operation
-------------------
* Items are keyed by the table id in the anchor of ``linkToStandard`` (the same key the DocBook
  reader uses, see ``iod_model``); the rendition's slugs are mapped to those keys.
* The rendition has already expanded every "Include Table …": its attribute rows are the
  flattened tree.  Entries are built from the ``path`` of each row (a row's parent is the last
  row whose path is its path minus the last tag) and ``expanded`` is set to the same rules.
  Include rows, tagless rows ("Any Attribute …") and the context ids of include notes are lost
  in the scrape; the parity test lists these as explained differences.
* Descriptions are parsed as XML (every one is well-formed) into paragraphs, notes and value
  lists, then read by ``part03_text`` exactly as the DocBook reader reads its cells.

References
----------
PS3.3 Annex A, Annex C, Chapter 10 (the tables the rendition was scraped from).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path

import attrs
from lxml import etree

from dicompile.generator.iod_model import (
    PART,
    AttributeRule,
    AttributeType,
    ContextRef,
    FunctionalGroupUse,
    IODDef,
    IssueKind,
    MacroDef,
    ModuleDef,
    ModuleUse,
    Part03Issue,
    Part03Model,
    SectionNote,
    TableKind,
    TableRecord,
    Usage,
    ValueList,
    ValueTerm,
)
from dicompile.generator.model import Provenance, TagPattern
from dicompile.generator.sources.docbook.common import normalise_text
from dicompile.generator.sources.part03_text import (
    LIST_ITEM,
    condition_text,
    context_refs,
    value_list_title,
)
from dicompile.runtime.errors import StandardSourceError

FILES = (
    "ciods.json",
    "modules.json",
    "macros.json",
    "ciod_to_modules.json",
    "ciod_to_fg_macros.json",
    "module_to_attributes.json",
    "macro_to_attributes.json",
    "references.json",
)
_EDITION_SUFFIX = re.compile(r"(?:^|[-_])(\d{4}[a-z]?)$")
_ANCHOR = re.compile(r"#(?P<anchor>[A-Za-z]+_[^#\s]+)$")

JsonObject = Mapping[str, object]


def read_json_part03(folder: Path, edition: str | None = None) -> Part03Model:
    """Read the PS3.3 files of a JSON rendition into the PS3.3 model.

    Parameters
    ----------
    folder
        The rendition's folder (``innolitics-2020``).
    edition
        The edition; by default the suffix of the folder's name.

    Raises
    ------
    StandardSourceError
        When a file is missing or malformed, naming the file and the array index.

    References
    ----------
    PS3.3 Annex A (IODs), Annex C (modules), Chapter 10 and §C.7.6.16.2 (macros).
    """
    if edition is None:
        match = _EDITION_SUFFIX.search(folder.name)
        if match is None:
            raise StandardSourceError(
                "the folder of a JSON rendition must end with its edition (e.g. 'innolitics-2020')",
                source_file=folder.name,
            )
        edition = match[1]
    return _JsonReader(folder, edition).read()


def _load(folder: Path, name: str) -> object:
    path = folder / name
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise StandardSourceError(
            f"cannot read: {exc}", source_file=f"{folder.name}/{name}"
        ) from exc


def _objects(data: object, source_file: str) -> list[JsonObject]:
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise StandardSourceError("expected an array of objects", source_file=source_file)
    return data


def _text(item: JsonObject, key: str, source_file: str, index: int) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise StandardSourceError(
            f"field {key!r} is {value!r}, expected text", source_file=source_file, row=index
        )
    return value


def anchor_of(url: str) -> str:
    """The anchor of a URL: ``…/sect_C.8.2.html#table_C.8-3`` → ``table_C.8-3``."""
    match = _ANCHOR.search(url)
    return match["anchor"] if match else ""


@attrs.frozen(slots=False)
class _Description:
    paragraphs: tuple[str, ...]
    notes: tuple[str, ...]
    value_lists: tuple[ValueList, ...]

    @functools.cached_property
    def condition(self) -> str:
        return condition_text(self.paragraphs)

    @functools.cached_property
    def context_ids(self) -> tuple[ContextRef, ...]:
        return context_refs(" ".join((*self.paragraphs, *self.notes)))


def _inline(element: etree._Element) -> str:
    return normalise_text("".join(element.itertext()))


def parse_description(html: str) -> _Description:
    """Split the HTML of a description cell into paragraphs, notes and value lists.

    Notes are ``<div>`` blocks headed ``<h3>Note</h3>``; value lists are ``<div>`` blocks holding
    ``<p><strong>Enumerated Values:</strong></p><dl>…</dl>``.
    """
    try:
        root = etree.fromstring(html)
    except etree.XMLSyntaxError:
        return _Description((normalise_text(re.sub(r"<[^>]+>", " ", html)),), (), ())
    paragraphs: list[str] = []
    notes: list[str] = []
    lists: list[ValueList] = []
    _blocks(root, paragraphs, notes, lists, in_note=False)
    return _Description(tuple(paragraphs), tuple(notes), tuple(lists))


def _blocks(
    element: etree._Element,
    paragraphs: list[str],
    notes: list[str],
    lists: list[ValueList],
    *,
    in_note: bool,
) -> None:
    target = notes if in_note else paragraphs
    children = [c for c in element if isinstance(c.tag, str)]
    pending_title: str | None = None
    for child in children:
        tag = child.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            if _inline(child).casefold().startswith("note"):
                in_note = True
                target = notes
            continue
        if tag == "p":
            strong = child.find("strong")
            text = _inline(child)
            if strong is not None and value_list_title(text) is not None:
                pending_title = text
                continue
            if text:
                target.append(text)
        elif tag == "dl":
            terms = tuple(
                ValueTerm(_inline(dt), _inline(dd) if dd is not None else "")
                for dt, dd in zip(child.findall("dt"), _following_dd(child), strict=True)
            )
            heading = value_list_title(pending_title) if pending_title else None
            if heading is not None and not in_note:
                lists.append(ValueList(heading[0], terms, heading[1]))
            else:
                if pending_title:
                    target.append(pending_title)
                target.extend(f"{t.value}: {t.meaning}".strip(": ") for t in terms)
            pending_title = None
        elif tag in ("ol", "ul"):
            target.extend(LIST_ITEM + t for t in (_inline(li) for li in child.iter("li")) if t)
        elif tag in ("div", "td"):
            _blocks(child, paragraphs, notes, lists, in_note=in_note)
        else:
            text = _inline(child)
            if text:
                target.append(text)
    if pending_title:
        target.append(pending_title)


def _following_dd(dl: etree._Element) -> list[etree._Element | None]:
    """The ``<dd>`` after each ``<dt>`` of a list (``None`` where a term has none)."""
    result: list[etree._Element | None] = []
    items = [c for c in dl if isinstance(c.tag, str)]
    for position, item in enumerate(items):
        if item.tag != "dt":
            continue
        following = items[position + 1] if position + 1 < len(items) else None
        result.append(following if following is not None and following.tag == "dd" else None)
    return result


@attrs.define
class _Node:
    rule: AttributeRule
    children: list[_Node] = attrs.Factory(list)

    def freeze(self) -> AttributeRule:
        return attrs.evolve(self.rule, children=tuple(c.freeze() for c in self.children))


@attrs.define
class _JsonReader:
    folder: Path
    edition: str
    issues: list[Part03Issue] = attrs.Factory(list)
    tables: list[TableRecord] = attrs.Factory(list)
    # Memos: the rendition repeats each macro's rows in every module that includes it, so the
    # same description HTML and tag text come back thousands of times.
    descriptions: dict[str, _Description] = attrs.Factory(dict)
    tags: dict[str, TagPattern] = attrs.Factory(dict)

    def tag(self, text: str) -> TagPattern:
        found = self.tags.get(text)
        if found is None:
            found = self.tags[text] = TagPattern.parse(text)
        return found

    def description(self, html: str) -> _Description:
        found = self.descriptions.get(html)
        if found is None:
            found = self.descriptions[html] = parse_description(html)
        return found

    def source(self, name: str) -> str:
        return f"{self.folder.name}/{name}"

    def provenance(self, name: str, table_id: str, row: int | None = None) -> Provenance:
        return Provenance(PART, self.edition, table_id, self.source(name), row)

    def read(self) -> Part03Model:
        iod_items = self.items("ciods.json")
        module_items = self.items("modules.json")
        macro_items = self.items("macros.json")
        iod_keys = self.keys("ciods.json", iod_items)
        module_keys = self.keys("modules.json", module_items)
        macro_keys = self.keys("macros.json", macro_items)
        modules = self.attribute_tables(
            "modules.json", module_items, module_keys, "module_to_attributes.json", "moduleId"
        )
        macros = self.attribute_tables(
            "macros.json", macro_items, macro_keys, "macro_to_attributes.json", "macroId"
        )
        iods = self.iods(iod_items, iod_keys, module_keys, macro_keys)
        return Part03Model(
            edition=self.edition,
            source_files=tuple(self.source(name) for name in FILES),
            iods=iods,
            modules=tuple(m for m in modules if isinstance(m, ModuleDef)),
            macros=tuple(m for m in macros if isinstance(m, MacroDef)),
            sections=self.sections(),
            tables=tuple(self.tables),
            issues=tuple(self.issues),
        )

    def items(self, name: str) -> list[JsonObject]:
        return _objects(_load(self.folder, name), self.source(name))

    def keys(self, name: str, items: list[JsonObject]) -> dict[str, str]:
        """slug → table id of every item of ``ciods/modules/macros.json``."""
        keys: dict[str, str] = {}
        for index, item in enumerate(items):
            slug = _text(item, "id", self.source(name), index)
            table_id = anchor_of(_text(item, "linkToStandard", self.source(name), index))
            if not table_id.startswith("table_"):
                raise StandardSourceError(
                    f"{slug!r} links to no table: {item.get('linkToStandard')!r}",
                    source_file=self.source(name),
                    row=index,
                )
            if slug in keys:
                self.issue(IssueKind.DUPLICATE_ID, f"id {slug!r} listed twice", name, table_id)
                continue
            keys[slug] = table_id
        return keys

    def issue(
        self, kind: IssueKind, message: str, name: str, table_id: str, row: int | None = None
    ) -> None:
        self.issues.append(Part03Issue(kind, message, self.provenance(name, table_id, row)))

    # -- modules and macros -----------------------------------------------------------------

    def attribute_tables(
        self,
        name: str,
        items: list[JsonObject],
        keys: dict[str, str],
        rows_file: str,
        owner_field: str,
    ) -> list[ModuleDef | MacroDef]:
        rows_by_owner: dict[str, list[tuple[int, JsonObject]]] = {}
        for index, row in enumerate(self.items(rows_file)):
            owner = _text(row, owner_field, self.source(rows_file), index)
            rows_by_owner.setdefault(owner, []).append((index, row))
        unknown = sorted(set(rows_by_owner) - set(keys))
        for owner in unknown:
            self.issue(
                IssueKind.DANGLING_REFERENCE,
                f"rows of unknown {owner_field} {owner!r}",
                rows_file,
                owner,
            )
        is_module = owner_field == "moduleId"
        tables: list[ModuleDef | MacroDef] = []
        for index, item in enumerate(items):
            slug = _text(item, "id", self.source(name), index)
            table_id = keys.get(slug)
            if table_id is None:
                continue
            title = _text(item, "name", self.source(name), index)
            rows = rows_by_owner.get(slug, [])
            rules = self.rules(rows_file, table_id, slug, rows)
            typed = any(rule.type is not None for rule in rules) or not rules
            provenance = self.provenance(name, table_id, index)
            kind = TableKind.MODULE if is_module else TableKind.MACRO
            self.tables.append(TableRecord(table_id, kind, title, len(rows), provenance))
            cls = ModuleDef if is_module else MacroDef
            tables.append(
                cls(
                    key=table_id,
                    name=title,
                    section="",
                    entries=rules,
                    provenance=provenance,
                    typed=typed,
                    expanded=rules,
                )
            )
        return tables

    def rules(
        self, rows_file: str, table_id: str, owner: str, rows: list[tuple[int, JsonObject]]
    ) -> tuple[AttributeRule, ...]:
        source = self.source(rows_file)
        top: list[_Node] = []
        last: dict[str, _Node] = {}  # path -> the last node with it (paths repeat in SR macros)
        for index, row in rows:
            path_text = _text(row, "path", source, index)
            segments = path_text.split(":")
            if segments[0] != owner or len(segments) < 2:
                self.issue(
                    IssueKind.UNREADABLE_ROW, f"path {path_text!r}", rows_file, table_id, index
                )
                continue
            try:
                tags = [self.tag(segment) for segment in segments[1:]]
            except ValueError:
                self.issue(
                    IssueKind.UNREADABLE_ROW, f"path {path_text!r}", rows_file, table_id, index
                )
                continue
            path = "/".join(tag.text for tag in tags)
            parent_path = path.rpartition("/")[0]
            node = _Node(self.rule(row, index, tags[-1], path, rows_file, table_id))
            if parent_path:
                parent = last.get(parent_path)
                if parent is None:
                    self.issue(
                        IssueKind.UNREADABLE_ROW,
                        f"no parent row for {path_text!r}",
                        rows_file,
                        table_id,
                        index,
                    )
                    continue
                parent.children.append(node)
            else:
                top.append(node)
            last[path] = node
        return tuple(node.freeze() for node in top)

    def rule(
        self,
        row: JsonObject,
        index: int,
        tag: TagPattern,
        path: str,
        rows_file: str,
        table_id: str,
    ) -> AttributeRule:
        source = self.source(rows_file)
        type_text = _text(row, "type", source, index)
        attribute_type: AttributeType | None = None
        if type_text != "None":
            try:
                attribute_type = AttributeType.parse(type_text)
            except ValueError:
                self.issue(
                    IssueKind.UNREADABLE_ROW, f"type {type_text!r}", rows_file, table_id, index
                )
        description = self.description(_text(row, "description", source, index))
        condition = ""
        if attribute_type is not None and attribute_type.conditional:
            condition = description.condition
            if not condition:
                self.issue(
                    IssueKind.MISSING_CONDITION,
                    f"{tag.display} is type {attribute_type.value}",
                    rows_file,
                    table_id,
                    index,
                )
        references = row.get("externalReferences")
        anchors: list[str] = []
        if isinstance(references, list):
            for reference in references:
                if isinstance(reference, dict) and isinstance(reference.get("sourceUrl"), str):
                    anchor = anchor_of(str(reference["sourceUrl"]))
                    if anchor.startswith("sect_") and anchor not in anchors:
                        anchors.append(anchor)
        return AttributeRule(
            tag=tag,
            name="",  # the rendition gives no attribute names in PS3.3 rows: PS3.6 has them
            path=path,
            type=attribute_type,
            description=" ".join(description.paragraphs),
            condition=condition,
            provenance=self.provenance(rows_file, table_id, index),
            value_lists=description.value_lists,
            context_ids=description.context_ids,
            references=tuple(anchors),
        )

    # -- IODs -------------------------------------------------------------------------------

    def iods(
        self,
        items: list[JsonObject],
        keys: dict[str, str],
        module_keys: dict[str, str],
        macro_keys: dict[str, str],
    ) -> tuple[IODDef, ...]:
        module_uses: dict[str, list[ModuleUse]] = {}
        name = "ciod_to_modules.json"
        for index, row in enumerate(self.items(name)):
            iod = _text(row, "ciodId", self.source(name), index)
            module = _text(row, "moduleId", self.source(name), index)
            usage, condition = self.usage(row, name, index)
            table_id = keys.get(iod, iod)
            if module not in module_keys:
                self.issue(
                    IssueKind.DANGLING_REFERENCE,
                    f"{iod!r} uses unknown module {module!r}",
                    name,
                    table_id,
                    index,
                )
            module_uses.setdefault(iod, []).append(
                ModuleUse(
                    ie=_text(row, "informationEntity", self.source(name), index),
                    module=module_keys.get(module, module),
                    name=module,
                    usage=usage,
                    condition=condition,
                    provenance=self.provenance(name, table_id, index),
                )
            )
        fg_uses: dict[str, list[FunctionalGroupUse]] = {}
        name = "ciod_to_fg_macros.json"
        for index, row in enumerate(self.items(name)):
            iod = _text(row, "ciodId", self.source(name), index)
            macro = _text(row, "macroId", self.source(name), index)
            usage, condition = self.usage(row, name, index)
            table_id = keys.get(iod, iod)
            if macro not in macro_keys:
                self.issue(
                    IssueKind.DANGLING_REFERENCE,
                    f"{iod!r} uses unknown macro {macro!r}",
                    name,
                    table_id,
                    index,
                )
            fg_uses.setdefault(iod, []).append(
                FunctionalGroupUse(
                    macro=macro_keys.get(macro, macro),
                    name=macro,
                    usage=usage,
                    condition=condition,
                    provenance=self.provenance(name, table_id, index),
                )
            )
        unknown = sorted((set(module_uses) | set(fg_uses)) - set(keys))
        for iod in unknown:
            self.issue(
                IssueKind.DANGLING_REFERENCE,
                f"uses of unknown IOD {iod!r}",
                "ciod_to_modules.json",
                iod,
            )
        iods: list[IODDef] = []
        for index, item in enumerate(items):
            slug = _text(item, "id", self.source("ciods.json"), index)
            iod_key = keys.get(slug)
            if iod_key is None:
                continue
            title = _text(item, "name", self.source("ciods.json"), index)
            provenance = self.provenance("ciods.json", iod_key, index)
            uses = tuple(module_uses.get(slug, ()))
            self.tables.append(
                TableRecord(iod_key, TableKind.IOD_MODULES, title, len(uses), provenance)
            )
            iods.append(
                IODDef(
                    key=iod_key,
                    name=title,
                    section="",
                    modules=uses,
                    provenance=provenance,
                    functional_groups=tuple(fg_uses.get(slug, ())),
                )
            )
        return tuple(iods)

    def usage(self, row: JsonObject, name: str, index: int) -> tuple[Usage, str]:
        letter = _text(row, "usage", self.source(name), index)
        try:
            usage = Usage(letter.strip())
        except ValueError as exc:
            raise StandardSourceError(
                f"usage {letter!r} is not M, C or U", source_file=self.source(name), row=index
            ) from exc
        condition = row.get("conditionalStatement")
        return usage, normalise_text(condition) if isinstance(condition, str) else ""

    # -- sections (references.json) ---------------------------------------------------------

    def sections(self) -> tuple[SectionNote, ...]:
        name = "references.json"
        data = _load(self.folder, name)
        if not isinstance(data, dict):
            raise StandardSourceError("expected an object", source_file=self.source(name))
        notes: list[SectionNote] = []
        for index, (url, html) in enumerate(data.items()):
            anchor = anchor_of(url)
            if not anchor.startswith("sect_") or not isinstance(html, str):
                continue
            description = parse_description(html)
            label = anchor.removeprefix("sect_")
            heading = re.search(r"<h\d>\s*(?P<title>[^<]*)</h\d>", html)
            title = normalise_text(heading["title"]) if heading else ""
            title = title.removeprefix(label).strip()
            lists = tuple(attrs.evolve(v, source=anchor) for v in description.value_lists)
            # The first paragraph of the scrape is the heading itself: leave it out.
            paragraphs = tuple(p for p in description.paragraphs if not p.startswith(label))
            notes.append(
                SectionNote(
                    anchor,
                    label,
                    title,
                    lists,
                    (),
                    self.provenance(name, anchor, index),
                    paragraphs,
                )
            )
        return tuple(notes)
