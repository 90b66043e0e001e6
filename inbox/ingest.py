"""Store a batch of inbound items: one transaction, a constant number of queries per batch.

The order of work inside the transaction:

1. lock the channel row (two workers ingesting one channel queue here; SQLite's IMMEDIATE
   transactions give the same guarantee);
2. upsert the authors' identities, creating a customer for each new one;
3. find or open one ticket per thread key;
4. insert the messages with ``ON CONFLICT (channel, external_id) DO NOTHING`` — duplicates, from
   this batch, an earlier one or another worker, are dropped by the database, never by a lookup;
5. apply edits (a changed review) to messages already stored;
6. update each ticket that got something new: timestamps, waiting time, reopen when closed;
7. write the activity rows and advance the channel cursor — all in the same transaction, so a
   crash anywhere before commit fetches the same items again and nothing is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import django.dispatch
from django.db import transaction
from django.utils import timezone

from channels.base import InboundItem
from channels.models import Channel

from .bulk import insert_ignore_returning, update_rows
from .models import (
    Activity,
    Customer,
    DeliveryState,
    Direction,
    Identity,
    Message,
    Ticket,
    TicketStatus,
)

PREVIEW_LENGTH = 200

# Sent inside the ingest transaction, after messages are stored and tickets updated, so routing
# and SLA code can act before anyone sees the ticket. Receivers get ``channel``, ``tickets``
# (the touched Ticket objects), ``created_ticket_ids`` and ``messages`` (new inbound Message
# objects). They must not do network I/O.
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


def _dedupe_batch(items: Sequence[InboundItem]) -> list[InboundItem]:
    """One item per platform id; a later version (an edit) replaces an earlier one."""
    by_id: dict[str, InboundItem] = {}
    for item in items:
        earlier = by_id.get(item.external_id)
        if earlier is not None and not item.edited:
            continue
        if earlier is not None and not earlier.edited:
            # The original and its edit in one batch: store the original's time, the new text.
            item = replace(item, sent_at=earlier.sent_at, edited=True)
        by_id[item.external_id] = item
    return list(by_id.values())


def _upsert_identities(platform: str, items: Sequence[InboundItem]) -> dict[str, Identity]:
    authors = {i.author.platform_user_id: i.author for i in items if i.author and not i.is_ours}
    if not authors:
        return {}
    identities = {
        ident.platform_user_id: ident
        for ident in Identity.objects.filter(
            platform=platform, platform_user_id__in=list(authors)
        ).select_related("customer")
    }
    now = timezone.now()
    missing = [uid for uid in authors if uid not in identities]
    if missing:
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    display_name=authors[uid].display_name or authors[uid].handle, created_at=now
                )
                for uid in missing
            ]
        )
        Identity.objects.bulk_create(
            [
                Identity(
                    platform=platform,
                    platform_user_id=uid,
                    customer=customer,
                    handle=authors[uid].handle,
                    display_name=authors[uid].display_name,
                    avatar_url=authors[uid].avatar_url,
                    profile_url=authors[uid].profile_url,
                    followers=authors[uid].followers,
                    verified=authors[uid].verified,
                    updated_at=now,
                )
                for uid, customer in zip(missing, customers, strict=True)
            ],
            ignore_conflicts=True,
        )
        fresh = {
            ident.platform_user_id: ident
            for ident in Identity.objects.filter(
                platform=platform, platform_user_id__in=missing
            ).select_related("customer")
        }
        identities.update(fresh)
        # Another channel of the same platform created some of them first: drop our spares.
        orphans = [
            c.pk
            for uid, c in zip(missing, customers, strict=True)
            if fresh[uid].customer_id != c.pk
        ]
        if orphans:
            Customer.objects.filter(pk__in=orphans).delete()
    changed = []
    for uid, author in authors.items():
        ident = identities[uid]
        update = {
            "handle": author.handle or ident.handle,
            "display_name": author.display_name or ident.display_name,
            "avatar_url": author.avatar_url or ident.avatar_url,
            "profile_url": author.profile_url or ident.profile_url,
            "followers": author.followers if author.followers is not None else ident.followers,
            "verified": author.verified,
        }
        if any(getattr(ident, k) != v for k, v in update.items()):
            for k, v in update.items():
                setattr(ident, k, v)
            ident.updated_at = now
            changed.append(ident)
    if changed:
        update_rows(
            changed,
            [
                "handle",
                "display_name",
                "avatar_url",
                "profile_url",
                "followers",
                "verified",
                "updated_at",
            ],
        )
    return identities


def _open_tickets(
    channel: Channel, items: Sequence[InboundItem], identities: dict[str, Identity]
) -> tuple[dict[str, Ticket], set[int]]:
    keys = {i.thread_key for i in items}
    tickets = {
        t.thread_key: t for t in Ticket.objects.filter(channel=channel, thread_key__in=list(keys))
    }
    first_inbound: dict[str, InboundItem] = {}
    for item in sorted(items, key=lambda i: i.sent_at):
        if not item.is_ours and item.thread_key not in tickets:
            first_inbound.setdefault(item.thread_key, item)
    if not first_inbound:
        return tickets, set()
    now = timezone.now()
    new = []
    for key, item in first_inbound.items():
        ident = identities.get(item.author.platform_user_id) if item.author else None
        new.append(
            Ticket(
                channel=channel,
                kind=item.kind,
                thread_key=key,
                customer_id=ident.customer_id if ident else None,
                identity=ident,
                team_id=channel.default_team_id,
                status=TicketStatus.NEW,
                subject=item.text[:PREVIEW_LENGTH],
                platform_url=item.url,
                language=item.language,
                created_at=now,
                updated_at=now,
            )
        )
    Ticket.objects.bulk_create(new, ignore_conflicts=True)
    created = Ticket.objects.filter(channel=channel, thread_key__in=list(first_inbound))
    created_ids = set()
    for ticket in created:
        tickets[ticket.thread_key] = ticket
        created_ids.add(ticket.pk)
    return tickets, created_ids


def _apply_edits(channel: Channel, edits: list[InboundItem], now: dt.datetime) -> list[Message]:
    by_id = {i.external_id: i for i in edits}
    stored = list(Message.objects.filter(channel=channel, external_id__in=list(by_id)))
    changed = []
    for message in stored:
        item = by_id[message.external_id]
        if message.text == item.text and message.rating == item.rating:
            continue
        message.text = item.text
        message.rating = item.rating
        message.raw = item.raw
        message.edited_at = now
        changed.append(message)
    if changed:
        update_rows(changed, ["text", "rating", "raw", "edited_at"])
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
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        batch = _dedupe_batch(items)
        now = timezone.now()
        identities = _upsert_identities(channel.platform, batch)
        tickets, created_ids = _open_tickets(channel, batch, identities)

        rows = []
        for item in batch:
            ticket = tickets.get(item.thread_key)
            if ticket is None:
                continue  # our own post with no customer thread to belong to
            ident = identities.get(item.author.platform_user_id) if item.author else None
            rows.append(
                Message(
                    ticket_id=ticket.pk,
                    channel_id=channel.pk,
                    direction=Direction.OUTBOUND if item.is_ours else Direction.INBOUND,
                    external_id=item.external_id,
                    author_identity_id=None if item.is_ours else (ident.pk if ident else None),
                    text=item.text,
                    sent_at=item.sent_at,
                    created_at=now,
                    raw=item.raw,
                    rating=item.rating,
                    url=item.url,
                    parent_external_id=item.parent_external_id,
                    delivery_state=DeliveryState.SENT if item.is_ours else DeliveryState.NONE,
                    reply_mode="echo" if item.is_ours else "",
                )
            )
        inserted = insert_ignore_returning(
            rows, conflict_fields=["channel", "external_id"], returning=["id", "external_id"]
        )
        inserted_ids = {external_id for _, external_id in inserted}
        result.created = len(inserted)
        result.duplicates = len(items) - len(inserted)

        edits = [i for i in batch if i.edited and i.external_id not in inserted_ids]
        edited = _apply_edits(channel, edits, now) if edits else []
        result.edited = len(edited)
        result.duplicates -= len(edited)

        fresh_ids = inserted_ids | {m.external_id for m in edited}
        new_by_ticket: dict[str, list[InboundItem]] = defaultdict(list)
        for item in batch:
            if item.external_id in fresh_ids:
                new_by_ticket[item.thread_key].append(item)

        activities = [
            Activity(
                ticket_id=pk, verb="created", after={"status": TicketStatus.NEW}, created_at=now
            )
            for pk in created_ids
        ]
        touched = []
        for key, new_items in new_by_ticket.items():
            ticket = tickets[key]
            reopened = _advance_ticket(ticket, sorted(new_items, key=lambda i: i.sent_at), now)
            if reopened is not None:
                result.tickets_reopened += 1
                activities.append(
                    Activity(
                        ticket_id=ticket.pk,
                        verb="reopened",
                        before={"status": reopened},
                        after={"status": ticket.status},
                        created_at=now,
                    )
                )
            touched.append(ticket)
        if touched:
            update_rows(touched, _TICKET_FIELDS)
        if activities:
            Activity.objects.bulk_create(activities)

        if cursor is not None:
            lag = None
            if inserted:
                newest = max(i.sent_at for i in batch if i.external_id in inserted_ids)
                lag = max(0.0, (now - newest).total_seconds())
            Channel.objects.filter(pk=channel.pk).update(
                cursor=cursor,
                **({"last_ingest_lag_seconds": lag} if lag is not None else {}),
            )
        if touched:
            new_messages = [m for m in rows if m.external_id in inserted_ids]
            tickets_ingested.send(
                sender=Channel,
                channel=channel,
                tickets=touched,
                created_ticket_ids=created_ids,
                messages=new_messages,
            )
        result.tickets_created = len(created_ids)
        result.ticket_ids = [t.pk for t in touched]
    return result


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
]


def _advance_ticket(ticket: Ticket, items: list[InboundItem], now: dt.datetime) -> str | None:
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
    ticket.updated_at = now
    ticket.version += 1
    return reopened_from
