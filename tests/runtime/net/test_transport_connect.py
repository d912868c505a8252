"""A connection that ends before ``connect`` resumes is a failed connection, not Evt2.

With TLS 1.3 the client's handshake completes before the server has checked the client
certificate; a server that requires one then closes.  The close can reach our protocol
between ``connection_made`` and the return of ``create_connection``; it used to be followed
by a Transport Confirm (Evt2) in Sta1, an empty cell of PS3.8 Table 9-10, which surfaced as
a LocalProtocolError (the CLI's "usage" exit) half of the time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from net_support import scu_ae

from dicompile.runtime.errors import TransportConnectError
from dicompile.runtime.net.association import associate
from dicompile.runtime.net.services.verification import VERIFICATION_CONTEXT


class _ClosedTransport(asyncio.Transport):
    """A transport whose peer has already gone."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 4242) if name in ("sockname", "peername") else default

    def is_closing(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def test_peer_closing_right_after_connect_is_a_connection_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()

        async def create_connection(factory: Any, *args: Any, **kwargs: Any) -> Any:
            protocol = factory()
            transport = _ClosedTransport()
            protocol.connection_made(transport)
            protocol.connection_lost(ConnectionResetError("certificate required"))
            return transport, protocol

        monkeypatch.setattr(loop, "create_connection", create_connection)
        with pytest.raises(TransportConnectError, match="closed the connection at once"):
            await associate(
                scu_ae(), "127.0.0.1", 4242, called_ae_title="ANY", contexts=[VERIFICATION_CONTEXT]
            )

    asyncio.run(asyncio.wait_for(scenario(), 10))
