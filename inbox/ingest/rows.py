"""The rows ingest writes, as plain columns: a ticket's row, how a batch advances it, and the
messages handed to the engines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.base import InboundItem
from channels.models import Channel
from inbox.models import (
    DeliveryState,
    Direction,
    TicketStatus,
)
from inbox.tickets.services import reopened_set

PREVIEW_LENGTH = 200


class _TicketRow:
    """The ticket fields ingest and the engines read and write, without a model instance.

    The engines (``inbox.engines.at_ingest``) work on these rows as they would on tickets: the names
    are the model's attribute names (``team_id``, ``identity_id``).
    """

    __slots__ = ("pk", "thread_key", "status", "closed_at", "close_reason", "snoozed_until",
                 "first_inbound_at", "last_inbound_at", "first_response_at", "last_response_at",
                 "waiting_since", "last_message_preview", "rating", "language", "updated_at",
                 "version", "attachment_count", "intent", "team_id", "assignee_id",
                 "routing_trace", "priority",
                 "priority_parts", "due_at", "first_response_due_at",
                 "first_response_business_seconds", "resolution_business_seconds", "channel_id",
                 "kind", "identity_id", "intent_corrected")  # fmt: skip

    # The slots' types (annotations only: no class attribute, so ``__slots__`` stands).
    # A new thread's row is built with None and gets its id from ``bulk.reserve_ids`` before
    # anything reads it (``inbox.ingest.services``): every reader sees an int.
    pk: int
    thread_key: str
    status: str
    closed_at: dt.datetime | None
    close_reason: str
    snoozed_until: dt.datetime | None
    first_inbound_at: dt.datetime | None
    last_inbound_at: dt.datetime | None
    first_response_at: dt.datetime | None
    last_response_at: dt.datetime | None
    waiting_since: dt.datetime | None
    last_message_preview: str
    rating: int | None
    language: str
    updated_at: dt.datetime
    version: int
    attachment_count: int
    intent: str
    team_id: int | None
    assignee_id: int | None
    routing_trace: list[Any]
    priority: int
    priority_parts: list[Any]
    due_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    first_response_business_seconds: int | None
    resolution_business_seconds: int | None
    channel_id: int
    kind: str
    identity_id: int | None
    intent_corrected: bool

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    def copy(self) -> _TicketRow:
        return _TicketRow([getattr(self, name) for name in self.__slots__])


_REACH = ("identity__followers", "identity__verified", "identity__customer__vip",
          "identity__customer__merged_into__vip")  # fmt: skip


def _new_ticket(
    pk: int | None,
    first: InboundItem,
    identities: dict[str, tuple[int, int | None]],
    channel: Channel,
    now: dt.datetime,
) -> _TicketRow:
    """A ticket as it is opened for its first customer item, before any message is folded in."""
    identity = identities.get(first.author.platform_user_id) if first.author else None
    row = _TicketRow((pk, first.thread_key, *([None] * (len(_TicketRow.__slots__) - 2))))
    row.status = TicketStatus.NEW
    row.close_reason = ""
    row.last_message_preview = ""
    row.language = first.language
    row.updated_at = now
    row.version = 1
    row.attachment_count = 0
    row.intent = ""
    row.team_id = channel.default_team_id
    row.routing_trace = []
    row.priority = 0
    row.priority_parts = []
    row.channel_id = channel.pk
    row.kind = first.kind
    row.identity_id = identity[0] if identity else None
    row.intent_corrected = False
    return row


@dataclass(slots=True)
class IngestedMessage:
    """A message just stored, as signal receivers see it: the Message fields they read, as
    plain values. Building 500 model instances per batch cost more than the engines' work."""

    id: int | None  # None while the engines prepare, before the insert
    ticket_id: int
    channel_id: int
    direction: str
    external_id: str
    author_identity_id: int | None
    text: str
    sent_at: dt.datetime
    created_at: dt.datetime
    rating: int | None
    url: str
    parent_external_id: str
    delivery_state: str
    reply_mode: str

    @property
    def pk(self) -> int | None:
        return self.id


