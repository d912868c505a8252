"""Which SOP classes an implementation serves, and the request handlers that serve them.

The generated service modules name, per SOP class, the SCP protocol and the DIMSE services
it uses (``SCP_PROTOCOLS``, ``OPERATIONS``); :func:`scp_handlers` joins them with the
routes of the sibling modules into the map a
:class:`~dicompile.runtime.net.server.Server` takes (see :mod:`..dispatch`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Final

import attrs

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.association import (
    Association,
    RequestHandler,
    StreamingRequestHandler,
    failure_response,
)
from dicompile.runtime.net.dimse import (
    CEchoRQ,
    CFindRQ,
    CGetRQ,
    CMoveRQ,
    CStoreRQ,
    DataSink,
    NActionRQ,
    NCreateRQ,
    NGetRQ,
    NSetRQ,
    Request,
    Response,
)
from dicompile.runtime.net.negotiation import AcceptedContext
from dicompile.runtime.net.services.routes.composite import (
    echo_route,
    find_route,
    received_store_route,
    store_route,
)
from dicompile.runtime.net.services.routes.context import (
    SOP_CLASS_NOT_SUPPORTED,
    Route,
    sop_class_of,
)
from dicompile.runtime.net.services.routes.normalized import n_route
from dicompile.runtime.net.services.routes.retrieve import retrieve_route

#: DIMSE service (as the generated OPERATIONS name it) -> request type, handler method, route.
_ROUTES: Final[Mapping[str, tuple[type[Request], str, Route]]] = {
    "C-FIND": (CFindRQ, "handle_find", find_route),
    "C-ECHO": (CEchoRQ, "handle_echo", echo_route),
    "C-STORE": (CStoreRQ, "handle_store", store_route),
    "C-GET": (CGetRQ, "handle_get", retrieve_route),
    "C-MOVE": (CMoveRQ, "handle_move", retrieve_route),
    "N-CREATE": (NCreateRQ, "handle_n_create", n_route),
    "N-SET": (NSetRQ, "handle_n_set", n_route),
    "N-ACTION": (NActionRQ, "handle_n_action", n_route),
    "N-GET": (NGetRQ, "handle_n_get", n_route),
}


#: Optional methods preferred to the protocol's: C-STORE of the received bytes undecoded
#: (``receive_instance(ReceivedInstance)``), C-MOVE and C-GET yielding stored files
#: (``storage.Instance``) or ``Unavailable`` besides data sets.
_PREFERRED: Final[Mapping[str, tuple[str, Route]]] = {
    "C-STORE": ("receive_instance", received_store_route),
    "C-MOVE": ("move_instances", retrieve_route),
    "C-GET": ("get_instances", retrieve_route),
}


def _service_modules() -> Iterable[ModuleType]:
    from dicompile.generated.services import SERVICE_CLASSES

    for entry in SERVICE_CLASSES:
        yield importlib.import_module(f"dicompile.generated.services.{entry.module}")


def _protocols(sop_class: str | None = None) -> Iterable[tuple[str, type, tuple[str, ...]]]:
    """(SOP class, SCP protocol, operations) of one SOP class, or of every one."""
    if sop_class is not None:
        from dicompile.generated.services import service_modules

        modules: Iterable[ModuleType] = service_modules(sop_class)
    else:
        modules = _service_modules()
    for module in modules:
        scp_protocols: Mapping[str, str] = getattr(module, "SCP_PROTOCOLS", {})
        operations: Mapping[str, tuple[str, ...]] = getattr(module, "OPERATIONS", {})
        for uid, name in scp_protocols.items():
            if sop_class is None or uid == sop_class:
                yield uid, getattr(module, name), tuple(operations.get(uid, ()))


def has_protocol(sop_class: str) -> bool:
    """Whether the generated modules give ``sop_class`` an SCP protocol."""
    return any(True for _ in _protocols(sop_class))


def served_sop_classes(
    implementation: object, sop_classes: Iterable[str] | None = None
) -> dict[str, tuple[type, tuple[str, ...]]]:
    """The SOP classes ``implementation`` serves: UID -> (SCP protocol, DIMSE services).

    Raises
    ------
    LocalProtocolError
        A SOP class of ``sop_classes`` has no SCP protocol, or ``implementation`` does not
        satisfy it.
    """
    found: dict[str, tuple[type, tuple[str, ...]]] = {}
    if sop_classes is not None:
        for uid in sop_classes:
            entries = list(_protocols(uid))
            fitting = [e for e in entries if isinstance(implementation, e[1])]
            if not fitting:
                names = ", ".join(e[1].__name__ for e in entries) or "no SCP protocol"
                raise LocalProtocolError(
                    f"{type(implementation).__name__} does not implement the SCP of {uid} ({names})"
                )
            found[uid] = fitting[0][1], fitting[0][2]
        return found
    every = list(_protocols())
    mro = type(implementation).__mro__
    nominal = {uid: (proto, ops) for uid, proto, ops in every if proto in mro}
    if nominal:
        return nominal
    return {uid: (proto, ops) for uid, proto, ops in every if isinstance(implementation, proto)}


def scp_handlers(
    implementation: object,
    sop_classes: Iterable[str] | None = None,
    *,
    fallback: Mapping[type[Request], RequestHandler] | None = None,
    destinations: Mapping[str, tuple[str, int]] | None = None,
    untyped: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[type[Request], RequestHandler]:
    """The request handlers that serve ``implementation``'s generated SCP protocols.

    Parameters
    ----------
    implementation
        An object with ``handle_*`` methods of the generated ``...SCP`` protocols.
    sop_classes
        The SOP class UIDs it serves (default: see the module text).
    fallback
        Handlers for requests of SOP classes (or request types) it does not serve.
    destinations
        C-MOVE: Move Destination AE title -> (host, port); another title is A801H.  Also
        where N-EVENT-REPORTs go when the requestor's association is gone.
    untyped
        SOP classes the generated modules give no SCP protocol (retired storage classes
        absent from the SOP class tables) -> the DIMSE services ``implementation`` serves
        for them with the same methods.

    Raises
    ------
    LocalProtocolError
        It does not satisfy the protocol of a named SOP class, or serves nothing.

    References
    ----------
    PS3.4 (the SCP behaviour of each service class); PS3.7 §9.1 (DIMSE-C), Annex C.
    """
    from dicompile.generated.services.base import ServiceFailure

    served: dict[str, tuple[type | None, tuple[str, ...]]] = {
        uid: (None, tuple(operations)) for uid, operations in (untyped or {}).items()
    }
    served.update(served_sop_classes(implementation, sop_classes))
    by_type: dict[type[Request], dict[str, RequestHandler]] = {}
    for uid, (_, operations) in served.items():
        for operation in operations:
            route = _ROUTES.get(operation)
            if route is None:
                continue
            kind, name, build = route
            preferred = _PREFERRED.get(operation)
            if preferred is not None and callable(getattr(implementation, preferred[0], None)):
                # Stored files rather than decoded data sets (composite.py, retrieve.py).
                name, build = preferred
            method = getattr(implementation, name, None)
            if not callable(method):  # an operation its protocol leaves to another party
                continue
            by_type.setdefault(kind, {})[uid] = build(
                method, ServiceFailure, dict(destinations or {})
            )
    if not by_type:
        raise LocalProtocolError(
            f"{type(implementation).__name__} serves no SOP class with a dispatched DIMSE"
            f" service ({', '.join(sorted(_ROUTES))})"
        )
    handlers: dict[type[Request], RequestHandler] = dict(fallback or {})
    for kind, table in by_type.items():
        handlers[kind] = _by_sop_class(table, (fallback or {}).get(kind))
    return handlers


def _by_sop_class(
    table: Mapping[str, RequestHandler], other: RequestHandler | None
) -> RequestHandler:
    """The handler of the request's Affected SOP Class, else ``other``, else 0122H."""
    return _BySopClass(table, other)


