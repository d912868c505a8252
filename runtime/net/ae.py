"""What an application entity is configured with: its title, what it accepts and proposes,
its limits and its timeouts (PS3.7 §7, PS3.8 §7.1, PS3.7 Annex D).

Theory of operation
-------------------
* :class:`ApplicationEntity` is a frozen record: the same value configures any number of
  associations, requested or accepted, and two AEs with different policies can run side by
  side in one process (no global configuration).
* :class:`SupportedContext` says, for one abstract syntax (SOP class), which transfer
  syntaxes this AE accepts and in which roles it may act (PS3.7 D.3.3.4): ``scp`` when it
  performs the operations of the SOP class, ``scu`` when it invokes them.  By default an
  acceptor is SCP and a requestor SCU, which is what PS3.7 D.3.3.4 assumes when no role
  selection is negotiated.
* :class:`Timeouts` holds every time limit of a driver, in seconds (``None``: no limit):
  ARTIM (PS3.8 §9.1.5), the wait for the A-ASSOCIATE response, the DIMSE response wait and
  the idle limit of an established association.
* Nothing here performs I/O; :mod:`dicompile.runtime.net.negotiation` applies the record to
  an A-ASSOCIATE request and :mod:`dicompile.runtime.net.association` drives associations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from dicompile.runtime.errors import LocalProtocolError
from dicompile.runtime.media.part10 import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from dicompile.runtime.net.ul.pdu import encode_ae_title, encode_uid

#: Our Maximum Length (PS3.8 D.1) by default: large PDUs mean fewer of them per data set.
DEFAULT_MAX_PDU_LENGTH: Final = 1 << 20
#: Default limit of concurrent associations of an acceptor.
DEFAULT_MAX_ASSOCIATIONS: Final = 64

IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN: Final = "1.2.840.10008.1.2.2"
#: The uncompressed transfer syntaxes, in the order dicompile prefers them.
UNCOMPRESSED: Final = (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
)


def _uid_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class SupportedContext:
    """One abstract syntax this AE accepts or proposes, with its transfer syntaxes and roles.

    ``transfer_syntaxes`` is in order of preference.  ``scu``/``scp`` are the roles this AE
    may take for the SOP class (PS3.7 D.3.3.4).

    References
    ----------
    PS3.8 §7.1.1.13; PS3.7 D.3.3.4.
    """

    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...] = attrs.field(default=UNCOMPRESSED, converter=_uid_tuple)
    scu: bool = True
    scp: bool = True

    def __attrs_post_init__(self) -> None:
        encode_uid(self.abstract_syntax, "abstract syntax")
        if not self.transfer_syntaxes:
            raise LocalProtocolError(f"{self.abstract_syntax}: no transfer syntax given")
        for uid in self.transfer_syntaxes:
            encode_uid(uid, "transfer syntax")
        if not (self.scu or self.scp):
            raise LocalProtocolError(f"{self.abstract_syntax}: neither SCU nor SCP role")


@attrs.frozen
class Timeouts:
    """Time limits in seconds; ``None`` waits for ever.

    ``artim``: the ARTIM timer (PS3.8 §9.1.5), how long an acceptor waits for the
    A-ASSOCIATE-RQ and either side for the transport to close after a reject, release or
    abort.  ``connect``: opening the TCP (and TLS) connection.  ``acse``: the requestor's
    wait for A-ASSOCIATE-AC/RJ and for A-RELEASE-RP.  ``dimse``: the wait for a response to
    a request.  ``idle``: an established association with nothing received for this long is
    aborted.
    """

    artim: float | None = 30.0
    connect: float | None = 30.0
    acse: float | None = 30.0
    dimse: float | None = 60.0
    idle: float | None = 300.0


def _contexts(values: Iterable[SupportedContext]) -> tuple[SupportedContext, ...]:
    return tuple(values)


def _titles(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(v.strip(" ") for v in values)


@attrs.frozen
class ApplicationEntity:
    """A DICOM application entity's configuration (PS3.7 §7; PS3.8 §7.1).

    Parameters
    ----------
    ae_title
        Our AE title (1-16 characters of the default repertoire, no backslash).
    contexts
        The abstract syntaxes we accept (as acceptor) or may propose (as requestor).
    require_called_ae_title
        An acceptor rejects an A-ASSOCIATE-RQ whose Called AE Title is not ``ae_title``
        (A-ASSOCIATE-RJ permanent, service-user, reason 7, PS3.8 Table 9-21).
    calling_ae_titles
        When given, the only Calling AE Titles an acceptor accepts (others: reason 3).
    prefer_own_transfer_syntax_order
        An acceptor picks, among the proposed transfer syntaxes it supports, the first in
        *its* order; by default the first in the *requestor's* order (which is usually the
        one its data is already in, so no one transcodes).
    max_pdu_length
        The Maximum Length we announce (PS3.8 D.1): the largest P-DATA-TF we accept; 0 for
        no limit.
    max_operations_invoked, max_operations_performed
        Our asynchronous operations window (PS3.7 D.3.3.3); 1/1 is synchronous and is not
        negotiated at all; 0 means unlimited.
    max_associations
        How many associations an acceptor serves at once; one more is rejected (transient,
        service-provider presentation, local limit exceeded).
    max_data_set_length
        A local limit on one received data set in bytes (None: none); a peer that sends
        more is aborted, so it cannot exhaust our memory.
    """

    ae_title: str
    contexts: tuple[SupportedContext, ...] = attrs.field(default=(), converter=_contexts)
    require_called_ae_title: bool = False
    calling_ae_titles: frozenset[str] | None = attrs.field(default=None, converter=_titles)
    prefer_own_transfer_syntax_order: bool = False
    max_pdu_length: int = DEFAULT_MAX_PDU_LENGTH
    max_operations_invoked: int = 1
    max_operations_performed: int = 1
    max_associations: int = DEFAULT_MAX_ASSOCIATIONS
    max_data_set_length: int | None = None
    timeouts: Timeouts = Timeouts()
    implementation_class_uid: str = IMPLEMENTATION_CLASS_UID
    implementation_version_name: str | None = IMPLEMENTATION_VERSION_NAME

    def __attrs_post_init__(self) -> None:
        encode_ae_title(self.ae_title)
        if not 0 <= self.max_pdu_length <= 0xFFFFFFFF:
            raise LocalProtocolError(f"maximum PDU length {self.max_pdu_length} out of range")
        if 0 < self.max_pdu_length < 8:
            raise LocalProtocolError("a maximum PDU length below 8 cannot carry a fragment")
        for window in (self.max_operations_invoked, self.max_operations_performed):
            if not 0 <= window <= 0xFFFF:
                raise LocalProtocolError(f"asynchronous operations window {window} out of range")
        if self.max_associations < 1:
            raise LocalProtocolError("max_associations must be at least 1")
        encode_uid(self.implementation_class_uid, "implementation class UID")
        seen: set[str] = set()
        for context in self.contexts:
            if context.abstract_syntax in seen:
                raise LocalProtocolError(f"abstract syntax {context.abstract_syntax} given twice")
            seen.add(context.abstract_syntax)

    @property
    def by_abstract_syntax(self) -> Mapping[str, SupportedContext]:
        """The supported contexts by abstract syntax UID."""
        return {c.abstract_syntax: c for c in self.contexts}

    def with_contexts(self, contexts: Iterable[SupportedContext]) -> ApplicationEntity:
        """This AE with other supported contexts."""
        return attrs.evolve(self, contexts=tuple(contexts))
