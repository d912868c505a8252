"""The embedded archive: instance index and C-FIND matching (DESIGN.md, runtime/archive).

:class:`SQLiteIndex` (an :class:`InstanceIndex`) records stored instances and answers
C-FIND, C-MOVE and C-GET look-ups; :mod:`.matching` holds the PS3.4 C.2.2.2 rules;
:class:`SQLiteWorklist` keeps Modality Worklist items (PS3.4 K.6).
"""

from __future__ import annotations

from dicompile.runtime.archive.index import InstanceIndex, SQLiteIndex
from dicompile.runtime.archive.levels import QueryLevel, QueryModel
from dicompile.runtime.archive.matching import MatchType, Query, compile_identifier
from dicompile.runtime.archive.worklist import SQLiteWorklist

__all__ = [
    "InstanceIndex",
    "MatchType",
    "Query",
    "QueryLevel",
    "QueryModel",
    "SQLiteIndex",
    "SQLiteWorklist",
    "compile_identifier",
]
