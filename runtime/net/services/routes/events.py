"""N-EVENT-REPORT sent by the SCP of a SOP class to the SCU that asked (PS3.7 §10.1.1).

Theory of operation
-------------------
An SCP reports an event (a Storage Commitment result, PS3.4 J.3.3) to the AE that
requested the work.  :class:`EventNotifier` is bound to that AE and SOP class:

* while the request's association is established and has a context of the SOP class on
  which we are SCP, the N-EVENT-REPORT-RQ goes there (PS3.4 J.3.3.1.2: "on the same
  association");
* else (the requestor released, or the report on it failed) on a new association to the
  requestor's address, found by its AE title in ``destinations`` (``--peer``), as our own
  AE title, proposing the SCP role only by SCP/SCU Role Selection (PS3.7 D.3.3.4);
* an AE title with no address, a refused role or a failed association is a
  :class:`~dicompile.runtime.errors.NetworkError`: the caller keeps the event for later.

The notifier implements the generated ``...Notifier`` protocols
(``StorageCommitmentPushModelNotifier.n_event_report``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dicompile.runtime.errors import LocalProtocolError, NetworkError
from dicompile.runtime.net.ae import UNCOMPRESSED, ApplicationEntity
from dicompile.runtime.net.association import Association, associate
from dicompile.runtime.net.dimse import NEventReportRQ
from dicompile.runtime.net.negotiation import AcceptedContext, ProposedContext

if TYPE_CHECKING:
    from dicompile.generated.dimse_commands import StatusCode
    from dicompile.generated.services.base import Outcome
    from dicompile.runtime.core.dataset import Dataset

log = logging.getLogger("dicompile.net.dispatch")


class EventNotifier:
    """Sends N-EVENT-REPORT-RQs of ``sop_class`` to ``peer_ae_title`` (see the module text).

    Parameters
    ----------
    ae
        Our AE: its title calls the requestor on a new association, its timeouts bound it.
    peer_ae_title
        The requestor's AE title.
    sop_class
        The SOP class of the events (Affected SOP Class UID).
    destinations
        AE title -> (host, port), for a new association.
    association
        The association of the request, used while established.
    """

    def __init__(
        self,
        ae: ApplicationEntity,
        peer_ae_title: str,
        sop_class: str,
        destinations: Mapping[str, tuple[str, int]],
        *,
        association: Association | None = None,
    ) -> None:
        self.ae = ae
        self.peer_ae_title = peer_ae_title
        self.sop_class = sop_class
        self.destinations = dict(destinations)
        self.association = association

    async def n_event_report(
        self,
        sop_instance_uid: str,
        event_type: int,
        information: Dataset | None = None,
    ) -> Outcome[StatusCode]:
        """Report one event; the Outcome holds the requestor's response status.

        Raises
        ------
        NetworkError
            Not delivered: no address for the requestor, it refused the SCP role, or the
            association failed.

        References
        ----------
        PS3.7 §10.1.1, §10.3.1; PS3.4 J.3.3.1.2.
        """
        from dicompile.generated.services.base import Outcome

        association = self.association
        if association is not None and association.is_established:
            context = association.negotiated.find(self.sop_class, scu=False)
            if context is not None:
                try:
                    status = await self._send(
                        association, context, sop_instance_uid, event_type, information
                    )
                except (NetworkError, LocalProtocolError) as exc:
                    log.info("report on the same association failed (%s); reconnecting", exc)
                else:
                    return Outcome(status)
        address = self.destinations.get(self.peer_ae_title)
        if address is None:
            raise NetworkError(
                f"no address for {self.peer_ae_title} (--peer {self.peer_ae_title}@HOST:PORT)"
            )
        async with await associate(
            self.ae,
            address[0],
            address[1],
            called_ae_title=self.peer_ae_title,
            contexts=[ProposedContext(self.sop_class, UNCOMPRESSED, scu=False, scp=True)],
        ) as report_association:
            context = report_association.negotiated.find(self.sop_class, scu=False)
            if context is None:
                raise NetworkError(
                    f"{self.peer_ae_title} refused the SCP role for {self.sop_class}"
                )
            status = await self._send(
                report_association, context, sop_instance_uid, event_type, information
            )
        log.info("N-EVENT-REPORT to %s on a new association: %04XH", self.peer_ae_title, status)
        return Outcome(status)

    async def _send(
        self,
        association: Association,
        context: AcceptedContext,
        sop_instance_uid: str,
        event_type: int,
        information: Dataset | None,
    ) -> int:
        from dicompile.runtime.net.services.payload import encode_payload

        response = await association.request(
            NEventReportRQ(
                message_id=association.next_message_id(),
                affected_sop_class_uid=self.sop_class,
                affected_sop_instance_uid=sop_instance_uid,
                event_type_id=event_type,
                data_set=(
                    encode_payload(information, context.transfer_syntax)
                    if information is not None
                    else None
                ),
            ),
            context.context_id,
        )
        return response.status


__all__ = ["EventNotifier"]
