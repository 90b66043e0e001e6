"""Services: every state change of a ticket goes through one of these functions.

Each is keyword-only, runs in one transaction, writes its activity row and queues side effects
with ``transaction.on_commit`` so nothing leaves the building for a change that rolled back.

One writer per state change: a close is :func:`ticket_close`, an assignment :func:`ticket_assign`
(:func:`ticket_take` and :func:`tickets_hand_over` are its conditional and set-based forms), the
effect of our reply :func:`ticket_answered`, a reopen :func:`ticket_reopen`. Their field logic is
in the ``*_set`` functions below, which also serve the paths that write many rows at once (the
ingest rows, the routing engine): other areas call these, never set the fields themselves.

The public helpers other areas use: :class:`ActionError`, :class:`Collision`,
:func:`ticket_lock`, :func:`ticket_save`, :func:`user_display`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.core import access
from inbox.core.business_time import Calendars
from inbox.models import (
    OPEN_STATUSES,
    Activity,
    Direction,
    Message,
    Tag,
    Ticket,
    TicketStatus,
)
from inbox.tickets.timing import BUSINESS_DURATION_FIELDS, business_durations_set


# --- errors a user sees -----------------------------------------------------------------------
class ActionError(Exception):
    """An action that cannot be done as asked; ``message`` is shown to the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyClaimed(ActionError):
    def __init__(self, holder: str) -> None:
        super().__init__(_("%(name)s already has this ticket.") % {"name": holder})
        self.holder = holder


class Collision(ActionError):
    """Something new happened in the thread since the composer was opened."""

    def __init__(self, message: str, latest_message_id: int) -> None:
        super().__init__(message)
        self.latest_message_id = latest_message_id


CLOSE_REASONS = {
    "": "",
    "resolved": "resolved",
    "no_reply_needed": "no reply needed",
    "spam": "spam",
    "duplicate": "duplicate",
}


