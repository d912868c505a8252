"""``dicompile coverage [--json]``: what the committed requirement tables cover of PS3.3.

Counts IODs, modules, macros, attribute rules and conditions (total, machine-checkable, not
decidable from a Data Set, unparsed, with the most common unparsed shapes), overall and per
source edition, from ``dicompile.generated.requirements`` alone: no ../shared needed.
``--json`` prints one object: ``{"iods": n, "modules": n, "macros": n, "conditions":
{"total": n, "checkable": n, "undecidable": n, "unparsed": n}, …}``.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``coverage`` to the ``dicompile`` parser."""
    parser = subparsers.add_parser(
        "coverage",
        help="what the generated requirement tables cover of PS3.3 (conditions audit)",
        description="Count IODs, modules, macros, rules and conditions of the generated tables.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--top", type=int, default=15, help="unparsed shapes to list")
    parser.set_defaults(handler=_coverage)


def _coverage(args: argparse.Namespace) -> int:
    from dicompile.runtime.validate.coverage import audit

    result = audit(top=args.top)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    c, g = result.conditions, result.guarded
    print(f"PS3.3 {result.edition} requirement tables (dicompile.generated.requirements)")
    print(
        f"  IODs {result.iods}, modules {result.modules}, macros {result.macros},"
        f" Storage SOP Classes {result.sop_classes}"
    )
    print(
        f"  attribute rules {result.rules} as generated, {result.rules_expanded} with every"
        " shared Item counted where it is used"
    )
    print(
        f"  conditions (distinct) {c.total}: checkable {c.checkable}"
        f" ({_share(c.checkable, c.total)}), undecidable {c.undecidable}"
        f" ({_share(c.undecidable, c.total)}), unparsed {c.unparsed}"
        f" ({_share(c.unparsed, c.total)})"
    )
    print(
        f"  conditional rules and usages {g.total}: checkable {g.checkable}"
        f" ({_share(g.checkable, g.total)}), undecidable {g.undecidable}"
        f" ({_share(g.undecidable, g.total)}), unparsed {g.unparsed}"
        f" ({_share(g.unparsed, g.total)})"
    )
    for rule, count in result.by_prose_rule:
        print(f"    of which {count} decided by {rule}")
    for edition, counts in result.per_edition:
        k = counts.conditions
        print(
            f"  from {edition}: IODs {counts.iods}, modules {counts.modules}, macros"
            f" {counts.macros}, rules {counts.rules}; conditions {k.total} (checkable"
            f" {k.checkable}, undecidable {k.undecidable}, unparsed {k.unparsed})"
        )
    if result.unparsed_shapes:
        print("  most common unparsed shapes:")
        for text, count in result.unparsed_shapes:
            print(f"    {count:>5}  {text[:160]}")
    return 0


def _share(part: int, total: int) -> str:
    return f"{100.0 * part / total:.1f}%" if total else "-"
