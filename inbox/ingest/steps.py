"""The steps of ``inbox.ingest.services.ingest_batch``, each a function of its own.

They work on ingest's plain rows and column lists (``inbox.core.bulk``, ``inbox.ingest.rows``)
and are called once per batch: the split costs no measurable time (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from channels.base import InboundItem
from channels.models import Channel
from inbox.core import bulk
from inbox.engines.at_ingest import engines_apply
from inbox.engines.priority import Reach
from inbox.ingest.rows import (
    _WRITTEN,
    IngestedMessage,
    _advance_ticket,
    _new_ticket,
    _TicketRow,
)
from inbox.models import (
    Activity,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    TicketStatus,
    primary_language,
)


def _messages_send(
    channel: Channel,
    tickets: dict[str, _TicketRow],
    new: list[InboundItem],
    author_ids: list[int | None],
    now: dt.datetime,
) -> Callable[[], list[tuple[int, str]]]:
    """Send the new messages' insert (``ON CONFLICT DO NOTHING``); the returned call waits for
    the (id, external id) of the rows inserted. One list per column, straight from the items:
    no Message objects on the hot path."""
    return bulk.send_rows(
        Message,
        {
            "ticket": [tickets[i.thread_key].pk for i in new],
            "direction": [Direction.OUTBOUND if i.is_ours else Direction.INBOUND for i in new],
            "external_id": [i.external_id for i in new],
            "author_identity": author_ids,
            "text": [i.text for i in new],
            "sent_at": [i.sent_at for i in new],
            "raw": [i.raw for i in new],
            "rating": [i.rating for i in new],
            "url": [i.url for i in new],
            "parent_external_id": [i.parent_external_id for i in new],
            "language": [primary_language(i.language) for i in new],
            "delivery_state": [
                DeliveryState.SENT if i.is_ours else DeliveryState.NONE for i in new
            ],
            "reply_mode": ["echo" if i.is_ours else "" for i in new],
            "attachment_count": [len(i.attachments) for i in new],
        },
        constants={"channel": channel.pk, "created_at": now},
        conflict=("channel", "external_id"),
        returning=("id", "external_id"),
    )


def _by_ticket(
    batch: list[InboundItem], fresh_ids: set[str], edited: dict[str, str]
) -> dict[str, list[InboundItem]]:
    """What is really new in each thread (inserted or edited), oldest first."""
    new_by_ticket: dict[str, list[InboundItem]] = defaultdict(list)
    for item in batch:
        if item.external_id in fresh_ids:
            key = edited.get(item.external_id, item.thread_key)
            if item.external_id in edited:
                # An edit's new attachments are counted where they are stored
                # (inbox.media.ingest.attachments_of_versions), the rest were counted before.
                item = replace(item, thread_key=key, attachments=())
            new_by_ticket[key].append(item)
    for key in new_by_ticket:
        new_by_ticket[key].sort(key=lambda i: i.sent_at)
    return new_by_ticket


def _guesses_correct(
    channel: Channel,
    tickets: dict[str, _TicketRow],
    prepared: dict[str, _TicketRow],
    pending: dict[str, list[InboundItem]],
    new_by_ticket: dict[str, list[InboundItem]],
    created_ids: set[int],
    opening: dict[str, Any],
    stored_state: dict[str, _TicketRow],
    identities: dict[str, Any],
    reopened: dict[str, str | None],
    now: dt.datetime,
) -> tuple[dict[str, _TicketRow], list[_TicketRow]]:
    """Where the guess was wrong (an item stored by another path between our lookup and the
    insert, an edit, a thread opened meanwhile), start that ticket again from its stored state
    and fold in what was really new. Returns the rows to write again and those the engines
    must see once more."""
    rewrite: dict[str, _TicketRow] = {}
    redo = []
    for key in prepared.keys() | new_by_ticket.keys():
        if key not in tickets:
            continue
        got = new_by_ticket.get(key, [])
        if prepared.get(key) is tickets[key] and _ids(pending[key]) == _ids(got):
            continue
        row = tickets[key]
        if row.pk in created_ids:
            row = _new_ticket(row.pk, opening[key], identities, channel, now)
            rewrite[key] = row  # inserted holding the guess: write it again in any case
        elif key in stored_state:
            row = stored_state[key]
        tickets[key] = row
        reopened[key] = _advance_ticket(row, got, now) if got else None
        if got:
            redo.append(row)
    return rewrite, redo


def _messages_stored(
    inserted: list[tuple[int, str]],
    prepared_messages: list[IngestedMessage],
    by_id: dict[str, InboundItem],
    tickets: dict[str, _TicketRow],
) -> list[IngestedMessage]:
    """The prepared messages that were inserted, with their ids and their tickets' real ids."""
    prepared_by_id = {m.external_id: m for m in prepared_messages}
    messages = []
    for pk, external_id in inserted if prepared_messages else ():
        message = prepared_by_id[external_id]
        message.id = pk
        message.ticket_id = tickets[by_id[external_id].thread_key].pk
        messages.append(message)
    return messages


