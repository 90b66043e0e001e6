"""Services: every state change of a ticket goes through one of these functions.

Each is keyword-only, runs in one transaction, writes its activity row and queues side effects
with ``transaction.on_commit`` so nothing leaves the building for a change that rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.core import access
from inbox.engines.sla import BUSINESS_DURATION_FIELDS, business_durations_set
from inbox.models import (
    Direction,
    Message,
    Tag,
    Ticket,
    TicketStatus,
)


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


def _display(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _lock(ticket_id: int) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket_id)


def _save(ticket: Ticket, fields: Iterable[str], now: dt.datetime | None = None) -> None:
    """Save ``fields`` and raise the version, so every open inbox shows the change."""
    ticket.updated_at = now or timezone.now()
    ticket.version += 1
    ticket.save(update_fields=[*fields, "updated_at", "version"])


# --- claim, release, assign -------------------------------------------------------------------
def ticket_claim(*, ticket_id: int, user: AbstractBaseUser) -> None:
    """Take an unassigned ticket. Atomic: of two agents clicking at once exactly one wins.

    The winner is decided by one conditional UPDATE; the loser gets :class:`AlreadyClaimed`
    naming who has it.
    """
    now = timezone.now()
    with transaction.atomic():
        won = Ticket.objects.filter(pk=ticket_id, assignee__isnull=True).update(
            assignee=user, updated_at=now, version=F("version") + 1
        )
        if not won:
            holder = Ticket.objects.filter(pk=ticket_id).select_related("assignee").first()
            if holder is not None and holder.assignee_id == user.pk:
                return  # already mine: clicking twice is fine
            raise AlreadyClaimed(_display(holder.assignee if holder else None))
        activity_log(
            ticket=Ticket(pk=ticket_id), actor=user, verb="claimed", after={"assignee": user.pk}
        )


def ticket_release(*, ticket_id: int, user: AbstractBaseUser, force: bool = False) -> None:
    """Give a ticket back to the queue. Only its holder may, unless ``force`` (a lead)."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        if ticket.assignee_id is None:
            return
        if ticket.assignee_id != user.pk and not force:
            raise ActionError(_("Only the agent who has this ticket can release it."))
        before = {"assignee": ticket.assignee_id}
        ticket.assignee = None
        _save(ticket, ["assignee"])
        activity_log(
            ticket=ticket, actor=user, verb="released", before=before, after={"assignee": None}
        )


def assignee_check(assignee: AbstractBaseUser | None) -> None:
    """Refuse ``assignee`` unless they may be given tickets (``access.assignable_ids``: an
    active account whose role works tickets). Nobody (None) is always allowed: that unassigns.
    Every assigning service calls this before it writes; the views only translate its error."""
    if assignee is None or assignee.pk in access.assignable_ids([assignee.pk]):
        return
    name = _display(assignee)
    if not assignee.is_active:
        raise ActionError(
            _("%(name)s's account is deactivated: they cannot be given tickets.") % {"name": name}
        )
    raise ActionError(
        _("%(name)s has no role that works tickets: they cannot be given tickets.") % {"name": name}
    )


def ticket_assign(
    *, ticket_id: int, user: AbstractBaseUser, assignee: AbstractBaseUser | None
) -> None:
    """A lead hands a ticket to someone (or to nobody). The lead's permission is the caller's
    check; whether ``assignee`` may take tickets is checked here (:func:`assignee_check`)."""
    assignee_check(assignee)
    _assign(ticket_id=ticket_id, user=user, assignee=assignee)


