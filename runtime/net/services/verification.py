"""The Verification Service Class: C-ECHO SCU and SCP (PS3.4 Annex A; PS3.7 §9.1.5).

The SCP answers every C-ECHO-RQ with Success (PS3.4 A.4.2: the SCP "shall return" a
response with status Success when it receives the request).  The SCU sends C-ECHO-RQ on
an accepted Verification context and returns the status it got back.
"""

from __future__ import annotations

from typing import Final

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.net.ae import UNCOMPRESSED, SupportedContext
from dicompile.runtime.net.association import Association
from dicompile.runtime.net.dimse import CEchoRQ, CEchoRSP, Request, Response
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext

#: Verification SOP Class UID (PS3.4 A.4, PS3.6 Annex A).
VERIFICATION: Final = "1.2.840.10008.1.1"
#: What an SCP accepts and an SCU proposes for Verification.
VERIFICATION_SCP: Final = SupportedContext(VERIFICATION, UNCOMPRESSED, scu=False, scp=True)
VERIFICATION_CONTEXT: Final = ProposedContext(VERIFICATION, UNCOMPRESSED)


async def handle_echo(
    association: Association, context: AcceptedContext, request: Request
) -> Response:
    """Answer a C-ECHO-RQ with Success (PS3.4 A.4.2; PS3.7 §9.3.5.2).

    References
    ----------
    PS3.4 Annex A; PS3.7 §9.1.5, Table 9.3-13.
    """
    assert isinstance(request, CEchoRQ)
    return CEchoRSP(
        message_id_being_responded_to=request.message_id,
        status=0x0000,
        affected_sop_class_uid=request.affected_sop_class_uid,
    )


async def echo(association: Association, *, timeout: float | None = None) -> int:
    """Send one C-ECHO-RQ and return the response's status (0000H: Success).

    Raises
    ------
    LocalProtocolError
        No Verification context was accepted.
    AssociationAbortedError
        The association ended, or no response came within the DIMSE timeout.

    References
    ----------
    PS3.4 A.4.1; PS3.7 §9.1.5.
    """
    context = association.negotiated.find(VERIFICATION)
    if context is None:
        raise LocalProtocolError("the peer accepted no Verification presentation context")
    response = await association.request(
        CEchoRQ(message_id=association.next_message_id()), context.context_id, timeout=timeout
    )
    return response.status
