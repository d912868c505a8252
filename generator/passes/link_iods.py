"""Pass: resolve the "Include Table …" rows of PS3.3 and check every reference of the model.

Theory of operation
-------------------
* A module or macro table is a list of entries, some of them :class:`MacroInclude` rows.  The
  linker replaces each include by the entries of the included table, recursively, giving the
  flattened attribute tree the validator and the typed classes need.  The result is stored in
  :attr:`ModuleDef.expanded` / :attr:`MacroDef.expanded`; ``entries`` stay as written so that
  emitters can still show macros as macros.
* An included rule remembers the tables it came ``via`` and the conditions of the includes
  (``include_conditions``): "Include Table C.18.1-1 if and only if Value Type is NUM".
* Rows nested under an include extend the Item of the *last sequence* the included macro
  defines at that level (PS3.3 Table C.18.4-1 extends the Referenced SOP Sequence of Table
  C.18.3-1); the linker appends them there.
* The context ids of a nested include's note ("Defined CID 4052") constrain the code sequence
  whose Item includes the macro: they are added to that sequence's rule.
* Every reference is checked, and each failure is reported as a :class:`Part03Issue` (data, not
  an exception): an include of a table the model lacks (the 2016c excerpt cut some), an include
  cycle, an IOD module or functional group macro that is not in the model.
* "Include one or more Functional Group Macros" rows are not expanded here: which macros they
  stand for depends on the IOD (see :func:`functional_group_macros`).

References
----------
PS3.3 §5.4 (Include convention), §C.7.6.16 (functional groups), Annex A (module tables).
"""

from __future__ import annotations

import attrs

from dicompile.generator.iod_model import (
    AttributeRule,
    AttributeTable,
    Entry,
    IncludeKind,
    IODDef,
    IssueKind,
    MacroDef,
    MacroInclude,
    Part03Issue,
    Part03Model,
)


def link_part03(model: Part03Model) -> Part03Model:
    """Expand the includes of every module and macro and report what does not resolve.

    Parameters
    ----------
    model
        A model as a reader returns it (or already linked: linking is idempotent).

    Returns
    -------
    Part03Model
        The same model with ``expanded`` filled in on every module and macro and the linker's
        findings appended to ``issues``.

    References
    ----------
    PS3.3 §5.4 (macros and "Include"), Annex A (IOD module tables).
    """
    linker = _Linker(model.attribute_tables())
    modules = tuple(attrs.evolve(m, expanded=linker.expand_table(m)) for m in model.modules)
    macros = tuple(attrs.evolve(m, expanded=linker.expand_table(m)) for m in model.macros)
    module_keys = {m.key for m in model.modules}
    macro_keys = {m.key for m in model.macros}
    for iod in model.iods:
        linker.check_iod(iod, module_keys, macro_keys)
    known = set(model.issues)
    issues = model.issues + tuple(i for i in dict.fromkeys(linker.issues) if i not in known)
    return attrs.evolve(model, modules=modules, macros=macros, issues=issues)


def functional_group_macros(model: Part03Model, iod: IODDef) -> tuple[MacroDef, ...]:
    """The macros an enhanced IOD's functional group sequences may hold, in table order.

    References
    ----------
    PS3.3 §C.7.6.16 and the IOD's functional group macro table (e.g. Table A.38-2).
    """
    macros = {m.key: m for m in model.macros}
    return tuple(macros[use.macro] for use in iod.functional_groups if use.macro in macros)