def _tickets_write(
    tickets: dict[str, _TicketRow],
    new_by_ticket: dict[str, list[InboundItem]],
    created_ids: set[int],
    rewrite: dict[str, _TicketRow],
    reopened: dict[str, str | None],
    now: dt.datetime,
) -> tuple[list[_TicketRow], int]:
    """Update the earlier tickets that got something new (and the rewritten ones) in one
    statement, and insert the "created" / "reopened" activities in one more. Returns the
    tickets the batch touched and how many of them it reopened."""
    activities: dict[str, list[Any]] = {"ticket": [], "verb": [], "before": [], "after": []}

    def log(ticket_id: int, verb: str, before: dict, after: dict) -> None:
        for name, value in zip(activities, (ticket_id, verb, before, after), strict=True):
            activities[name].append(value)

    for pk in created_ids:
        log(pk, "created", {}, {"status": TicketStatus.NEW})
    touched = []
    reopened_count = 0
    for key in new_by_ticket:
        ticket = tickets[key]
        touched.append(ticket)
        if ticket.pk in created_ids:
            continue
        rewrite[key] = ticket
        if reopened.get(key) is not None:
            reopened_count += 1
            log(ticket.pk, "reopened", {"status": reopened[key]}, {"status": ticket.status})
    changed = list(rewrite.values())
    bulk.update_rows(
        Ticket,
        [t.pk for t in changed],
        {name: [getattr(t, attname) for t in changed] for name, attname in _WRITTEN},
    )
    bulk.insert_rows(Activity, activities, constants={"created_at": now}, returning=())
    return touched, reopened_count


def _cursor_store(
    channel: Channel,
    cursor: dict[str, Any],
    batch: list[InboundItem],
    inserted_ids: set[str],
    now: dt.datetime,
) -> None:
    """Advance the channel's cursor, with the lag of the newest message stored."""
    lag = None
    if inserted_ids:
        newest = max(i.sent_at for i in batch if i.external_id in inserted_ids)
        lag = max(0.0, (now - newest).total_seconds())
    Channel.objects.filter(pk=channel.pk).update(
        cursor=cursor,
        **({"last_ingest_lag_seconds": lag} if lag is not None else {}),
    )


def _ids(items: list[InboundItem]) -> list[str]:
    return [i.external_id for i in items]


def _engines_prepare(
    engines: bool,
    channel: Channel,
    rows: list[_TicketRow],
    created_ids: set[int],
    messages: list[IngestedMessage],
    reach: dict[int, Reach],
) -> list[Callable[..., None]]:
    """Run the engines on the rows about to be written; return their finishing steps."""
    if not rows or not engines:
        return []
    return [
        engines_apply(
            channel=channel,
            tickets=rows,
            created_ticket_ids={r.pk for r in rows if r.pk in created_ids},
            messages=messages,
            reach=reach,
        )
    ]


def _engines_redo(
    engines: bool,
    channel: Channel,
    redo: list[_TicketRow],
    created_ids: set[int],
    messages: list[IngestedMessage],
    tickets: dict[str, _TicketRow],
    new: list[InboundItem],
    reach: dict[int, Reach],
) -> list[Callable[..., None]]:
    """Run the engines once more on the tickets whose guess was wrong, with their messages."""
    if not redo:
        return []
    redone = set(redo)
    by_id = {i.external_id: i for i in new}
    return _engines_prepare(
        engines,
        channel,
        redo,
        created_ids,
        [m for m in messages if tickets[by_id[m.external_id].thread_key] in redone],
        reach,
    )