def _assign(*, ticket_id: int, user: AbstractBaseUser, assignee: AbstractBaseUser | None) -> None:
    """The write of :func:`ticket_assign`, for callers that ran :func:`assignee_check`."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        before = {"assignee": ticket.assignee_id}
        ticket.assignee = assignee
        _save(ticket, ["assignee"])
        activity_log(
            ticket=ticket,
            actor=user,
            verb="assigned",
            before=before,
            after={"assignee": assignee.pk if assignee else None},
        )


# --- tags -------------------------------------------------------------------------------------
def tag_name_clean(name: str) -> str:
    return " ".join(name.strip().lower().split())[:60]


def ticket_tag(*, ticket_id: int, user: AbstractBaseUser, name: str) -> Tag:
    """Add a tag, creating it on the fly."""
    name = tag_name_clean(name)
    if not name:
        raise ActionError(_("A tag needs a name."))
    with transaction.atomic():
        ticket = _lock(ticket_id)
        tag, _created = Tag.objects.get_or_create(name=name)
        ticket.tags.add(tag)
        _save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="tagged", after={"tag": name})
    return tag


def ticket_untag(*, ticket_id: int, user: AbstractBaseUser, name: str) -> None:
    name = tag_name_clean(name)
    with transaction.atomic():
        ticket = _lock(ticket_id)
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            return
        ticket.tags.remove(tag)
        _save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="untagged", before={"tag": name})


# --- notes ------------------------------------------------------------------------------------
def note_add(*, ticket_id: int, user: AbstractBaseUser, text: str) -> Message:
    """An internal note: stored on the thread, never sent anywhere."""
    text = text.strip()
    if not text:
        raise ActionError(_("The note is empty."))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        note = Message.objects.create(
            ticket=ticket,
            channel_id=ticket.channel_id,
            direction=Direction.NOTE,
            author_user=user,
            text=text,
            sent_at=now,
            created_at=now,
        )
        _save(ticket, [], now)
        activity_log(ticket=ticket, actor=user, verb="note_added", after={"message": note.pk})
    return note


# --- close, reopen, snooze --------------------------------------------------------------------
def ticket_close(*, ticket_id: int, user: AbstractBaseUser, reason: str = "") -> None:
    if reason not in CLOSE_REASONS:
        raise ActionError(_("Unknown close reason."))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        before = {"status": ticket.status}
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now
        ticket.close_reason = reason
        ticket.snoozed_until = None
        business_durations_set(ticket)
        _save(
            ticket,
            ["status", "closed_at", "close_reason", "snoozed_until", *BUSINESS_DURATION_FIELDS],
            now,
        )
        activity_log(
            ticket=ticket,
            actor=user,
            verb="closed",
            before=before,
            after={"status": ticket.status, "reason": reason},
        )


def ticket_reopen(*, ticket_id: int, user: AbstractBaseUser) -> None:
    with transaction.atomic():
        ticket = _lock(ticket_id)
        before = {"status": ticket.status}
        ticket.status = TicketStatus.OPEN
        ticket.closed_at = None
        ticket.close_reason = ""
        ticket.snoozed_until = None
        _save(ticket, ["status", "closed_at", "close_reason", "snoozed_until"])
        activity_log(
            ticket=ticket,
            actor=user,
            verb="reopened",
            before=before,
            after={"status": ticket.status},
        )


def ticket_snooze(*, ticket_id: int, user: AbstractBaseUser, until: dt.datetime) -> None:
    """Pending until ``until``: out of the open views; a new customer message reopens it."""
    if until <= timezone.now():
        raise ActionError(_("Snooze until a time in the future."))
    with transaction.atomic():
        ticket = _lock(ticket_id)
        before = {"status": ticket.status}
        ticket.status = TicketStatus.PENDING
        ticket.snoozed_until = until
        _save(ticket, ["status", "snoozed_until"])
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
            ticket.status = TicketStatus.OPEN
            ticket.snoozed_until = None
            _save(ticket, ["status", "snoozed_until"])
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
    user: AbstractBaseUser,
    action: str,
    tag: str = "",
    assignee: AbstractBaseUser | None = None,
) -> int:
    """Close, tag or assign several tickets; each gets its own activity row. Returns the count.
    All or nothing: a refused assignee or a failing ticket changes none of them."""
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
