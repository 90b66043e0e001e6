"""Store a batch of inbound items: one transaction, a constant number of queries per batch.

The order of work inside the transaction:

1. lock the channel row (two workers ingesting one channel queue here; SQLite's IMMEDIATE
   transactions give the same guarantee);
2. ask which platform ids of the batch are stored already: those items (a replay, a webhook
   plus a poll) skip the identity and ticket work, so an all-duplicate batch costs a few small
   queries. This is a shortcut only; step 5 is what keeps every message once;
3. upsert the authors' identities, creating a customer for each new one
(``inbox.customers.identities``);
4. find the stored ticket of each thread key, and reserve an id for each new thread's ticket;
5. send the messages' insert with ``ON CONFLICT (channel, external_id) DO NOTHING`` — duplicates,
   from this batch, an earlier one or another worker, are dropped by the database, never by a
   lookup. On PostgreSQL it runs while the engines (``inbox.engines.at_ingest.engines_apply``,
   called here; in this order: intent, routing, priority, SLA, auto-acknowledgement) work out the
   tickets' new state in Python (``bulk.pipeline``): the deferred foreign keys let a message name a
   ticket inserted after it, in the same transaction;
6. insert the new tickets, already holding their messages; apply edits (a changed review) to
   messages already stored;
7. update each earlier ticket that got something new: timestamps, waiting time, reopen when
   closed;
8. write the activity rows and advance the channel cursor — all in the same transaction, so a
   crash anywhere before commit fetches the same items again and nothing is skipped.

The hot path works on plain tuples and column lists (``inbox.core.bulk``), not model instances:
building a model object costs more than storing its row. See docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import django.dispatch
from django.db import transaction
from django.utils import timezone

from channels.base import InboundItem
from channels.models import Channel
from inbox.core import bulk
from inbox.customers.identities import identities_upsert
from inbox.engines.config_stamp import config_stamp_subquery
from inbox.engines.priority import Reach
from inbox.ingest.items import _apply_edits, _dedupe_batch, _without_nul
from inbox.ingest.rows import (
    _ENGINE_ONLY,
    _INSERTED,
    _REACH,
    _READ_ONLY,
    _TICKET_FIELDS,
    PREVIEW_LENGTH,
    IngestedMessage,
    _advance_ticket,
    _messages,
    _new_ticket,
    _TicketRow,
)
from inbox.ingest.steps import (
    _by_ticket,
    _cursor_store,
    _engines_prepare,
    _engines_redo,
    _guesses_correct,
    _messages_send,
    _messages_stored,
    _tickets_write,
)
from inbox.media.ingest import attachments_of_versions, attachments_store, ticket_counts_raise
from inbox.models import (
    Message,
    Ticket,
)

# Sent inside the ingest transaction, after messages are stored and tickets updated, so routing
# and SLA code can act before anyone sees the ticket. Receivers get ``channel``, ``tickets``
# (the touched Ticket objects, loaded after the update), ``created_ticket_ids`` and ``messages``
# (the newly stored messages as ``IngestedMessage`` values, with their ids). They must not do
# network I/O. The objects are built only when a receiver is connected (one more query for the
# tickets).
tickets_ingested = django.dispatch.Signal()


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    edited: int = 0
    tickets_created: int = 0
    tickets_reopened: int = 0
    ticket_ids: list[int] = field(default_factory=list)


def _stored_ids(channel_id: int, external_ids: list[str]) -> set[str]:
    """Which of these platform ids the channel has stored already.

    Only a shortcut, never the dedupe: it lets a replayed batch skip identity and ticket work.
    The channel row is locked, so no other ingest of this channel stores anything meanwhile; a
    message stored by another path in between (a reply's id learnt after sending) is still
    refused by the unique constraint on insert.
    """
    if not external_ids:
        return set()
    sql, params = bulk.probe(
        "inbox_message", ("channel_id", channel_id), "external_id", external_ids,
        "found.external_id",
    )  # fmt: skip
    return {external_id for (external_id,) in bulk.fetch(sql, params)}


def _load_tickets(
    channel_id: int, keys: list[str], reach: dict[int, Reach] | None = None
) -> dict[str, _TicketRow]:
    """The stored tickets of these threads; with ``reach``, their authors' reach is added to it
    (for the engines; authors of this batch keep the values ingest just stored)."""
    if not keys:
        return {}
    # The ids first, one index probe per thread (bulk.probe: a new channel has no statistics).
    sql, params = bulk.probe(
        "inbox_ticket", ("channel_id", channel_id), "thread_key", keys, "found.id"
    )
    ids = [pk for (pk,) in bulk.fetch(sql, params)]
    rows = Ticket.objects.filter(pk__in=ids).values_list(
        "id", "thread_key", *_TICKET_FIELDS, *_ENGINE_ONLY, *_READ_ONLY, *_REACH
    )
    tickets = {}
    size = len(_TicketRow.__slots__)
    for row in rows:
        ticket = tickets[row[1]] = _TicketRow(row[:size])
        if reach is not None and ticket.identity_id and ticket.identity_id not in reach:
            followers, verified, vip, merged_vip = row[size:]
            reach[ticket.identity_id] = Reach(followers, bool(verified), bool(vip or merged_vip))
    return tickets


def _find_tickets(
    channel: Channel,
    items: Sequence[InboundItem],
    identities: dict[str, tuple[int, int | None]],
    reach: dict[int, Reach],
    now: dt.datetime,
    stored: set[str],
) -> tuple[dict[str, _TicketRow], dict[str, InboundItem]]:
    """The stored tickets of ``items``' threads, and a new row (not inserted yet, no id) for
    each thread that starts with a customer's item; returns the rows by thread key and the
    first customer item of each new thread. An edit of a stored message (``stored``) opens no
    thread: its message has its ticket already, even when the edit names its thread otherwise."""
    keys = list({i.thread_key for i in items})
    tickets = _load_tickets(channel.pk, keys, reach)
    first_inbound: dict[str, InboundItem] = {}
    for item in sorted(items, key=lambda i: i.sent_at):
        if item.external_id in stored:
            continue
        if not item.is_ours and item.thread_key not in tickets:
            first_inbound.setdefault(item.thread_key, item)
    for key, item in first_inbound.items():
        tickets[key] = _new_ticket(None, item, identities, channel, now)
    return tickets, first_inbound


def _insert_tickets(
    channel: Channel,
    tickets: dict[str, _TicketRow],
    opening: dict[str, InboundItem],
    identities: dict[str, tuple[int, int | None]],
    now: dt.datetime,
) -> tuple[set[int], set[str]]:
    """Insert the new tickets, with their reserved ids, in their final state (ingest's fields
    and the engines'). Returns the ids inserted, and the threads opened by another path since
    we looked (the channel lock keeps other ingests out): their stored ticket's row replaces
    ours in ``tickets``."""
    if not opening:
        return set(), set()
    firsts = list(opening.values())
    rows = [tickets[key] for key in opening]
    owners = [
        identities.get(i.author.platform_user_id, (None, None)) if i.author else (None, None)
        for i in firsts
    ]
    created = bulk.insert_rows(
        Ticket,
        {
            "id": [r.pk for r in rows],
            "thread_key": list(opening),
            "customer": [customer for _, customer in owners],
            "subject": [i.text[:PREVIEW_LENGTH] for i in firsts],
            "platform_url": [i.url for i in firsts],
            **{name: [getattr(r, attname) for r in rows] for name, attname in _INSERTED},
        },
        constants={"channel": channel.pk, "created_at": now},
        conflict=("channel", "thread_key"),
        returning=("id",),
    )
    created_ids = {pk for (pk,) in created}
    if len(created_ids) == len(opening):
        return created_ids, set()
    lost = {key for key in opening if tickets[key].pk not in created_ids}
    stored = _load_tickets(channel.pk, list(lost))
    unseen = sorted(lost - stored.keys())
    if unseen:
        # Its messages are stored already, naming a ticket that will not exist: roll back the
        # batch (it is fetched again) rather than lose them.
        raise RuntimeError(f"threads opened by a transaction this one cannot see: {unseen}")
    tickets.update(stored)
    return created_ids, lost


@dataclass
class _Plan:
    """Steps 2–4 done: what the batch holds and where each new item goes."""

    batch: list[InboundItem]  # without NUL and in-batch duplicates
    other_versions: list[InboundItem]  # earlier versions of an item the batch holds twice
    now: dt.datetime
    stored: set[str]  # platform ids stored already (the shortcut of step 2)
    identities: dict[str, tuple[int, int | None]]
    reach: dict[int, Reach]
    pending: dict[str, list[InboundItem]]  # the items to store, per thread, oldest first
    tickets: dict[str, _TicketRow]
    opening: dict[str, InboundItem]  # the first customer item of each new thread
    new: list[InboundItem]  # the items whose messages are inserted
    stored_state: dict[str, _TicketRow]  # the stored tickets as loaded, before any change
    author_ids: list[int | None]  # the author identity of each of ``new``


@dataclass
class _Sent:
    """Steps 5–6 done: messages and new tickets stored, the engines' guess prepared."""

    prepared: dict[str, _TicketRow]  # the rows the engines saw, by thread key
    reopened: dict[str, str | None]  # thread key -> status before a reopen
    prepared_messages: list[IngestedMessage]
    finish: list[Callable[..., None]]
    created_ids: set[int]
    lost: set[str]  # threads another path opened meanwhile
    inserted: list[tuple[int, str]]  # (id, external id) of each message inserted


def _channel_lock(channel_id: int) -> Channel:
    """Step 1: lock the channel row. The engines' configuration stamp comes along
    (inbox.engines.engine_config): no round trip of its own for the check whether their
    cached rules are current."""
    return (
        Channel.objects.select_for_update()
        .annotate(engine_stamp=config_stamp_subquery())
        .get(pk=channel_id)
    )


def _plan(channel: Channel, items: Sequence[InboundItem]) -> _Plan:
    """Steps 2–4: which items are stored already, the authors' identities, and the ticket of
    each thread (a new thread's ticket gets its id now, so its messages can be written before
    it)."""
    batch, other_versions = _dedupe_batch(_without_nul(items))
    now = timezone.now()
    stored = _stored_ids(channel.pk, [i.external_id for i in batch])
    # Items already stored need no identity or ticket work, unless they are edits.
    work = [i for i in batch if i.edited or i.external_id not in stored]
    identities, reach = identities_upsert(channel.platform, work, now) if work else ({}, {})
    pending: dict[str, list[InboundItem]] = defaultdict(list)
    for item in sorted(work, key=lambda i: i.sent_at):
        if item.external_id not in stored:
            pending[item.thread_key].append(item)
    tickets, opening = (
        _find_tickets(channel, work, identities, reach, now, stored) if work else ({}, {})
    )
    new = [i for i in work if i.external_id not in stored and i.thread_key in tickets]
    for key, pk in zip(opening, bulk.reserve_ids(Ticket, len(opening)), strict=True):
        tickets[key].pk = pk
    author_ids = [
        None
        if i.is_ours or i.author is None
        else identities.get(i.author.platform_user_id, (None,))[0]
        for i in new
    ]
    return _Plan(
        batch=batch,
        other_versions=other_versions,
        now=now,
        stored=stored,
        identities=identities,
        reach=reach,
        pending=pending,
        tickets=tickets,
        opening=opening,
        new=new,
        stored_state={key: row.copy() for key, row in tickets.items() if key not in opening},
        author_ids=author_ids,
    )


def _store_new(channel: Channel, plan: _Plan, engines: bool, observed: bool) -> _Sent:
    """Steps 5–6: insert the messages and, while PostgreSQL stores them, let the engines set
    the tickets' new state; insert the new tickets; move the messages of threads opened
    meanwhile; store the new messages' attachments."""
    tickets, now = plan.tickets, plan.now
    with bulk.pipeline():
        # The messages first: on PostgreSQL they are stored while the engines below run.
        sent = _messages_send(channel, tickets, plan.new, plan.author_ids, now)

        # Fold the pending items into their tickets as if every one will be stored (all but
        # a rare race are: checked by _guesses_correct) and let the engines set their fields
        # now, so each ticket is written once, in its final state.
        reopened: dict[str, str | None] = {}
        prepared = {key: tickets[key] for key in plan.pending if key in tickets}
        for key, row in prepared.items():
            reopened[key] = _advance_ticket(row, plan.pending[key], now)
        prepared_messages = (
            _messages(plan.new, plan.author_ids, tickets, channel.pk, now)
            if engines or observed
            else []
        )
        finish = _engines_prepare(
            engines,
            channel,
            list(prepared.values()),
            {tickets[key].pk for key in plan.opening},
            prepared_messages,
            plan.reach,
        )
        created_ids, lost = _insert_tickets(channel, tickets, plan.opening, plan.identities, now)
        inserted = sent()
    if lost:
        # Threads whose ticket another path opened meanwhile: their messages go to it.
        thread_of = {i.external_id: i.thread_key for i in plan.new}
        moved = [(pk, thread_of[x]) for pk, x in inserted if thread_of[x] in lost]
        bulk.update_rows(
            Message, [pk for pk, _ in moved], {"ticket": [tickets[k].pk for _, k in moved]}
        )
    if any(i.attachments for i in plan.new):
        # What came with the new messages, in one insert; fetched after commit.
        by_external = {i.external_id: i for i in plan.new}
        attachments_store(
            channel_id=channel.pk,
            stored=[(pk, by_external[x]) for pk, x in inserted if by_external[x].attachments],
            now=now,
        )
    return _Sent(prepared, reopened, prepared_messages, finish, created_ids, lost, inserted)


def ingest_batch(
    *,
    channel_id: int,
    items: Sequence[InboundItem],
    cursor: dict[str, Any] | None = None,
    engines: bool = True,
) -> IngestResult:
    """Store ``items`` for the channel and, with them, its new ``cursor``.

    ``engines=False`` stores the batch without the team-lead engines (intent, routing, priority,
    SLA, auto-acknowledgement): only ``bench/ingest.py --core`` uses it, to measure the store.

    Safe to call again with the same items (replay, webhook plus poll, two workers): stored
    messages are never duplicated and the tickets end in the same state.

    The steps are those of the module docstring, each a function here or in
    ``inbox.ingest.steps``.
    """
    result = IngestResult(received=len(items))
    with transaction.atomic():
        channel = _channel_lock(channel_id)
        plan = _plan(channel, items)
        tickets, now = plan.tickets, plan.now
        observed = tickets_ingested.has_listeners(Channel)
        sent = _store_new(channel, plan, engines, observed)
        created_ids, inserted = sent.created_ids, sent.inserted
        inserted_ids = {external_id for _, external_id in inserted}
        edited, gained = _edits_store(channel, plan, inserted_ids)
        result.created = len(inserted)
        result.edited = len(edited)
        result.duplicates = len(items) - len(inserted) - len(edited)
        new_by_ticket = _by_ticket(plan.batch, inserted_ids.union(edited), edited)

        # Where the guess was wrong (an item stored by another path between our lookup and the
        # insert, an edit, a thread opened meanwhile), start that ticket again from its stored
        # state, fold in what was really new and run the engines on it once more.
        rewrite, redo = _guesses_correct(
            channel,
            tickets,
            sent.prepared,
            plan.pending,
            new_by_ticket,
            created_ids,
            plan.opening,
            plan.stored_state,
            plan.identities,
            sent.reopened,
            now,
        )
        # The stored messages: those prepared, with their ids and their tickets' real ids.
        by_id = {i.external_id: i for i in plan.new}
        messages = _messages_stored(inserted, sent.prepared_messages, by_id, tickets)
        finish_redo = _engines_redo(
            engines, channel, redo, created_ids, messages, tickets, plan.new, plan.reach
        )

        # Steps 7 and 8.
        touched, result.tickets_reopened = _tickets_write(
            tickets, new_by_ticket, created_ids, rewrite, sent.reopened, now
        )
        ticket_counts_raise(gained)
        if cursor is not None:
            _cursor_store(channel, cursor, plan.batch, inserted_ids, now)
        # The engines' links, activities and acknowledgements, now that every ticket has its id.
        as_prepared = [row for key, row in sent.prepared.items() if tickets.get(key) is row]
        for done in sent.finish:
            done(tickets=as_prepared)
        for done in finish_redo:
            done(tickets=redo)

        result.tickets_created = len(created_ids)
        result.ticket_ids = [t.pk for t in touched]
        _announce(channel, result.ticket_ids, created_ids, messages, observed)
    return result


def _announce(
    channel: Channel,
    ticket_ids: list[int],
    created_ids: set[int],
    messages: list[IngestedMessage],
    observed: bool,
) -> None:
    """Outbound webhooks' outbox rows, in this transaction (none without subscriptions), and
    ``tickets_ingested`` for its observers, if any."""
    from inbox.events.services import ingest_events

    ingest_events(created_ticket_ids=created_ids, messages=messages)
    if ticket_ids and observed:
        tickets_ingested.send(
            sender=Channel,
            channel=channel,
            tickets=list(Ticket.objects.filter(pk__in=ticket_ids)),
            created_ticket_ids=created_ids,
            messages=messages,
        )


def _edits_store(
    channel: Channel, plan: _Plan, inserted_ids: set[str]
) -> tuple[dict[str, str], dict[int, int]]:
    """Apply the batch's edits to stored messages; return external id -> thread key of each
    message edited, and the attachments the edits added (ticket id -> count: new ones an edit
    carries, an X edit or a comment edited with a photo). Loads into ``plan.tickets`` the
    tickets of edits that named another thread."""
    batch, stored, tickets = plan.batch, plan.stored, plan.tickets
    edits = [i for i in batch if i.edited and i.external_id not in inserted_ids]
    edits += plan.other_versions
    fresh = {i.external_id: i for i in plan.new if i.edited and i.external_id in inserted_ids}
    # An earlier version of a message stored already: history, if the message was edited.
    late = [i for i in batch if i.version and not i.edited and i.external_id in stored]
    edited = (
        _apply_edits(channel, edits, plan.now, fresh=fresh, late=late)
        if edits or fresh or late
        else {}
    )
    # The tickets of edited messages, where the edit named another thread.
    elsewhere = sorted({k for k in edited.values() if k not in tickets})
    if elsewhere:
        tickets.update(_load_tickets(channel.pk, elsewhere, plan.reach))
    versions = [i for i in batch if i.edited and i.external_id in stored] + plan.other_versions
    return edited, attachments_of_versions(channel_id=channel.pk, items=versions, now=plan.now)