@attrs.define
class _Linker:
    tables: dict[str, AttributeTable]
    issues: list[Part03Issue] = attrs.Factory(list)

    def expand_table(self, table: AttributeTable) -> tuple[AttributeRule, ...]:
        if table.expanded is not None and not _has_includes(table.entries):
            expanded = table.expanded  # an already flat source (the JSON rendition)
        else:
            expanded = self.expand(table.entries, "", (table.key,), ())
        self.check_duplicates(table, expanded)
        return expanded

    def check_duplicates(self, table: AttributeTable, rules: tuple[AttributeRule, ...]) -> None:
        """Report a tag listed twice in one Item under the same include conditions.

        Conditional includes may list a tag more than once (Table C.17-5 includes a macro per
        Value Type); the same tag twice under the same conditions is an error of the text
        (2016c Table C.12-1 lost the '>' of nested rows) or of the reader.
        """
        seen: dict[tuple[str, tuple[str, ...]], AttributeRule] = {}
        for rule in rules:
            if rule.tag is None:
                continue
            key = (rule.path, rule.include_conditions)
            first = seen.setdefault(key, rule)
            if first is not rule:
                issue = Part03Issue(
                    IssueKind.DUPLICATE_ATTRIBUTE,
                    f"{table.key} lists {rule.tag.display} at {rule.path} twice"
                    f" ({first.provenance.cite()} and {rule.provenance.cite()})",
                    rule.provenance,
                )
                if issue not in self.issues:
                    self.issues.append(issue)
        for rule in rules:
            self.check_duplicates(
                table, tuple(c for c in rule.children if isinstance(c, AttributeRule))
            )

    def expand(
        self,
        entries: tuple[Entry, ...],
        parent_path: str,
        chain: tuple[str, ...],
        conditions: tuple[str, ...],
    ) -> tuple[AttributeRule, ...]:
        """Flatten ``entries`` under ``parent_path``; ``chain`` is the table include stack."""
        result: list[AttributeRule] = []
        for entry in entries:
            if isinstance(entry, AttributeRule):
                result.append(self.rule(entry, parent_path, chain, conditions))
            elif entry.kind is IncludeKind.TABLE:
                result.extend(self.include(entry, parent_path, chain, conditions))
        return tuple(result)

    def rule(
        self,
        rule: AttributeRule,
        parent_path: str,
        chain: tuple[str, ...],
        conditions: tuple[str, ...],
    ) -> AttributeRule:
        segment = rule.path.rpartition("/")[2] or (rule.tag.text if rule.tag else "*")
        path = f"{parent_path}/{segment}" if parent_path else segment
        children = self.expand(rule.children, path, chain, ())
        context = rule.context_ids
        for child in rule.children:
            # "Defined CID n" on ">Include Table 8.8-1" constrains this code sequence.
            if isinstance(child, MacroInclude):
                context += tuple(c for c in child.context_ids if c not in context)
        return attrs.evolve(
            rule,
            path=path,
            children=children,
            via=rule.via + chain[1:],
            include_conditions=rule.include_conditions + conditions,
            context_ids=context,
        )

    def include(
        self,
        include: MacroInclude,
        parent_path: str,
        chain: tuple[str, ...],
        conditions: tuple[str, ...],
    ) -> tuple[AttributeRule, ...]:
        target = self.tables.get(include.target)
        if target is None:
            self.report(
                IssueKind.DANGLING_REFERENCE,
                f"{chain[-1]} includes {include.target}, which is not in the model",
                include,
            )
            return ()
        if target.key in chain:
            # SR content items nest by design (Table C.17-6 includes itself); elsewhere it is an
            # error of the text (2016c Table 10-18).  Either way the recursion stops here.
            self.report(
                IssueKind.INCLUDE_CYCLE,
                f"{include.provenance.table_id} includes {target.key} inside itself;"
                " not expanded further",
                include,
            )
            return ()
        inner_conditions = conditions + ((include.condition,) if include.condition else ())
        rules = list(
            self.expand(target.entries, parent_path, (*chain, target.key), inner_conditions)
        )
        if include.children:
            sequences = [i for i, r in enumerate(rules) if r.is_sequence or r.tag is not None]
            if not sequences:
                self.report(
                    IssueKind.UNREADABLE_ROW,
                    f"rows nested under the include of {target.key}, which defines no attribute",
                    include,
                )
            else:
                last = rules[sequences[-1]]
                extra = self.expand(include.children, last.path, chain, ())
                rules[sequences[-1]] = attrs.evolve(last, children=last.children + extra)
        return tuple(rules)

    def report(self, kind: IssueKind, message: str, include: MacroInclude) -> None:
        # An include row is reached once per table that includes its table: report it once.
        issue = Part03Issue(kind, message, include.provenance)
        if issue not in self.issues:
            self.issues.append(issue)

    def check_iod(self, iod: IODDef, module_keys: set[str], macro_keys: set[str]) -> None:
        for use in iod.modules:
            if use.module not in module_keys:
                self.issues.append(
                    Part03Issue(
                        IssueKind.DANGLING_REFERENCE,
                        f"{iod.name} uses module {use.name!r} ({use.module}), not in the model",
                        use.provenance,
                    )
                )
        for fg in iod.functional_groups:
            if fg.macro not in macro_keys:
                self.issues.append(
                    Part03Issue(
                        IssueKind.DANGLING_REFERENCE,
                        f"{iod.name} uses functional group {fg.name!r} ({fg.macro}),"
                        " not in the model",
                        fg.provenance,
                    )
                )


def _has_includes(entries: tuple[Entry, ...]) -> bool:
    for entry in entries:
        if isinstance(entry, MacroInclude) or _has_includes(entry.children):
            return True
    return False
