"""An acceptor that serves many associations at once over asyncio (PS3.8 §9.1, PS3.7 §7).

Theory of operation
-------------------
* Each incoming connection runs in its own task: :func:`~dicompile.runtime.net.association.
  accept` negotiates, then :meth:`~dicompile.runtime.net.association.Association.serve`
  answers requests with the configured handlers until release or abort.
* The AE's ``max_associations`` bounds the connections served at once; the connection
  beyond it still gets a proper answer, an A-ASSOCIATE-RJ (transient, service-provider
  presentation, local-limit-exceeded), not a silent close.
* A task never lets an exception out: a bad peer ends its own association (A-ABORT, or
  the close the upper layer asks for) and the server goes on serving the others.
* :meth:`Server.close` stops accepting, lets the running associations finish for a grace
  period, then aborts what remains and waits for every task.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping

from dicompile.runtime.net.ae import ApplicationEntity
from dicompile.runtime.net.association import (
    Association,
    AssociationHook,
    RequestHandler,
    accept,
)
from dicompile.runtime.net.dimse import Request

log = logging.getLogger("dicompile.net")


class Server:
    """Serves associations for one application entity.

    Parameters
    ----------
    ae
        Our AE: title, accepted contexts, limits, timeouts.
    handlers
        The request handler per request type (``CEchoRQ``, ``CStoreRQ``, ...).
    ssl_context
        A server-side TLS context (``runtime.security.tls``) for a secure transport
        connection (PS3.15 Annex B), or None for plain TCP.
    hook
        May change the decision on each A-ASSOCIATE request.
    on_association
        Called with each association once it ended (for logs and tests).
    """

    def __init__(
        self,
        ae: ApplicationEntity,
        handlers: Mapping[type[Request], RequestHandler],
        *,
        ssl_context: ssl.SSLContext | None = None,
        hook: AssociationHook | None = None,
        on_association: Callable[[Association], None] | None = None,
    ) -> None:
        self.ae = ae
        self.handlers = dict(handlers)
        self._ssl = ssl_context
        self._hook = hook
        self._on_association = on_association
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._associations: set[Association] = set()
        self.active = 0
        #: Counts for logs and tests: connections, associations accepted, rejected busy.
        self.connections = 0
        self.accepted = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host:port`` (port 0: any free port); return the address bound."""
        self._server = await asyncio.start_server(
            self._on_connection, host, port, ssl=self._ssl, limit=1 << 20
        )
        sockname = self._server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def serve_forever(self) -> None:
        """Serve until cancelled or :meth:`close` is called."""
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        busy = self.active >= self.ae.max_associations
        if not busy:
            self.active += 1
        association: Association | None = None
        try:
            association = await accept(self.ae, reader, writer, busy=busy, hook=self._hook)
            if association is None:
                return
            self.accepted += 1
            self._associations.add(association)
            await association.serve(self.handlers)
        except Exception:
            log.exception("association from %s failed", writer.get_extra_info("peername"))
            if association is not None:
                association.abort("internal error")
        finally:
            if not busy:
                self.active -= 1
            if association is not None:
                self._associations.discard(association)
                if self._on_association is not None:
                    self._on_association(association)
            if not writer.is_closing():
                writer.close()
            self._tasks.discard(task)

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting; give running associations ``grace`` seconds, then abort them."""
        if self._server is not None:
            self._server.close()
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for association in list(self._associations):
                association.abort("server shutting down")
            if pending:
                _, still = await asyncio.wait(pending, timeout=(self.ae.timeouts.artim or 30) + 2)
                for task in still:
                    task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
