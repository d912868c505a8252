"""The asyncio driver of the sans-IO upper layer: read, feed, write, arm timers.

Theory of operation
-------------------
A :class:`Transport` owns one TCP (or TLS) connection and the
:class:`~dicompile.runtime.net.ul.machine.UpperLayer` that speaks over it.  It does only
what the machine asks (STYLE.md item 1):

* a read task feeds every chunk read to ``receive_bytes()`` and drains ``next_event()``;
  each indication or confirmation goes to the ``on_event`` callback, synchronously, in
  order;
* after *every* call into the machine its commands are performed, in order:
  :class:`SendData` is written, :class:`CloseTransport` closes the connection,
  :class:`StartTimer`/:class:`StopTimer` arm or cancel ARTIM with ``loop.call_later`` (no
  polling, no sleeps); :class:`OpenTransport` is carried out by :meth:`Transport.connect`;
* when the peer or the network closes the connection the machine hears Evt17, unless the
  machine itself asked for the close.

Invariant: the connection is closed exactly once, and :meth:`wait_closed` returns only
after the read task has ended and every event has been delivered.  Writes are buffered by
asyncio; callers that send much data await :meth:`drain` for flow control.  TCP_NODELAY is
set on every socket: DIMSE exchanges are small request/response turns that Nagle's
algorithm would delay by tens of milliseconds each.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable

from dicompile.runtime.errors import LocalProtocolError, TransportConnectError
from dicompile.runtime.net.ul.machine import (
    IDLE,
    NEED_DATA,
    CloseTransport,
    OpenTransport,
    SendData,
    StartTimer,
    StopTimer,
    UpperLayer,
)
from dicompile.runtime.net.ul.primitives import (
    AAssociateRequest,
    PresentationAddress,
    UserEvent,
    UserRequest,
)
from dicompile.runtime.net.ul.table import State, Timer

#: How much one read asks for; a P-DATA-TF of 1 MiB arrives in a few reads.
READ_SIZE = 1 << 18


def _address(info: object) -> PresentationAddress | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return PresentationAddress(str(info[0]), int(info[1]))
    return None


def set_nodelay(writer: asyncio.StreamWriter) -> None:
    """Turn Nagle's algorithm off on the writer's socket, where it is a TCP socket."""
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Transport:
    """Drives one :class:`UpperLayer` over one asyncio stream connection.

    Parameters
    ----------
    machine
        The association's upper layer, in Sta1.
    on_event
        Receives every indication and confirmation, in order, from the read task.
    on_closed
        Called once the connection is closed and every event delivered.
    artim
        The ARTIM timeout in seconds (PS3.8 §9.1.5); ``None`` never expires.

    References
    ----------
    PS3.8 §9.1 (transport service), §9.2 (state machine).
    """

    def __init__(
        self,
        machine: UpperLayer,
        on_event: Callable[[UserEvent], None],
        *,
        artim: float | None = 30.0,
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self.machine = machine
        self._on_closed = on_closed
        self._on_event = on_event
        self._artim = artim
        self._loop = asyncio.get_running_loop()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._closed = asyncio.Event()
        self._read_task: asyncio.Task[None] | None = None
        #: Loop time of the last bytes received (for idle timeouts).
        self.last_received = self._loop.time()

    # -- opening ---------------------------------------------------------------------------

    async def connect(
        self,
        request: AAssociateRequest,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send an A-ASSOCIATE request: open the connection the machine asks for (AE-1),
        report it (Evt2), and start reading.

        Raises
        ------
        TransportConnectError
            The connection (or its TLS handshake) failed or timed out; the machine has
            heard Evt17 and is back in Sta1.
        """
        self.machine.send(request)
        [command] = self.machine.commands()
        if not isinstance(command, OpenTransport):
            raise LocalProtocolError(f"expected a TRANSPORT CONNECT, got {command}")
        host, port = command.address.host, command.address.port
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host,
                    port,
                    ssl=ssl_context,
                    server_hostname=(server_hostname or host) if ssl_context else None,
                ),
                timeout,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            self.machine.connection_closed()  # Evt17 in Sta4: AA-4, back to Sta1
            self._deliver_all()
            self._closed.set()
            if self._on_closed is not None:
                self._on_closed()
            what = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            raise TransportConnectError(f"cannot connect to {host}:{port}: {what}") from exc
        self._attach(reader, writer)
        self.machine.transport_connected(
            local_address=_address(writer.get_extra_info("sockname")),
            remote_address=_address(writer.get_extra_info("peername")),
        )
        self._perform()

    def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Take an incoming connection (Evt5: ARTIM starts) and start reading."""
        self._attach(reader, writer)
        self.machine.transport_connected(
            local_address=_address(writer.get_extra_info("sockname")),
            remote_address=_address(writer.get_extra_info("peername")),
        )
        self._perform()

    def _attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        set_nodelay(writer)
        self._reader, self._writer = reader, writer
        self._read_task = self._loop.create_task(self._read_loop())

    # -- state -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is gone (closed by us, the peer or the network)."""
        return self._closed.is_set()

    @property
    def peer_certificate(self) -> dict[str, object] | None:
        """The peer's TLS certificate as ``ssl`` decodes it, or None (no TLS, none sent)."""
        if self._writer is None:
            return None
        cert = self._writer.get_extra_info("peercert")
        return cert if isinstance(cert, dict) and cert else None

    async def wait_closed(self) -> None:
        """Wait until the connection is closed and every event delivered."""
        await self._closed.wait()

    # -- sending -------------------------------------------------------------------------------

    def send(self, primitive: UserRequest) -> None:
        """Apply a user primitive to the machine and write what it produces.

        Raises
        ------
        LocalProtocolError
            The primitive is not allowed in the machine's state (Table 9-10).
        """
        data = self.machine.send(primitive)
        if data:
            self._write(data)
        self._perform()

    async def drain(self) -> None:
        """Wait until the write buffer is below asyncio's high-water mark."""
        writer = self._writer
        if writer is not None and not self._closing:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()

    def _write(self, data: bytes) -> None:
        if self._writer is not None and not self._closing:
            self._writer.write(data)

    # -- the machine's commands ------------------------------------------------------------------

    def _perform(self) -> None:
        for command in self.machine.commands():
            if isinstance(command, SendData):
                self._write(command.data)
            elif isinstance(command, StartTimer):
                self._cancel_timer()
                if self._artim is not None:
                    self._timer = self._loop.call_later(self._artim, self._expired, command.timer)
            elif isinstance(command, StopTimer):
                self._cancel_timer()
            elif isinstance(command, CloseTransport):
                self._close()
            else:  # OpenTransport comes only from send(AAssociateRequest): see connect()
                raise LocalProtocolError(f"unexpected command {command} outside connect()")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, timer: Timer) -> None:
        self._timer = None
        if self.machine.artim_running:
            self.machine.timer_expired(timer)
            self._deliver_all()

    def _close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._cancel_timer()
        if self._writer is not None:
            self._writer.close()  # flushes what is buffered, then closes

    def _deliver_all(self) -> None:
        while True:
            event = self.machine.next_event()
            self._perform()
            if event is NEED_DATA or event is IDLE:
                return
            self._on_event(event)

    # -- reading --------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reader = self._reader
        assert reader is not None
        try:
            while not self._closing:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                if self._closing or self.machine.state is State.STA1:
                    break
                self.last_received = self._loop.time()
                self.machine.receive_bytes(data)
                self._deliver_all()
        except (ConnectionError, OSError, ssl.SSLError):
            pass  # the connection is gone: handled below like a close
        finally:
            if not self._closing:
                self._closing = True
                self._cancel_timer()
                if self.machine.state is not State.STA1:
                    self.machine.connection_closed()  # Evt17
                    self._deliver_all()
                if self._writer is not None:
                    self._writer.close()
            self._closed.set()
            if self._on_closed is not None:
                self._on_closed()

    def abort_connection(self) -> None:
        """Drop the connection at once, without any PDU (a last resort for shutdown)."""
        if self._writer is not None:
            transport = self._writer.transport
            transport.abort()