def user_display(user: User | None) -> str:
    """The name an agent sees for ``user`` (full name, else user name; "" for nobody)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def ticket_lock(ticket_id: int) -> Ticket:
    """The ticket row, locked until the transaction ends (``SELECT ... FOR UPDATE``)."""
    return Ticket.objects.select_for_update().get(pk=ticket_id)


def ticket_save(ticket: Ticket, fields: Iterable[str], now: dt.datetime | None = None) -> None:
    """Save ``fields`` and raise the version, so every open inbox shows the change."""
    ticket.updated_at = now or timezone.now()
    ticket.version += 1
    ticket.save(update_fields=[*fields, "updated_at", "version"])


# --- the field logic of each change: on a Ticket or an ingest row (inbox.ingest.rows) alike ----
def closed_set(ticket: Any, *, reason: str, now: dt.datetime) -> list[str]:
    """Set the fields of a close in memory; return their names."""
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    ticket.close_reason = reason
    ticket.snoozed_until = None
    return ["status", "closed_at", "close_reason", "snoozed_until"]


def reopened_set(ticket: Any) -> list[str]:
    """Set the fields of a reopen in memory; return their names."""
    ticket.status = TicketStatus.OPEN
    ticket.closed_at = None
    ticket.close_reason = ""
    ticket.snoozed_until = None
    return ["status", "closed_at", "close_reason", "snoozed_until"]


def answered_set(ticket: Any, *, held: bool = False) -> list[str]:
    """Set the effect of our reply in memory: the customer no longer waits and nothing is due
    (unless the reply is ``held`` for approval: it has not answered yet), and a new ticket is
    open. Field names."""
    if not held:
        # Answered: nobody waits, so nothing is due (not "overdue" until the next sweep).
        ticket.waiting_since = None
        ticket.due_at = None
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
    return ["waiting_since", "due_at", "status"]


def assignee_set(ticket: Any, assignee_id: int | None) -> list[str]:
    """Set the assignee in memory; return the field names."""
    ticket.assignee_id = assignee_id
    return ["assignee"]


# --- claim, release, assign -------------------------------------------------------------------
def ticket_take(
    *, ticket_id: int, assignee_id: int, now: dt.datetime, open_only: bool = False
) -> bool:
    """Assign an unassigned ticket (an open one, with ``open_only``) if it still is; True when
    this call won. Lock: none beyond the row lock of its one conditional UPDATE, which decides
    between two takers. Audit: none of its own: its callers write it (:func:`ticket_claim` a
    "claimed" row, automatic assignment its "assigned" rows in one insert per run)."""
    rows = Ticket.objects.filter(pk=ticket_id, assignee__isnull=True)
    if open_only:
        rows = rows.filter(status__in=OPEN_STATUSES)
    return bool(rows.update(assignee_id=assignee_id, updated_at=now, version=F("version") + 1))


def ticket_claim(*, ticket_id: int, user: User) -> None:
    """Take an unassigned ticket. Atomic: of two agents clicking at once exactly one wins.

    The winner is decided by one conditional UPDATE (:func:`ticket_take`); the loser gets
    :class:`AlreadyClaimed` naming who has it. Audit: a "claimed" activity.
    """
    now = timezone.now()
    with transaction.atomic():
        won = ticket_take(ticket_id=ticket_id, assignee_id=user.pk, now=now)
        if not won:
            holder = Ticket.objects.filter(pk=ticket_id).select_related("assignee").first()
            if holder is not None and holder.assignee_id == user.pk:
                return  # already mine: clicking twice is fine
            raise AlreadyClaimed(user_display(holder.assignee if holder else None))
        activity_log(
            ticket=Ticket(pk=ticket_id), actor=user, verb="claimed", after={"assignee": user.pk}
        )


def ticket_release(*, ticket_id: int, user: User, force: bool = False) -> None:
    """Give a ticket back to the queue. Only its holder may, unless ``force`` (a lead).
    Lock: the ticket row. Audit: a "released" activity."""
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        if ticket.assignee_id is None:
            return
        if ticket.assignee_id != user.pk and not force:
            raise ActionError(_("Only the agent who has this ticket can release it."))
        before = {"assignee": ticket.assignee_id}
        ticket_save(ticket, assignee_set(ticket, None))
        activity_log(
            ticket=ticket, actor=user, verb="released", before=before, after={"assignee": None}
        )


def assignee_check(assignee: User | None) -> None:
    """Refuse ``assignee`` unless they may be given tickets (``access.assignable_ids``: an
    active account whose role works tickets). Nobody (None) is always allowed: that unassigns.
    Every assigning service calls this before it writes; the views only translate its error."""
    if assignee is None or assignee.pk in access.assignable_ids([assignee.pk]):
        return
    name = user_display(assignee)
    if not assignee.is_active:
        raise ActionError(
            _("%(name)s's account is deactivated: they cannot be given tickets.") % {"name": name}
        )
    raise ActionError(
        _("%(name)s has no role that works tickets: they cannot be given tickets.") % {"name": name}
    )


def ticket_assign(*, ticket_id: int, user: User, assignee: User | None) -> None:
    """A lead hands a ticket to someone (or to nobody). The lead's permission is the caller's
    check; whether ``assignee`` may take tickets is checked here (:func:`assignee_check`).
    Lock: the ticket row. Audit: an "assigned" activity (assignee before and after)."""
    assignee_check(assignee)
    _assign(ticket_id=ticket_id, user=user, assignee=assignee)


def _assign(*, ticket_id: int, user: User, assignee: User | None) -> None:
    """The write of :func:`ticket_assign`, for callers that ran :func:`assignee_check`."""
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        before = {"assignee": ticket.assignee_id}
        ticket_save(ticket, assignee_set(ticket, assignee.pk if assignee else None))
        activity_log(
            ticket=ticket,
            actor=user,
            verb="assigned",
            before=before,
            after={"assignee": assignee.pk if assignee else None},
        )


def tickets_hand_over(
    *,
    actor: User,
    user: User,
    to: User | None,
    reason: str,
) -> list[tuple[int, int | None]]:
    """Every not-closed ticket of ``user`` to ``to`` (or to nobody): the set-based form of
    :func:`ticket_assign`, in one UPDATE. ``to`` must have passed :func:`assignee_check` (or
    the caller's stricter check). Lock: the tickets' rows (``FOR UPDATE``), in the caller's
    transaction. Audit: one "assigned" ("released" for nobody) activity per ticket, with
    ``reason``, in one insert. Returns (ticket id, team id) of the tickets handed over."""
    now = timezone.now()
    rows: list[tuple[int, int | None]] = list(
        Ticket.objects.select_for_update()
        .filter(assignee=user)
        .exclude(status=TicketStatus.CLOSED)
        .values_list("pk", "team_id")
    )
    if not rows:
        return []
    ids = [pk for pk, _team in rows]
    Ticket.objects.filter(pk__in=ids).update(assignee=to, updated_at=now, version=F("version") + 1)
    verb = "assigned" if to else "released"
    Activity.objects.bulk_create(
        Activity(
            ticket_id=pk,
            actor=actor,
            verb=verb,
            before={"assignee": user.pk},
            after={"assignee": to.pk if to else None, "reason": reason},
            created_at=now,
        )
        for pk in ids
    )
    return rows


# --- tags -------------------------------------------------------------------------------------
def tag_name_clean(name: str) -> str:
    return " ".join(name.strip().lower().split())[:60]


def ticket_tag(*, ticket_id: int, user: User, name: str) -> Tag:
    """Add a tag, creating it on the fly."""
    name = tag_name_clean(name)
    if not name:
        raise ActionError(_("A tag needs a name."))
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        tag, _created = Tag.objects.get_or_create(name=name)
        ticket.tags.add(tag)
        ticket_save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="tagged", after={"tag": name})
    return tag


def ticket_untag(*, ticket_id: int, user: User, name: str) -> None:
    name = tag_name_clean(name)
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            return
        ticket.tags.remove(tag)
        ticket_save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="untagged", before={"tag": name})


# --- notes ------------------------------------------------------------------------------------
def note_add(*, ticket_id: int, user: User, text: str) -> Message:
    """An internal note: stored on the thread, never sent anywhere."""
    text = text.strip()
    if not text:
        raise ActionError(_("The note is empty."))
    now = timezone.now()
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        note = Message.objects.create(
            ticket=ticket,
            channel_id=ticket.channel_id,
            direction=Direction.NOTE,
            author_user=user,
            text=text,
            sent_at=now,
            created_at=now,
        )
        ticket_save(ticket, [], now)
        activity_log(ticket=ticket, actor=user, verb="note_added", after={"message": note.pk})
    return note


# --- close, reopen, snooze --------------------------------------------------------------------
def ticket_close(
    *,
    ticket_id: int,
    user: User,
    reason: str = "",
    incident: Any = None,
    calendars: Calendars | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Close a ticket: the one writer of a close (agents, bulk actions, the review queue, a
    reply sent with "close", a resolved incident). Lock: the ticket row. Audit: a "closed"
    activity (status before; status and reason after, and the incident when one closed it).

    An ``incident`` closes with the reason "incident", clears the SLA due time and leaves a ticket
    that is closed already alone (returns False). ``calendars``: the teams' business hours when
    the caller loaded them for many tickets. The routing engine closes new tickets at ingest with
    :func:`closed_set`, the same field logic, on the rows ingest writes."""
    if incident is not None:
        reason = "incident"
    elif reason not in CLOSE_REASONS:
        raise ActionError(_("Unknown close reason."))
    now = now or timezone.now()
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        if incident is not None and ticket.status == TicketStatus.CLOSED:
            return False
        before = {"status": ticket.status}
        fields = closed_set(ticket, reason=reason, now=now)
        after: dict[str, Any] = {"status": ticket.status, "reason": reason}
        if incident is not None:
            # The incident's answer went out: no SLA clock runs on these tickets any more.
            ticket.due_at = None
            fields.append("due_at")
            after["incident"] = incident.pk
        business_durations_set(ticket, calendars)
        ticket_save(ticket, [*fields, *BUSINESS_DURATION_FIELDS], now)
        activity_log(ticket=ticket, actor=user, verb="closed", before=before, after=after)
    return True


def ticket_reopen(*, ticket_id: int, user: User) -> None:
    """Reopen a ticket: the one writer of a reopen by hand (ingest reopens the rows it writes
    with :func:`reopened_set`, the same field logic). Lock: the ticket row. Audit: a
    "reopened" activity."""
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        before = {"status": ticket.status}
        ticket_save(ticket, reopened_set(ticket))
        activity_log(
            ticket=ticket,
            actor=user,
            verb="reopened",
            before=before,
            after={"status": ticket.status},
        )


def ticket_answered(*, ticket: Ticket, held: bool, now: dt.datetime) -> dict[str, Any]:
    """Our reply's effect on ``ticket``: the one writer of it (a reply queued, a held reply
    approved). Lock: the caller's, which holds the ticket row (:func:`ticket_lock`) in its
    transaction. Audit: none of its own; the caller's "replied" / "reply_approved" row carries
    the ``before`` this returns (the status before)."""
    before = {"status": ticket.status}
    ticket_save(ticket, answered_set(ticket, held=held), now)
    return before


def ticket_snooze(*, ticket_id: int, user: User, until: dt.datetime) -> None:
    """Pending until ``until``: out of the open views; a new customer message reopens it."""
    if until <= timezone.now():
        raise ActionError(_("Snooze until a time in the future."))
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        before = {"status": ticket.status}
        ticket.status = TicketStatus.PENDING
        ticket.snoozed_until = until
        ticket_save(ticket, ["status", "snoozed_until"])
        activity_log(
            ticket=ticket,
            actor=user,
            verb="snoozed",
            before=before,
            after={"status": ticket.status, "until": until.isoformat()},
        )


def snoozed_wake(*, now: dt.datetime | None = None) -> list[int]:
    """Reopen the snoozed tickets whose time has come; returns their ids. Safe to run twice."""
    now = now or timezone.now()
    woken = []
    with transaction.atomic():
        due = Ticket.objects.select_for_update(skip_locked=True).filter(
            status=TicketStatus.PENDING, snoozed_until__lte=now
        )
        for ticket in due[:500]:
            until = ticket.snoozed_until
            assert until is not None  # snoozed_until__lte above
            ticket.status = TicketStatus.OPEN
            ticket.snoozed_until = None
            ticket_save(ticket, ["status", "snoozed_until"])
            activity_log(
                ticket=ticket,
                actor=None,
                verb="snooze_ended",
                before={"status": TicketStatus.PENDING, "until": until.isoformat()},
                after={"status": ticket.status},
            )
            woken.append(ticket.pk)
    return woken


# --- bulk -------------------------------------------------------------------------------------
def tickets_bulk(
    *,
    ticket_ids: list[int],
    user: User,
    action: str,
    tag: str = "",
    assignee: User | None = None,
) -> int:
    """Close, tag or assign several tickets through the one writer of each change
    (:func:`ticket_close`, :func:`ticket_tag`, :func:`ticket_assign`'s write); each ticket gets
    its own activity row and lock. Returns the count. All or nothing: a refused assignee or a
    failing ticket changes none of them."""
    if action == "assign":
        assignee_check(assignee)  # once, before any ticket is touched
    with transaction.atomic():
        for ticket_id in ticket_ids:
            if action == "close":
                ticket_close(ticket_id=ticket_id, user=user)
            elif action == "tag":
                ticket_tag(ticket_id=ticket_id, user=user, name=tag)
            elif action == "assign":
                _assign(ticket_id=ticket_id, user=user, assignee=assignee)
            else:
                raise ActionError(_("Unknown bulk action."))
    return len(ticket_ids)
