"""DIMSE messages in P-DATA-TF PDUs: fragmentation and reassembly (PS3.8 Annex E), sans-IO.

Theory of operation
-------------------
Sending (:func:`fragment`, :func:`fragment_message`):

* A message is its command set, then its data set if it has one.  Each is cut into fragments
  that go into Presentation Data Value items with a message control header (bit 0 command,
  bit 1 last fragment; PS3.8 E.2).  Every fragment has an even length (E.1), none is empty
  (E.1 forbids PDVs holding only the header), and every P-DATA-TF's PDU-length stays within
  the peer's Maximum Length (PS3.8 D.1; 0 means no limit, and then a local size is used).
* PDVs are packed greedily: the first data fragment shares the PDU of the last command
  fragment when it fits (E.1 allows it).  All PDVs of a PDU belong to one message.
* Fragments are produced lazily, so a large data set is never copied whole.

Receiving (:class:`Reassembler`): one message at a time per association, because PS3.8 E.1
forbids interleaving fragments of different messages (and so of different presentation
contexts) until the current message is complete.  Rules enforced, each a
:class:`~dicompile.runtime.errors.DIMSEProtocolError` naming the context and the rule:

* a PDV on a presentation context that was not accepted;
* a PDV on another context while a message is incomplete (E.1, "same presentation context for
  every fragment");
* a fragment of odd length (E.1);
* a data fragment before any command fragment, or before the last command fragment;
* a command fragment after the last one, while the data set is awaited;
* a data fragment for a message whose Command Data Set Type says it has none, or a Command
  Data Set Type announcing a data set for a message that never has one (C-ECHO-RQ ...);
* PDVs of another message after a message completed in the same P-DATA-TF (E.1);
* a command set or data set beyond the local size limits.

Empty PDVs and consecutive PDVs of the same kind are accepted: E.1 asks receivers to cope.
The sender may end a data set early (the "early failed response" of PS3.7 §9.3.1.3); the
receiver cannot tell, and passes on what it got.

Data sinks: by default the data fragments of a message are joined in memory.  A
``sink_factory`` (set by the association for a handler that can take a data set it never
holds, e.g. a Storage SCP writing each instance to its file) is asked, once a command set
announcing a data set is whole, for a :class:`DataSink` that takes the fragments as they
come.  At the last fragment :meth:`DataSink.finish` says whether the sink kept the bytes
(then the message carries them as usual) or streamed them away (then the message's data
set is empty and :attr:`ReceivedMessage.data_sink` holds the sink).  On any error, or
:meth:`Reassembler.abandon` when the association ends, an unfinished sink is discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Final, Protocol, TypeAlias

import attrs

from dicompile.runtime.errors import DIMSEProtocolError, LocalProtocolError
from dicompile.runtime.net.dimse.command_set import (
    COMMAND_DATA_SET_TYPE,
    CommandValue,
    decode_command_set,
)
from dicompile.runtime.net.dimse.messages import (
    DataSetPresence,
    DimseMessage,
    decode_message,
    encode_command,
    has_data_set,
    message_type,
)
from dicompile.runtime.net.ul.pdu import (
    PDV_OVERHEAD,
    MessageControlHeader,
    PDataTF,
    PresentationDataValue,
)

#: The smallest Maximum Length that can carry a fragment: a PDV item header and two bytes.
MIN_MAX_PDU_LENGTH: Final = PDV_OVERHEAD + 2
#: PDU-length used when the peer announces no maximum (Maximum Length 0, PS3.8 D.1).
UNLIMITED_PDU_LENGTH: Final = 1 << 20
#: Local limits on what one received message may hold.
DEFAULT_MAX_COMMAND_LENGTH: Final = 1 << 16
DEFAULT_MAX_DATA_SET_LENGTH: Final[int | None] = None


class CarriesPDVs(Protocol):
    """A P-DATA-TF PDU or a P-DATA indication primitive: anything with a PDV list."""

    @property
    def pdvs(self) -> tuple[PresentationDataValue, ...]: ...


def _check_part(what: str, data: bytes) -> None:
    if not data:
        raise LocalProtocolError(f"an empty {what} cannot be sent (PS3.8 E.1: no empty PDVs)")
    if len(data) % 2:
        raise LocalProtocolError(f"the {what} has odd length {len(data)} (PS3.8 E.1)")


def fragment(
    command_set: bytes,
    data_set: bytes | None,
    *,
    context_id: int,
    max_pdu_length: int | None,
    unlimited_pdu_length: int = UNLIMITED_PDU_LENGTH,
) -> Iterator[PDataTF]:
    """Cut one message into P-DATA-TF PDUs for a peer with Maximum Length ``max_pdu_length``.

    Parameters
    ----------
    command_set
        The encoded command set (Implicit VR Little Endian).
    data_set
        The encoded data set, or None.
    context_id
        The presentation context of the message (odd, 1-255).
    max_pdu_length
        The peer's Maximum Length (the PDU-length limit of its P-DATA-TF PDUs); 0 or None
        for none (``UpperLayer.peer_max_pdata_length``), and then ``unlimited_pdu_length``
        is used.

    Raises
    ------
    LocalProtocolError
        For an even or out-of-range context ID, a maximum too small to carry a fragment
        (below :data:`MIN_MAX_PDU_LENGTH`), or an empty or odd-length command or data set.

    References
    ----------
    PS3.8 Annex E (E.1, E.2), Table 9-22, Table 9-23, D.1.
    """
    if not (1 <= context_id <= 255 and context_id % 2):
        raise LocalProtocolError(f"presentation context ID {context_id} is not odd 1-255")
    limit = max_pdu_length or unlimited_pdu_length
    if limit < MIN_MAX_PDU_LENGTH:
        raise LocalProtocolError(
            f"a maximum PDU length of {limit} cannot carry a fragment (at least"
            f" {MIN_MAX_PDU_LENGTH} needed)"
        )
    _check_part("command set", command_set)
    streams: list[tuple[bool, memoryview]] = [(True, memoryview(command_set))]
    if data_set is not None:
        _check_part("data set", data_set)
        streams.append((False, memoryview(data_set)))
    return _fragments(streams, context_id, limit)


def _fragments(
    streams: list[tuple[bool, memoryview]], context_id: int, limit: int
) -> Iterator[PDataTF]:
    pdvs: list[PresentationDataValue] = []
    room = limit
    for is_command, data in streams:
        position = 0
        while position < len(data):
            if room < MIN_MAX_PDU_LENGTH:
                yield PDataTF(tuple(pdvs))
                pdvs, room = [], limit
            size = min(len(data) - position, (room - PDV_OVERHEAD) & ~1)
            end = position + size
            header = MessageControlHeader(is_command=is_command, is_last=end == len(data))
            whole = data.obj if size == len(data) and isinstance(data.obj, bytes) else None
            # A part that fits one fragment is passed on as it is, not copied.
            chunk = whole if whole is not None else bytes(data[position:end])
            pdvs.append(PresentationDataValue(context_id, header, chunk))
            room -= PDV_OVERHEAD + size
            position = end
    yield PDataTF(tuple(pdvs))


def fragment_message(
    message: DimseMessage,
    *,
    context_id: int,
    max_pdu_length: int | None,
    unlimited_pdu_length: int = UNLIMITED_PDU_LENGTH,
) -> Iterator[PDataTF]:
    """Encode ``message`` and cut it into P-DATA-TF PDUs (see :func:`fragment`).

    References
    ----------
    PS3.7 §6.3.1, §9.3, §10.3; PS3.8 Annex E.
    """
    data_set: bytes | None = getattr(message, "data_set", None)
    return fragment(
        encode_command(message),
        data_set,
        context_id=context_id,
        max_pdu_length=max_pdu_length,
        unlimited_pdu_length=unlimited_pdu_length,
    )


class DataSink(Protocol):
    """Takes the data fragments of one message instead of memory (see the module text)."""

    @property
    def length(self) -> int:
        """Bytes of data set written to the sink so far."""

    def write(self, fragment: bytes) -> None:
        """Take the next fragment (even length, possibly empty); must not raise for a
        local failure (e.g. a full disk): remember it, and report it when the message is
        handled."""

    def finish(self) -> bytes | None:
        """The last fragment came: the whole data set if the sink kept it in memory, or
        None when it streamed it elsewhere (the sink then travels with the message)."""

    def discard(self) -> None:
        """Drop what was received (the message will never be handled); idempotent."""


#: Chooses the sink of a message from its context ID and its request decoded with an empty
#: data set (None: keep the data set in memory).
SinkFactory: TypeAlias = Callable[[int, DimseMessage], DataSink | None]


@attrs.frozen
class ReceivedMessage:
    """A complete DIMSE message and the presentation context it came on.

    ``data_sink`` is set when the data set went to a sink rather than into ``message``
    (whose data set is then empty); whoever takes the message then owns the sink (and
    must :meth:`DataSink.discard` it if it is not used).
    """

    context_id: int
    message: DimseMessage
    data_sink: DataSink | None = None


class Reassembler:
    """Collects PDVs into DIMSE messages for one association (PS3.8 Annex E), sans-IO.

    Parameters
    ----------
    context_ids
        The accepted presentation context IDs; a PDV on another is refused.  None accepts any
        (for tests, or when the upper layer checks already).
    max_command_length, max_data_set_length
        Local limits on a received command set and data set (None: no limit).
    sink_factory
        Chooses a :class:`DataSink` for a message's data set (see the module text); may
        be changed between messages through the attribute of that name.

    References
    ----------
    PS3.8 Annex E; PS3.7 §6.3.1.
    """

    def __init__(
        self,
        context_ids: Collection[int] | None = None,
        *,
        max_command_length: int = DEFAULT_MAX_COMMAND_LENGTH,
        max_data_set_length: int | None = DEFAULT_MAX_DATA_SET_LENGTH,
        sink_factory: SinkFactory | None = None,
    ) -> None:
        self._context_ids = frozenset(context_ids) if context_ids is not None else None
        self._max_command = max_command_length
        self._max_data = max_data_set_length
        self.sink_factory = sink_factory
        self._sink: DataSink | None = None
        self._header: DimseMessage | None = None
        self._reset()

    def abandon(self) -> None:
        """Drop the message in progress, discarding its sink (the association ended)."""
        self._reset()

    def _reset(self) -> None:
        sink, self._sink, self._header = self._sink, None, None
        if sink is not None:
            sink.discard()
        self._context: int | None = None
        self._command: list[bytes] = []
        self._command_length = 0
        self._elements: dict[int, CommandValue] | None = None  # set once the command is whole
        self._data: list[bytes] = []
        self._data_length = 0

    @property
    def in_progress(self) -> bool:
        """True while part of a message has been received (no other may start)."""
        return self._context is not None

    @property
    def context_id(self) -> int | None:
        """The presentation context of the message in progress, if any."""
        return self._context

    def receive(self, pdata: CarriesPDVs) -> ReceivedMessage | None:
        """Take the PDVs of one P-DATA-TF (or P-DATA indication); return the message they end.

        Raises
        ------
        DIMSEProtocolError
            When the PDVs break PS3.8 Annex E or the message breaks PS3.7 (see the module
            docstring); the reassembler is then reset, and the association should be aborted.

        References
        ----------
        PS3.8 Annex E.1.
        """
        result: ReceivedMessage | None = None
        for index, pdv in enumerate(pdata.pdvs):
            if result is not None:
                self._reset()
                raise DIMSEProtocolError(
                    f"PDV {index + 1} of a P-DATA-TF follows the end of a message: the PDVs of"
                    " one P-DATA-TF must belong to one message (PS3.8 E.1)",
                    context_id=pdv.context_id,
                    command=result.message.MESSAGE,
                )
            result = self.receive_pdv(pdv)
        return result

    def receive_pdv(self, pdv: PresentationDataValue) -> ReceivedMessage | None:
        """Take one PDV; return the message it completes, if any (see :meth:`receive`)."""
        try:
            return self._receive(pdv)
        except DIMSEProtocolError:
            self._reset()
            raise

    def _fail(self, pdv: PresentationDataValue, message: str) -> DIMSEProtocolError:
        return DIMSEProtocolError(message, context_id=pdv.context_id)

    def _receive(self, pdv: PresentationDataValue) -> ReceivedMessage | None:
        context = pdv.context_id
        if self._context_ids is not None and context not in self._context_ids:
            raise self._fail(pdv, "PDV on a presentation context that was not accepted")
        if self._context is not None and context != self._context:
            raise self._fail(
                pdv,
                f"PDV on another context while a message on context {self._context} is"
                " incomplete: fragments of messages must not interleave (PS3.8 E.1)",
            )
        if len(pdv.fragment) % 2:
            raise self._fail(
                pdv, f"fragment of odd length {len(pdv.fragment)} (PS3.8 E.1: even lengths)"
            )
        if pdv.header.is_command:
            return self._command_fragment(pdv)
        return self._data_fragment(pdv)

    def _command_fragment(self, pdv: PresentationDataValue) -> ReceivedMessage | None:
        if self._elements is not None:
            raise self._fail(
                pdv,
                "command fragment after the last command fragment, while the data set is"
                " awaited (PS3.8 E.1: no interleaving of messages)",
            )
        self._context = pdv.context_id
        self._command_length += len(pdv.fragment)
        if self._command_length > self._max_command:
            raise self._fail(
                pdv,
                f"command set longer than the local limit of {self._max_command} bytes",
            )
        self._command.append(pdv.fragment)
        if not pdv.header.is_last:
            return None
        try:
            elements = decode_command_set(b"".join(self._command))
        except DIMSEProtocolError as exc:
            raise DIMSEProtocolError(
                exc.message, context_id=pdv.context_id, tag=exc.tag, offset=exc.offset
            ) from None
        if not has_data_set(elements, context_id=pdv.context_id):
            return self._complete(pdv.context_id, elements, None)
        # Refuse now, not after the data set: a message that never has one (PS3.7 §9.3).
        cls = message_type(elements, context_id=pdv.context_id)
        if cls.DATA_SET is DataSetPresence.ABSENT:
            raise DIMSEProtocolError(
                "this message never carries a data set (Command Data Set Type must be 0101H)",
                context_id=pdv.context_id,
                command=cls.MESSAGE,
                tag=COMMAND_DATA_SET_TYPE,
            )
        self._elements = elements
        if self.sink_factory is not None:
            # Decoded now (with an empty data set) so that the factory can read its fields;
            # a bad command set is refused before any data fragment.
            header = decode_message(elements, b"", context_id=pdv.context_id)
            self._sink = self.sink_factory(pdv.context_id, header)
            if self._sink is not None:
                self._header = header
        return None

    def _data_fragment(self, pdv: PresentationDataValue) -> ReceivedMessage | None:
        if self._context is None:
            raise self._fail(
                pdv,
                "data fragment without a command: no message is in progress (a data set"
                " where the Command Data Set Type says 0101H, or a lost command)",
            )
        if self._elements is None:
            raise self._fail(
                pdv, "data fragment before the last command fragment (PS3.8 E.1, PS3.7 §6.3)"
            )
        self._data_length += len(pdv.fragment)
        if self._max_data is not None and self._data_length > self._max_data:
            raise self._fail(pdv, f"data set longer than the local limit of {self._max_data} bytes")
        if self._sink is not None:
            self._sink.write(pdv.fragment)
        else:
            self._data.append(pdv.fragment)
        if not pdv.header.is_last:
            return None
        if self._sink is None:
            return self._complete(pdv.context_id, self._elements, b"".join(self._data))
        sink, header, self._sink, self._header = self._sink, self._header, None, None
        kept = sink.finish()
        if kept is not None:
            return self._complete(pdv.context_id, self._elements, kept)
        self._reset()
        assert header is not None
        return ReceivedMessage(pdv.context_id, header, sink)

    def _complete(
        self, context_id: int, elements: dict[int, CommandValue], data_set: bytes | None
    ) -> ReceivedMessage:
        self._reset()
        message = decode_message(elements, data_set, context_id=context_id)
        return ReceivedMessage(context_id, message)