def _messages(
    items: list[InboundItem],
    author_ids: list[int | None],
    tickets: dict[str, _TicketRow],
    channel_id: int,
    now: dt.datetime,
) -> list[IngestedMessage]:
    """The messages about to be stored, for signal receivers only (no ids yet)."""
    # Looked up once: attribute access on a choices enum costs more than building the value.
    outbound, inbound = Direction.OUTBOUND, Direction.INBOUND
    sent, none = DeliveryState.SENT, DeliveryState.NONE
    return [
        IngestedMessage(
            None,
            tickets[item.thread_key].pk,
            channel_id,
            outbound if item.is_ours else inbound,
            item.external_id,
            author_id,
            item.text,
            item.sent_at,
            now,
            item.rating,
            item.url,
            item.parent_external_id,
            sent if item.is_ours else none,
            "echo" if item.is_ours else "",
        )
        for item, author_id in zip(items, author_ids, strict=True)
    ]


_TICKET_FIELDS = [
    "status",
    "closed_at",
    "close_reason",
    "snoozed_until",
    "first_inbound_at",
    "last_inbound_at",
    "first_response_at",
    "last_response_at",
    "waiting_since",
    "last_message_preview",
    "rating",
    "language",
    "updated_at",
    "version",
    "attachment_count",
]


# Ticket fields the engines set at ingest (besides status, waiting time and closing, which are
# ingest's too), and fields they only read; as attribute names, in ``_TicketRow`` order.
_ENGINE_ONLY = [
    "intent",
    "team_id",
    "assignee_id",
    "routing_trace",
    "priority",
    "priority_parts",
    "due_at",
    "first_response_due_at",
    "first_response_business_seconds",
    "resolution_business_seconds",
]


_READ_ONLY = ["channel_id", "kind", "identity_id", "intent_corrected"]


# (field name, row attribute) of what a ticket update writes, and a ticket insert.
_WRITTEN = [(name, name) for name in _TICKET_FIELDS] + [
    (name.removesuffix("_id"), name) for name in _ENGINE_ONLY
]


_INSERTED = [*_WRITTEN, ("kind", "kind"), ("identity", "identity_id")]


def _advance_ticket(ticket: _TicketRow, items: list[InboundItem], now: dt.datetime) -> str | None:
    """Fold new items (oldest first) into the ticket; return the old status if it reopened."""
    reopened_from = None
    for item in items:
        if item.is_ours:
            # Our answer, sent outside Webcare and echoed back: the customer no longer waits.
            if ticket.first_response_at is None:
                ticket.first_response_at = item.sent_at
            if ticket.last_response_at is None or item.sent_at > ticket.last_response_at:
                ticket.last_response_at = item.sent_at
            if ticket.waiting_since is not None and item.sent_at >= ticket.waiting_since:
                ticket.waiting_since = None
        else:
            if ticket.first_inbound_at is None or item.sent_at < ticket.first_inbound_at:
                ticket.first_inbound_at = item.sent_at
            if ticket.last_inbound_at is None or item.sent_at > ticket.last_inbound_at:
                ticket.last_inbound_at = item.sent_at
            answered_after = ticket.last_response_at is not None and (
                ticket.last_response_at >= item.sent_at
            )
            if ticket.waiting_since is None and not answered_after:
                ticket.waiting_since = item.sent_at
            if item.rating is not None:
                ticket.rating = item.rating
            if item.language and not ticket.language:
                ticket.language = item.language
            if ticket.status in (TicketStatus.CLOSED, TicketStatus.PENDING):
                reopened_from = reopened_from or ticket.status
                reopened_set(ticket)  # the field logic of ticket_reopen
        ticket.last_message_preview = item.text.split("\n", 1)[0][:PREVIEW_LENGTH]
        if item.attachments:
            ticket.attachment_count = (ticket.attachment_count or 0) + len(item.attachments)
    ticket.updated_at = now
    ticket.version += 1
    return reopened_from
