"""Store a batch of inbound items: one transaction, a constant number of queries per batch.

The order of work inside the transaction:

1. lock the channel row (two workers ingesting one channel queue here; SQLite's IMMEDIATE
   transactions give the same guarantee);
2. ask which platform ids of the batch are stored already: those items (a replay, a webhook
   plus a poll) skip the identity and ticket work, so an all-duplicate batch costs a few small
   queries. This is a shortcut only; step 5 is what keeps every message once;
3. upsert the authors' identities, creating a customer for each new one (``inbox.identities``);
4. find the stored ticket of each thread key, and reserve an id for each new thread's ticket;
5. send the messages' insert with ``ON CONFLICT (channel, external_id) DO NOTHING`` — duplicates,
   from this batch, an earlier one or another worker, are dropped by the database, never by a
   lookup. On PostgreSQL it runs while the engines (``tickets_ingesting``) work out the tickets'
   new state in Python (``bulk.pipeline``): the deferred foreign keys let a message name a
   ticket inserted after it, in the same transaction;
6. insert the new tickets, already holding their messages; apply edits (a changed review) to
   messages already stored;
7. update each earlier ticket that got something new: timestamps, waiting time, reopen when
   closed;
8. write the activity rows and advance the channel cursor — all in the same transaction, so a
   crash anywhere before commit fetches the same items again and nothing is skipped.

The hot path works on plain tuples and column lists (``inbox.bulk``), not model instances:
building a model object costs more than storing its row. See docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import django.dispatch
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channels.base import InboundItem
from channels.models import Channel

from . import bulk
from .engine_config import config_stamp_subquery
from .identities import identities_upsert
from .media.ingest import attachments_store
from .models import (
    Activity,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    TicketStatus,
    primary_language,
)
from .priority import Reach

PREVIEW_LENGTH = 200

# Sent inside the ingest transaction, after messages are stored and tickets updated, so routing
# and SLA code can act before anyone sees the ticket. Receivers get ``channel``, ``tickets``
# (the touched Ticket objects, loaded after the update), ``created_ticket_ids`` and ``messages``
# (the newly stored messages as ``IngestedMessage`` values, with their ids). They must not do
# network I/O. The objects are built only when a receiver is connected (one more query for the
# tickets).
tickets_ingested = django.dispatch.Signal()

# Sent inside the ingest transaction *before* the touched tickets are written, with the rows
# ingest is about to write (``tickets``: each as it will be stored, its new items folded in; a
# new ticket has the id it will be inserted with), ``created_ticket_ids`` (those rows' ids),
# ``messages`` (the items about to be stored, as ``IngestedMessage`` values without ids, whose
# ``ticket_id`` is the row's id) and ``reach`` (identity id -> ``priority.Reach`` of the authors
# in the batch). Receivers change the rows' engine fields in memory; ingest stores them with the
# tickets, in the same statements. A receiver may return a callable: ingest calls it with
# ``tickets=`` (the rows written as prepared, now with their real ids) after writing, still in
# the transaction, for what needs ticket ids (links, activities, queued replies). In the rare
# case that a guess about what is new was wrong, the affected rows are prepared again, once.
# This is how the team-lead engines run (inbox/signals.py); no network I/O here either.
tickets_ingesting = django.dispatch.Signal()


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    edited: int = 0
    tickets_created: int = 0
    tickets_reopened: int = 0
    ticket_ids: list[int] = field(default_factory=list)


def _has_nul(item: InboundItem) -> bool:
    a = item.author
    return (
        "\x00" in item.text
        or "\x00" in item.external_id
        or "\x00" in item.thread_key
        or "\x00" in item.url
        or "\x00" in item.parent_external_id
        or "\x00" in item.language
        or "\x00" in item.kind
        or (
            a is not None
            and (
                "\x00" in a.platform_user_id
                or "\x00" in a.handle
                or "\x00" in a.display_name
                or "\x00" in a.avatar_url
                or "\x00" in a.profile_url
            )
        )
    )


def _strip(value: str) -> str:
    return value.replace("\x00", "")


def _without_nul(items: Sequence[InboundItem]) -> Sequence[InboundItem]:
    """PostgreSQL text cannot hold U+0000, which a broken or hostile payload may carry: drop it
    from the items' strings (on every database, so both store the same text) rather than fail
    the batch for good. ``inbox.bulk`` does the same for JSON payloads on PostgreSQL."""
    if not any(_has_nul(item) for item in items):
        return items
    clean = []
    for item in items:
        if _has_nul(item):
            author = item.author
            if author is not None:
                author = replace(
                    author,
                    platform_user_id=_strip(author.platform_user_id),
                    handle=_strip(author.handle),
                    display_name=_strip(author.display_name),
                    avatar_url=_strip(author.avatar_url),
                    profile_url=_strip(author.profile_url),
                )
            item = replace(
                item,
                text=_strip(item.text),
                external_id=_strip(item.external_id),
                thread_key=_strip(item.thread_key),
                url=_strip(item.url),
                parent_external_id=_strip(item.parent_external_id),
                language=_strip(item.language),
                kind=_strip(item.kind),
                author=author,
            )
        clean.append(item)
    return clean


def _version_key(version: str) -> tuple[int, int, str]:
    """Platform version ids in their order: decimal ids (X's snowflakes) by value."""
    if version.isdigit():
        digits = version.lstrip("0")
        return (0, len(digits), digits)
    return (1, 0, version)


def _dedupe_batch(items: Sequence[InboundItem]) -> tuple[list[InboundItem], list[InboundItem]]:
    """One item per platform id, and the other versions of those messages in the batch.

    A later version (an edit) replaces an earlier one. Where the platform numbers its versions
    (``InboundItem.version``), the newest is the one stored whatever the order of the batch, and
    the others come back as the second list, for the message's history."""
    by_id: dict[str, InboundItem] = {}
    others: list[InboundItem] = []
    for item in items:
        earlier = by_id.get(item.external_id)
        if earlier is None:
            by_id[item.external_id] = item
            continue
        if item.version and earlier.version:
            if item.version == earlier.version:
                continue  # the same version twice: a replay
            newer, older = (
                (item, earlier)
                if _version_key(item.version) > _version_key(earlier.version)
                else (earlier, item)
            )
            sent_at = min(item.sent_at, earlier.sent_at)
            by_id[item.external_id] = replace(newer, sent_at=sent_at, edited=True)
            others.append(older)
            continue
        if not item.edited:
            continue
        if not earlier.edited:
            # The original and its edit in one batch: store the original's time, the new text.
            item = replace(item, sent_at=earlier.sent_at, edited=True)
        by_id[item.external_id] = item
    return list(by_id.values()), others


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


class _TicketRow:
    """The ticket fields ingest and the engines read and write, without a model instance.

    The engines (``tickets_ingesting``) work on these rows as they would on tickets: the names
    are the model's attribute names (``team_id``, ``identity_id``).
    """

    __slots__ = ("pk", "thread_key", "status", "closed_at", "close_reason", "snoozed_until",
                 "first_inbound_at", "last_inbound_at", "first_response_at", "last_response_at",
                 "waiting_since", "last_message_preview", "rating", "language", "updated_at",
                 "version", "attachment_count", "intent", "team_id", "assignee_id",
                 "routing_trace", "priority", "priority_parts", "due_at", "first_response_due_at",
                 "first_response_business_seconds", "resolution_business_seconds", "channel_id",
                 "kind", "identity_id", "intent_corrected")  # fmt: skip

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    def copy(self) -> _TicketRow:
        return _TicketRow([getattr(self, name) for name in self.__slots__])


_REACH = ("identity__followers", "identity__verified", "identity__customer__vip",
          "identity__customer__merged_into__vip")  # fmt: skip


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


def _version_entry(item: InboundItem, now: dt.datetime) -> dict[str, str]:
    """One entry of ``Message.versions``. An edit the platform does not date is dated when it
    reached us; the first version of a message, when it was sent."""
    at = item.version_at or (now if item.edited and not item.version else item.sent_at)
    return {"version": item.version, "text": item.text, "at": at.isoformat()}


def _merge_version(
    entries: list[dict[str, str]], item: InboundItem, now: dt.datetime
) -> list[dict[str, str]]:
    """``entries`` with ``item``'s version added, oldest first (the last is the current text).

    A numbered version goes to its place, so an older one arriving late joins the history and
    never replaces newer text; one already there (a replay) changes nothing. Without numbers the
    latest delivery is the current text."""
    if item.version:
        if any(e.get("version") == item.version for e in entries):
            return entries
        merged = [*entries, _version_entry(item, now)]
        return sorted(merged, key=lambda e: _version_key(e.get("version") or ""))
    if entries and entries[-1].get("text") == item.text:
        return entries
    return [*entries, _version_entry(item, now)]


def _apply_edits(
    channel: Channel,
    edits: list[InboundItem],
    now: dt.datetime,
    *,
    fresh: dict[str, InboundItem],
    late: list[InboundItem],
) -> dict[str, str]:
    """Store the versions of edited messages; return the platform ids whose text (or rating)
    changed, each with the thread key of the ticket its message is in (for that ticket: an
    edit may name its thread otherwise, as X's Account Activity edits of replies do).

    ``edits``: edited items of stored messages and other versions from the batch; ``fresh``: the
    edited items just inserted (their message starts its history with them); ``late``: earlier
    versions of stored messages, which only matter if the message was edited meanwhile."""
    group: dict[str, list[InboundItem]] = defaultdict(list)
    for item in edits:
        group[item.external_id].append(item)
    for external_id in fresh:
        group.setdefault(external_id, [])
    late_ids = []
    for item in late:
        if item.external_id not in group:
            late_ids.append(item.external_id)
        group[item.external_id].append(item)
    wanted = [x for x in group if x not in late_ids]
    stored = (
        Message.objects.filter(channel=channel)
        .filter(
            Q(external_id__in=wanted) | Q(external_id__in=late_ids, edited_at__isnull=False)
        )
        .values_list("id", "external_id", "text", "rating", "versions", "sent_at", "edited_at",
                     "raw", "ticket__thread_key")
    )  # fmt: skip
    pks: list[int] = []
    rows: dict[str, list[Any]] = {n: [] for n in ("text", "rating", "raw", "versions", "edited_at")}
    changed: dict[str, str] = {}
    for pk, external_id, text, rating, versions, sent_at, edited_at, raw, thread_key in stored:
        items = group[external_id]
        first = fresh.get(external_id)
        if versions:
            start = list(versions)
        elif first is not None:
            start = [_version_entry(first, now)]
        else:
            numbered = any(i.version for i in items)
            at = sent_at.isoformat()
            start = [{"version": external_id if numbered else "", "text": text, "at": at}]
        entries = start
        current = None
        for item in items:
            entries = _merge_version(entries, item, now)
            if entries[-1].get("version") == item.version and entries[-1].get("text") == item.text:
                current = item
            elif not item.version and item.rating != rating:
                current = item  # a review whose stars changed, not its words
        keep = entries if len(entries) > 1 or first is not None else list(versions or [])
        new_text = entries[-1]["text"]
        new_rating = current.rating if current is not None else rating
        if new_text == text and new_rating == rating and keep == (versions or []):
            continue
        text_changed = new_text != text or new_rating != rating
        pks.append(pk)
        rows["text"].append(new_text)
        rows["rating"].append(new_rating)
        rows["raw"].append(current.raw if current is not None and text_changed else raw)
        rows["versions"].append(keep)
        rows["edited_at"].append(now if text_changed or first is not None else edited_at or now)
        if text_changed and first is None:
            changed[external_id] = thread_key
    bulk.update_rows(Message, pks, rows)
    return changed


def ingest_batch(
    *,
    channel_id: int,
    items: Sequence[InboundItem],
    cursor: dict[str, Any] | None = None,
) -> IngestResult:
    """Store ``items`` for the channel and, with them, its new ``cursor``.

    Safe to call again with the same items (replay, webhook plus poll, two workers): stored
    messages are never duplicated and the tickets end in the same state.
    """
    result = IngestResult(received=len(items))
    with transaction.atomic():
        # The engines' configuration stamp comes along (inbox.engine_config): no round trip
        # of its own for the check whether their cached rules are current.
        channel = (
            Channel.objects.select_for_update()
            .annotate(engine_stamp=config_stamp_subquery())
            .get(pk=channel_id)
        )
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

        # Every new thread's ticket gets its id now, so its messages can be written before it.
        for key, pk in zip(opening, bulk.reserve_ids(Ticket, len(opening)), strict=True):
            tickets[key].pk = pk
        stored_state = {key: row.copy() for key, row in tickets.items() if key not in opening}
        author_ids = [
            None
            if i.is_ours or i.author is None
            else identities.get(i.author.platform_user_id, (None,))[0]
            for i in new
        ]
        with bulk.pipeline():
            # The messages first: on PostgreSQL they are stored while the engines below run.
            # One list per column, straight from the items: no Message objects on the hot path.
            sent = bulk.send_rows(
                Message,
                {
                    "ticket": [tickets[i.thread_key].pk for i in new],
                    "direction": [
                        Direction.OUTBOUND if i.is_ours else Direction.INBOUND for i in new
                    ],
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

            # Fold the pending items into their tickets as if every one will be stored (all but
            # a rare race are: checked below) and let the engines set their fields now, so each
            # ticket is written once, in its final state.
            reopened: dict[str, str | None] = {}
            prepared = {key: tickets[key] for key in pending if key in tickets}
            for key, row in prepared.items():
                reopened[key] = _advance_ticket(row, pending[key], now)
            engines = tickets_ingesting.has_listeners(Channel)
            observed = tickets_ingested.has_listeners(Channel)
            prepared_messages = (
                _messages(new, author_ids, tickets, channel.pk, now) if engines or observed else []
            )
            finish = _engines_prepare(
                channel,
                list(prepared.values()),
                {tickets[key].pk for key in opening},
                prepared_messages,
                reach,
            )
            created_ids, lost = _insert_tickets(channel, tickets, opening, identities, now)
            inserted = sent()
        if lost:
            # Threads whose ticket another path opened meanwhile: their messages go to it.
            thread_of = {i.external_id: i.thread_key for i in new}
            moved = [(pk, thread_of[x]) for pk, x in inserted if thread_of[x] in lost]
            bulk.update_rows(
                Message, [pk for pk, _ in moved], {"ticket": [tickets[k].pk for _, k in moved]}
            )
        inserted_ids = {external_id for _, external_id in inserted}
        if any(i.attachments for i in new):
            # What came with the new messages, in one insert; fetched after commit.
            by_external = {i.external_id: i for i in new}
            attachments_store(
                channel_id=channel.pk,
                stored=[(pk, by_external[x]) for pk, x in inserted if by_external[x].attachments],
                now=now,
            )
        result.created = len(inserted)
        result.duplicates = len(items) - len(inserted)

        edits = [i for i in batch if i.edited and i.external_id not in inserted_ids]
        edits += other_versions
        fresh = {i.external_id: i for i in new if i.edited and i.external_id in inserted_ids}
        # An earlier version of a message stored already: history, if the message was edited.
        late = [i for i in batch if i.version and not i.edited and i.external_id in stored]
        edited = (
            _apply_edits(channel, edits, now, fresh=fresh, late=late)
            if edits or fresh or late
            else {}
        )
        # The tickets of edited messages, where the edit named another thread.
        elsewhere = sorted({k for k in edited.values() if k not in tickets})
        if elsewhere:
            tickets.update(_load_tickets(channel.pk, elsewhere, reach))
        result.edited = len(edited)
        result.duplicates -= len(edited)

        fresh_ids = inserted_ids.union(edited)
        new_by_ticket: dict[str, list[InboundItem]] = defaultdict(list)
        for item in batch:
            if item.external_id in fresh_ids:
                key = edited.get(item.external_id, item.thread_key)
                if key != item.thread_key:
                    item = replace(item, thread_key=key)
                new_by_ticket[key].append(item)
        for key in new_by_ticket:
            new_by_ticket[key].sort(key=lambda i: i.sent_at)

        # Where the guess was wrong (an item stored by another path between our lookup and the
        # insert, an edit, a thread opened meanwhile), start that ticket again from its stored
        # state, fold in what was really new and run the engines on it once more.
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
        # The stored messages: those prepared, with their ids and their tickets' real ids.
        by_id = {i.external_id: i for i in new}
        prepared_by_id = {m.external_id: m for m in prepared_messages}
        messages = []
        for pk, external_id in inserted if prepared_messages else ():
            message = prepared_by_id[external_id]
            message.id = pk
            message.ticket_id = tickets[by_id[external_id].thread_key].pk
            messages.append(message)
        if redo:
            redone = set(redo)
            finish_redo = _engines_prepare(
                channel,
                redo,
                created_ids,
                [m for m in messages if tickets[by_id[m.external_id].thread_key] in redone],
                reach,
            )
        else:
            finish_redo = []

        activities: dict[str, list[Any]] = {"ticket": [], "verb": [], "before": [], "after": []}

        def log(ticket_id: int, verb: str, before: dict, after: dict) -> None:
            for name, value in zip(activities, (ticket_id, verb, before, after), strict=True):
                activities[name].append(value)

        for pk in created_ids:
            log(pk, "created", {}, {"status": TicketStatus.NEW})
        touched = []
        for key in new_by_ticket:
            ticket = tickets[key]
            touched.append(ticket)
            if ticket.pk in created_ids:
                continue
            rewrite[key] = ticket
            if reopened.get(key) is not None:
                result.tickets_reopened += 1
                log(ticket.pk, "reopened", {"status": reopened[key]}, {"status": ticket.status})
        changed = list(rewrite.values())
        bulk.update_rows(
            Ticket,
            [t.pk for t in changed],
            {name: [getattr(t, attname) for t in changed] for name, attname in _WRITTEN},
        )
        bulk.insert_rows(Activity, activities, constants={"created_at": now}, returning=())

        if cursor is not None:
            lag = None
            if inserted:
                newest = max(i.sent_at for i in batch if i.external_id in inserted_ids)
                lag = max(0.0, (now - newest).total_seconds())
            Channel.objects.filter(pk=channel.pk).update(
                cursor=cursor,
                **({"last_ingest_lag_seconds": lag} if lag is not None else {}),
            )
        # The engines' links, activities and acknowledgements, now that every ticket has its id.
        as_prepared = [row for key, row in prepared.items() if tickets.get(key) is row]
        for done in finish:
            done(tickets=as_prepared)
        for done in finish_redo:
            done(tickets=redo)

        result.tickets_created = len(created_ids)
        result.ticket_ids = [t.pk for t in touched]
        if touched and observed:
            tickets_ingested.send(
                sender=Channel,
                channel=channel,
                tickets=list(Ticket.objects.filter(pk__in=result.ticket_ids)),
                created_ticket_ids=created_ids,
                messages=messages,
            )
    return result


def _ids(items: list[InboundItem]) -> list[str]:
    return [i.external_id for i in items]


def _engines_prepare(
    channel: Channel,
    rows: list[_TicketRow],
    created_ids: set[int],
    messages: list[IngestedMessage],
    reach: dict[int, Reach],
) -> list[Callable[..., None]]:
    """Send ``tickets_ingesting``; return the receivers' finishing steps."""
    if not rows or not tickets_ingesting.has_listeners(Channel):
        return []
    responses = tickets_ingesting.send(
        sender=Channel,
        channel=channel,
        tickets=rows,
        created_ticket_ids={r.pk for r in rows if r.pk in created_ids},
        messages=messages,
        reach=reach,
    )
    return [response for _, response in responses if callable(response)]


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
    def pk(self) -> int:
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
                ticket.status = TicketStatus.OPEN
                ticket.closed_at = None
                ticket.close_reason = ""
                ticket.snoozed_until = None
        ticket.last_message_preview = item.text.split("\n", 1)[0][:PREVIEW_LENGTH]
        if item.attachments:
            ticket.attachment_count = (ticket.attachment_count or 0) + len(item.attachments)
    ticket.updated_at = now
    ticket.version += 1
    return reopened_from
