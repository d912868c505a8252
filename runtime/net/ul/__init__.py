"""The PS3.8 upper layer, sans I/O: PDUs (``pdu``), service primitives (``primitives``),
the state transition table (``table``) and the machine that runs it (``machine``).

A driver creates one :class:`~dicompile.runtime.net.ul.machine.UpperLayer` per
association, feeds it bytes, transport events and timer expiries, and performs the
commands it returns; see the theory of operation in ``machine.py``.
"""

from __future__ import annotations

from dicompile.runtime.net.ul.machine import (
    IDLE,
    NEED_DATA,
    Command,
    Pending,
    SendData,
    Transition,
    UpperLayer,
)
from dicompile.runtime.net.ul.table import (
    CloseTransport,
    OpenTransport,
    Role,
    StartTimer,
    State,
    StopTimer,
    Timer,
)

__all__ = [
    "IDLE",
    "NEED_DATA",
    "CloseTransport",
    "Command",
    "OpenTransport",
    "Pending",
    "Role",
    "SendData",
    "StartTimer",
    "State",
    "StopTimer",
    "Timer",
    "Transition",
    "UpperLayer",
]
