"""Explainable priority: a score that is the sum of named parts, never a black box.

``priority_parts`` returns ``[(reason, points), ...]``; the ticket stores the sum in
``Ticket.priority`` (higher is more urgent) and the parts in ``Ticket.priority_parts`` so the
inbox can show "complaint +10, 12k followers +10, waiting 1 h 30 min +3". Parts:

- waiting time: one point per half hour the customer has waited, at most ``WAIT_CAP``;
- intent: a complaint weighs most, praise least;
- reach: followers in bands, and a verified account;
- a VIP customer (``Customer.vip``, also through a merged customer);
- a review's stars: the fewer, the more urgent;
- routing rules that set a priority (found in the ticket's ``routing_trace``).

Set at ingest (``inbox/engines/at_ingest.py``) and refreshed for waiting tickets by the periodic
task
``inbox.tasks.priority_refresh`` because waiting time grows by itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from inbox.models import OPEN_STATUSES, Identity, Ticket, TicketStatus

INTENT_POINTS = {"complaint": 10, "question": 5, "compliment": 2, "other": 0}
# (at least this many followers, points), highest band first.
FOLLOWER_BANDS = ((100_000, 15), (10_000, 10), (1_000, 5))
VERIFIED_POINTS = 5
VIP_POINTS = 15
RATING_POINTS = {1: 10, 2: 6, 3: 2}
WAIT_STEP = dt.timedelta(minutes=30)
WAIT_CAP = 20

Part = tuple[str, int]


class Reach(NamedTuple):
    """What priority and routing need of a ticket's author: plain values, no model objects."""

    followers: int | None
    verified: bool
    vip: bool

    @classmethod
    def of(cls, identity: Identity) -> Reach:
        """From an identity loaded with its customer and merged-into customer."""
        customer = identity.customer
        vip = bool(
            customer and (customer.vip or (customer.merged_into and customer.merged_into.vip))
        )
        return cls(identity.followers, bool(identity.verified), vip)


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _followers(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1_000:
        return f"{n // 1_000}k"
    return str(n)


def priority_parts(
    *,
    now: dt.datetime,
    waiting_since: dt.datetime | None = None,
    intent: str = "",
    followers: int | None = None,
    verified: bool = False,
    vip: bool = False,
    rating: int | None = None,
    rule_points: Iterable[Part] = (),
) -> list[Part]:
    parts: list[Part] = []
    if waiting_since is not None and now > waiting_since:
        waited = now - waiting_since
        points = min(WAIT_CAP, int(waited / WAIT_STEP))
        if points:
            parts.append((f"waiting {_duration(waited)}", points))
    if INTENT_POINTS.get(intent):
        parts.append((intent, INTENT_POINTS[intent]))
    for threshold, points in FOLLOWER_BANDS:
        if followers is not None and followers >= threshold:
            parts.append((f"{_followers(followers)} followers", points))
            break
    if verified:
        parts.append(("verified account", VERIFIED_POINTS))
    if vip:
        parts.append(("VIP customer", VIP_POINTS))
    if rating is not None and RATING_POINTS.get(rating):
        parts.append((f"{rating}-star review", RATING_POINTS[rating]))
    parts.extend(rule_points)
    return parts


def rule_points(ticket: Ticket) -> list[Part]:
    """Priority points that routing rules gave the ticket (kept in its routing trace)."""
    found = []
    for entry in ticket.routing_trace or []:
        points = entry.get("priority") if isinstance(entry, dict) else None
        if points:
            found.append((f"rule “{entry.get('name', entry.get('rule'))}”", int(points)))
    return found


def _clamp(score: int) -> int:
    return max(-32768, min(32767, score))


def ticket_priority_apply(
    *,
    tickets: Sequence[Ticket],
    identities: dict[int, Reach],
    now: dt.datetime | None = None,
) -> list[Ticket]:
    """Compute priority and parts in memory; ``identities`` maps identity pk to its reach.
    Returns the tickets whose priority or parts changed; the caller saves them."""
    now = now or timezone.now()
    changed = []
    for ticket in tickets:
        identity = identities.get(ticket.identity_id) if ticket.identity_id else None
        vip = bool(identity and identity.vip)
        waiting = (
            ticket.waiting_since
            if ticket.status in (*OPEN_STATUSES, TicketStatus.PENDING)
            else None
        )
        parts = priority_parts(
            now=now,
            waiting_since=waiting,
            intent=ticket.intent,
            followers=identity.followers if identity else None,
            verified=bool(identity and identity.verified),
            vip=vip,
            rating=ticket.rating,
            rule_points=rule_points(ticket),
        )
        score = _clamp(sum(points for _, points in parts))
        stored = [[reason, points] for reason, points in parts]
        if score != ticket.priority or stored != ticket.priority_parts:
            ticket.priority = score
            ticket.priority_parts = stored
            changed.append(ticket)
    return changed


def identities_for(tickets: Iterable[Ticket]) -> dict[int, Reach]:
    """One query of plain values: the reach of the tickets' authors (VIP through a merge too)."""
    return identity_reach({t.identity_id for t in tickets if t.identity_id})


def identity_reach(ids: set[int]) -> dict[int, Reach]:
    """Identity id -> its reach, one query (none without ids)."""
    if not ids:
        return {}
    rows = Identity.objects.filter(pk__in=ids).values_list(
        "pk", "followers", "verified", "customer__vip", "customer__merged_into__vip"
    )
    return {
        pk: Reach(followers, bool(verified), bool(vip or merged_vip))
        for pk, followers, verified, vip, merged_vip in rows
    }


def priority_refresh(*, batch_size: int = 500, now: dt.datetime | None = None) -> int:
    """Recompute the priority of every open or pending ticket; return how many changed.

    Waiting time grows while nobody looks, so a periodic task runs this. Chunks of
    ``batch_size`` keep each transaction short; the ``version`` is not raised (a priority that
    drifts is no reason for every open inbox to reload).
    """
    now = now or timezone.now()
    changed_total = 0
    last_id = 0
    while True:
        with transaction.atomic():
            chunk = list(
                Ticket.objects.filter(
                    status__in=[*OPEN_STATUSES, TicketStatus.PENDING], pk__gt=last_id
                )
                .order_by("pk")
                .select_related("identity__customer__merged_into")[:batch_size]
            )
            if not chunk:
                return changed_total
            last_id = chunk[-1].pk
            identities = {
                t.identity_id: Reach.of(t.identity)
                for t in chunk
                if t.identity_id and t.identity is not None
            }
            changed = ticket_priority_apply(tickets=chunk, identities=identities, now=now)
            if changed:
                Ticket.objects.bulk_update(changed, ["priority", "priority_parts"])
            changed_total += len(changed)
