"""What the generated typed classes stand on (``generated/modules``, ``generated/iods``).

The generator emits one attrs class per PS3.3 module, macro and sequence item, and one per
IOD; each declares its fields (typed by VR and VM) and a table of :class:`FieldSpec` rows.
The conversion to and from the runtime's untyped :class:`~dicompile.runtime.core.dataset.
Dataset` is written once, here, and driven by those tables, so that the generated code is
declarations only (small, and quick for mypy).

=====================  ===========================================================
Type (PS3.5 §7.4)      Python field
=====================  ===========================================================
1                      ``T``, required
2                      ``T | None``, required: ``None`` is written as a zero-length
                       element (sequences: ``tuple[Item, ...]``, ``()`` is empty)
1C, 3                  ``T | None = None``: ``None`` is absent
2C                     ``T | Empty | None = None``: :data:`EMPTY` is a zero-length
                       element, ``None`` absent (the condition is the validator's)
=====================  ===========================================================

References
----------
PS3.3 §5.4 (attribute types in module tables), §A.1.3 (module usage); PS3.5 §7.4.
"""

from __future__ import annotations

from dicompile.runtime.typed.base import (
    EMPTY,
    Empty,
    FieldSpec,
    ModuleSlot,
    TypedAttributes,
    TypedIOD,
    field,
)

__all__ = ["EMPTY", "Empty", "FieldSpec", "ModuleSlot", "TypedAttributes", "TypedIOD", "field"]
