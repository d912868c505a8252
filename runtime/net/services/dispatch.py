"""Serve an application's typed SCP handlers: DIMSE requests routed to the generated protocols.

The generated service modules (``dicompile.generated.services.<service>``) declare, per SOP
class, the handler protocol an SCP implements (``StudyRootQueryRetrieveSCP.handle_find``,
``ModalityWorklistSCP.handle_find``, ``VerificationSCP.handle_echo``, ...), the DIMSE
services the SOP class uses (``OPERATIONS``) and the protocol of its SCP (``SCP_PROTOCOLS``).
:func:`scp_handlers` turns an object implementing such protocols into the request handlers
an :class:`~dicompile.runtime.net.server.Server` takes.

Example
-------
An application worklist, served next to Verification (this text is checked by mypy and run
by ``tests/runtime/net/services/test_dispatch.py``)::

    from collections.abc import AsyncIterator, Iterator

    from dicompile.generated.services.base import Match, ServiceContext, ServiceFailure
    from dicompile.generated.services.basic_worklist_management import (
        FindStatus,
        ModalityWorklistSCP,
    )
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.net.ae import ApplicationEntity
    from dicompile.runtime.net.server import Server
    from dicompile.runtime.net.services.archive_scp import Verification
    from dicompile.runtime.net.services.dispatch import scp_handlers
    from dicompile.runtime.net.services.verification import VERIFICATION_SCP
    from dicompile.runtime.net.services.worklist import WORKLIST_SCP_CONTEXT


    def scheduled(patient_id: str) -> Iterator[Dataset]:
        item = Dataset()
        item.set("PatientID", patient_id)
        item.set("AccessionNumber", "A-1")
        yield item


    class MyWorklist(ModalityWorklistSCP):
        async def handle_find(
            self, identifier: Dataset, context: ServiceContext
        ) -> AsyncIterator[Match[FindStatus]]:
            patient_id = identifier.get_value("PatientID")
            if not patient_id:
                raise ServiceFailure(FindStatus.UNABLE_TO_PROCESS, "PatientID is required")
            for item in scheduled(str(patient_id)):
                yield Match(item)


    ae = ApplicationEntity("WORKLIST", contexts=(VERIFICATION_SCP, WORKLIST_SCP_CONTEXT))
    server = Server(ae, scp_handlers(MyWorklist(), fallback=scp_handlers(Verification())))
    # then: await server.start("0.0.0.0", 11112); await server.serve_forever()

Theory of operation
-------------------
* Which SOP classes an implementation serves: those named in ``sop_classes``; by default
  those whose SCP protocol the implementation's class derives from (nominal), else every SOP
  class whose protocol it satisfies structurally.  ``runtime_checkable`` protocols only check
  method names, so a bare ``handle_find`` fits Query/Retrieve and Modality Worklist alike:
  derive from the protocol or name the SOP classes.  A named SOP class whose protocol the
  implementation does not satisfy is a :class:`~dicompile.runtime.errors.LocalProtocolError`.
* Each request goes by its Affected SOP Class UID (PS3.7 §9.1.2.1.2) to the implementation
  serving that class; a SOP class served by none goes to ``fallback`` (the handler of the
  request type there), or is refused with 0122H SOP Class Not Supported (PS3.7 C.5.6).  One
  server may therefore answer C-FIND of Query/Retrieve from one object and of the worklist
  from another, by chaining: ``scp_handlers(qr, fallback=scp_handlers(worklist))``.
* The handler gets the identifier decoded in the presentation context's transfer syntax, and
  a :class:`RequestContext` (a ``ServiceContext``: SOP class, AE titles, Message ID, and
  :attr:`RequestContext.cancelled`).
* C-FIND (PS3.4 C.4.1, K.4.1; PS3.7 §9.1.2): each yielded ``Match`` is one Pending response
  (its status, FF00H or FF01H) with the identifier encoded in the context's syntax; after a
  C-CANCEL-RQ the SCP stops pulling matches and answers FE00H Cancel (PS3.7 §9.3.2.3);
  otherwise the final response is Success.
* C-ECHO (PS3.4 A.4.2): the ``Outcome`` returned is the response's status and comment.
* N-CREATE, N-SET, N-ACTION, N-GET (PS3.7 §10.1): the handler gets the SOP Instance UID,
  the decoded Attribute List / Modification List / Action Information (N-ACTION also the
  Action Type ID, N-GET the Attribute Identifier List); the ``Outcome`` it returns gives
  the status, the data set of the response and, for N-CREATE, the instance UID (one is made
  when neither the SCU nor the handler named it, PS3.7 §10.1.5.1.2).
* Failures: ``ServiceFailure(status, comment)`` raised by the handler is the final status
  with Error Comment (0000,0902); a :class:`~dicompile.runtime.errors.QueryError` gives its
  status, with the first tag of its path as Offending Element (0000,0901); an identifier that
  does not decode is C000H; any other exception is C000H Unable to process for C-FIND and
  0110H Processing Failure for the others (PS3.7 C.4.3) -- never Success.
* C-GET, C-MOVE (PS3.4 C.4.2, C.4.3): the handler yields the data sets to send; the
  runtime collects them (so that each Pending response carries the Remaining count), then
  sends each with C-STORE -- C-GET on this association where the SCU granted us the SCU
  role (PS3.7 D.3.3.4), C-MOVE on a new association to the Move Destination of
  ``destinations`` (else A801H, checked once the handler produced its first item), with
  the Move Originator AE title and Message ID -- in a native transfer syntax, a Pending
  response with the counts after each; the final status is 0000H, B000H when some failed
  or warned, A702H when all failed, with the Failed SOP Instance UID List (0008,0058);
  C-CANCEL gives FE00H with the counts.  An implementation with ``move_instances`` /
  ``get_instances`` (preferred to the protocol's methods) may also yield stored files
  (``storage.Instance``: sent as stored, transcoded only when needed) and
  ``routes.retrieve.Unavailable`` (a failed sub-operation).
* C-STORE (PS3.4 B.2.3): the handler gets the data set decoded in the context's syntax and
  returns the Outcome; a data set that does not decode is C000H (Cannot understand).  An
  implementation with ``receive_instance(ReceivedInstance)`` gets the bytes undecoded
  instead (pass-through to a Part 10 file, ``storage.storage_handler``'s statuses).
* DIMSE-N failures with Error ID or Attribute Identifier List: raise
  ``routes.context.StatusFailure``.  N-EVENT-REPORT sent by an SCP (a Storage Commitment
  result, PS3.4 J.3.3): :meth:`RequestContext.notifier` reports on the request's
  association while established, else on a new one to the requestor's address in
  ``destinations`` (``routes/events.py``).
* Not yet dispatched: N-DELETE and N-EVENT-REPORT received (by an SCU, e.g. a Storage
  Commitment result); give their handlers in ``fallback``.

The code lives in :mod:`.routes`, one job per module (request context, composite routes,
retrieve routes, normalized routes, event reports, the registry); this module re-exports
its public names.
The runtime imports the generated modules lazily (inside :func:`scp_handlers`), never at
import time: generated code may import the runtime, not the other way round.
"""

from __future__ import annotations

from dicompile.runtime.net.services.routes.context import (
    CANCEL,
    MOVE_DESTINATION_UNKNOWN,
    PENDING,
    SOP_CLASS_NOT_SUPPORTED,
    SUBOPERATIONS_FAILED,
    SUBOPERATIONS_WARNING,
    SUCCESS,
    UNABLE_TO_PROCESS,
    RequestContext,
    StatusFailure,
)
from dicompile.runtime.net.services.routes.events import EventNotifier
from dicompile.runtime.net.services.routes.registry import scp_handlers, served_sop_classes

__all__ = [
    "CANCEL",
    "MOVE_DESTINATION_UNKNOWN",
    "PENDING",
    "SOP_CLASS_NOT_SUPPORTED",
    "SUBOPERATIONS_FAILED",
    "SUBOPERATIONS_WARNING",
    "SUCCESS",
    "UNABLE_TO_PROCESS",
    "EventNotifier",
    "RequestContext",
    "StatusFailure",
    "scp_handlers",
    "served_sop_classes",
]