class _BySopClass:
    """See :func:`_by_sop_class`; a streaming handler's data sinks pass through
    (:class:`~dicompile.runtime.net.association.StreamingRequestHandler`)."""

    def __init__(self, table: Mapping[str, RequestHandler], other: RequestHandler | None) -> None:
        self.table = table
        self.other = other

    def _chosen(self, context: AcceptedContext, request: Request) -> RequestHandler | None:
        """The handler that will answer ``request`` (None: refused here)."""
        sop_class = sop_class_of(request)
        if sop_class is not None and sop_class in self.table:
            return self.table[sop_class] if sop_class == context.abstract_syntax else None
        return self.other

    async def __call__(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> Response:
        sop_class = sop_class_of(request)
        chosen = self.table.get(sop_class) if sop_class is not None else None
        if chosen is not None:
            if sop_class == context.abstract_syntax:
                return await chosen(association, context, request)
            response = failure_response(request, SOP_CLASS_NOT_SUPPORTED)
            assert response is not None
            if "error_comment" in attrs.fields_dict(type(response)):
                response = attrs.evolve(
                    response, error_comment="SOP Class differs from the context's"
                )
            return response
        if self.other is not None:
            return await self.other(association, context, request)
        response = failure_response(request, SOP_CLASS_NOT_SUPPORTED)
        assert response is not None
        return response

    def data_sink(
        self, association: Association, context: AcceptedContext, request: Request
    ) -> DataSink | None:
        chosen = self._chosen(context, request)
        if isinstance(chosen, StreamingRequestHandler):
            return chosen.data_sink(association, context, request)
        return None

    async def handle_streamed(
        self,
        association: Association,
        context: AcceptedContext,
        request: Request,
        sink: DataSink,
    ) -> Response:
        chosen = self._chosen(context, request)
        if not isinstance(chosen, StreamingRequestHandler):  # only its own sinks come here
            sink.discard()
            raise LocalProtocolError("a streamed request reached a non-streaming handler")
        return await chosen.handle_streamed(association, context, request, sink)


__all__ = [
    "SOP_CLASS_NOT_SUPPORTED",
    "has_protocol",
    "scp_handlers",
    "served_sop_classes",
]
