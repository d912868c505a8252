"""The asyncio driver of the sans-IO upper layer: read, feed, write, arm timers.

Theory of operation
-------------------
A :class:`Transport` owns one TCP (or TLS) connection and the
:class:`~dicompile.runtime.net.ul.machine.UpperLayer` that speaks over it.  It does only
what the machine asks (STYLE.md item 1):

* the connection's protocol is an :class:`asyncio.BufferedProtocol` that lets the socket
  write straight into the machine's buffer (``get_buffer()``/``buffer_updated()``, the
  machine's Rule 5: a long P-DATA-TF is copied once in user space), then drains
  ``next_event()``; each indication or confirmation goes to the ``on_event`` callback,
  synchronously, in order, from the event loop's read callback;
* after *every* call into the machine its commands are performed, in order:
  :class:`SendData` is written, :class:`CloseTransport` closes the connection,
  :class:`StartTimer`/:class:`StopTimer` arm or cancel ARTIM with ``loop.call_later`` (no
  polling, no sleeps); :class:`OpenTransport` is carried out by :meth:`Transport.connect`;
* when the peer or the network closes the connection the machine hears Evt17, unless the
  machine itself asked for the close.

Invariant: the connection is closed exactly once, and :meth:`wait_closed` returns only
after the connection is lost and every event has been delivered.  Writes are buffered by
asyncio; callers that send much data await :meth:`drain` for flow control (the protocol
tracks asyncio's pause/resume writing).  TCP_NODELAY is set on every socket: DIMSE
exchanges are small request/response turns that Nagle's algorithm would delay by tens of
milliseconds each.  Socket buffers are enlarged so that a whole P-DATA-TF of a usual
Maximum Length fits in one send.

An accepted connection arrives from ``asyncio.start_server`` as a stream pair; the stream
protocol is replaced by ours at once (``set_protocol``), and whatever it had buffered
already is fed to the machine first.
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

#: Socket send and receive buffer sizes asked for (the kernel may cap them).
SOCKET_BUFFER = 1 << 22


def _address(info: object) -> PresentationAddress | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return PresentationAddress(str(info[0]), int(info[1]))
    return None


def set_nodelay(writer: asyncio.StreamWriter | asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on a TCP socket and enlarge its buffers."""
    sock = writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            with contextlib.suppress(OSError):
                if sock.getsockopt(socket.SOL_SOCKET, option) < SOCKET_BUFFER:
                    sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)


class _Protocol(asyncio.BufferedProtocol):
    """Hands the socket's bytes and its flow control to one :class:`Transport`."""

    def __init__(self, owner: Transport) -> None:
        self._owner = owner
        self._spare: bytearray | None = None

    def get_buffer(self, sizehint: int) -> memoryview:
        owner = self._owner
        if owner._closing or owner.machine.state in (State.STA1, State.STA4):
            # Bytes after the end are read and dropped, as the old read loop did.
            if self._spare is None:
                self._spare = bytearray(1 << 16)
            return memoryview(self._spare)
        return owner.machine.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        self._owner._received(nbytes)

    def eof_received(self) -> bool:
        self._owner._lost()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._lost()
        self._owner._writable()

    def pause_writing(self) -> None:
        self._owner._paused = True

    def resume_writing(self) -> None:
        self._owner._writable()


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
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._lost_done = False
        self._closed = asyncio.Event()
        self._paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
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
            transport, _ = await asyncio.wait_for(
                self._loop.create_connection(
                    lambda: _Protocol(self),
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
        assert isinstance(transport, asyncio.Transport)
        if self._lost_done:
            # The connection ended between the protocol's connection_made and our resuming
            # here: a TLS 1.3 server checks the client certificate after the handshake has
            # completed on our side and then closes.  _lost() already reported Evt17 (AA-4,
            # back to Sta1), so this is a failed connection, not a Transport Confirm (Evt2).
            raise TransportConnectError(
                f"cannot connect to {host}:{port}: the peer closed the connection at once"
                + (" (TLS handshake refused?)" if ssl_context is not None else "")
            )
        set_nodelay(transport)
        self._transport = transport
        self.machine.transport_connected(
            local_address=_address(transport.get_extra_info("sockname")),
            remote_address=_address(transport.get_extra_info("peername")),
        )
        self._perform()

    def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Take an incoming connection (Evt5: ARTIM starts) and start reading.

        The stream's protocol is replaced by ours; bytes the stream had buffered already
        are fed to the machine first, and an end of stream it had seen is reported.
        """
        transport = writer.transport
        assert isinstance(transport, asyncio.Transport)
        set_nodelay(transport)
        # StreamReader has no synchronous read: take what it buffered before the swap.
        buffered = bytes(getattr(reader, "_buffer", b""))
        at_eof = bool(getattr(reader, "_eof", False))
        transport.set_protocol(_Protocol(self))
        if not transport.is_closing() and not transport.is_reading():
            transport.resume_reading()  # the stream paused it when its buffer filled
        self._transport = transport
        self.machine.transport_connected(
            local_address=_address(transport.get_extra_info("sockname")),
            remote_address=_address(transport.get_extra_info("peername")),
        )
        self._perform()
        if buffered and not self._closing:
            self.last_received = self._loop.time()
            self.machine.receive_bytes(buffered)
            self._deliver_all()
        if at_eof or transport.is_closing():
            self._lost()

    # -- state -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is gone (closed by us, the peer or the network)."""
        return self._closed.is_set()

    @property
    def peer_certificate(self) -> dict[str, object] | None:
        """The peer's TLS certificate as ``ssl`` decodes it, or None (no TLS, none sent)."""
        if self._transport is None:
            return None
        cert = self._transport.get_extra_info("peercert")
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
        for part in self.machine.send_parts(primitive):
            self._write(part)  # a long fragment is written as it is, not copied into a PDU
        self._perform()

    async def drain(self) -> None:
        """Wait until the write buffer is below asyncio's high-water mark (or the
        connection is gone)."""
        if not self._paused or self._closing or self._lost_done or self._transport is None:
            return
        waiter = self._loop.create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def _writable(self) -> None:
        self._paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._closing:
            self._transport.write(data)

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
        if self._transport is not None:
            self._transport.close()  # flushes what is buffered, then closes

    def _deliver_all(self) -> None:
        while True:
            event = self.machine.next_event()
            self._perform()
            if event is NEED_DATA or event is IDLE:
                return
            self._on_event(event)

    # -- reading --------------------------------------------------------------------------------

    def _received(self, nbytes: int) -> None:
        if self._closing or self.machine.state in (State.STA1, State.STA4):
            return  # written into the protocol's spare area: dropped
        self.last_received = self._loop.time()
        self.machine.buffer_updated(nbytes)
        self._deliver_all()

    def _lost(self) -> None:
        """The connection is gone (end of stream, error, or our own close): once only."""
        if self._lost_done:
            return
        self._lost_done = True
        if not self._closing:
            self._closing = True
            self._cancel_timer()
            if self.machine.state is not State.STA1:
                self.machine.connection_closed()  # Evt17
                self._deliver_all()
            if self._transport is not None:
                self._transport.close()
        self._closed.set()
        if self._on_closed is not None:
            self._on_closed()

    def abort_connection(self) -> None:
        """Drop the connection at once, without any PDU (a last resort for shutdown)."""
        if self._transport is not None:
            self._transport.abort()
