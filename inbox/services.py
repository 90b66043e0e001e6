"""Services: every state change of a ticket goes through one of these functions.

Each is keyword-only, runs in one transaction, writes its activity row and queues side effects
with ``transaction.on_commit`` so nothing leaves the building for a change that rolled back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access
from .models import (
    Activity,
    CannedReply,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Tag,
    Ticket,
    TicketStatus,
    primary_language,
)
from .sla import BUSINESS_DURATION_FIELDS, business_durations_set


def activity_log(
    *,
    ticket: Ticket | None,
    actor: AbstractBaseUser | None,
    verb: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Activity:
    return Activity.objects.create(
        ticket=ticket,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        before=before or {},
        after=after or {},
    )


def audited_delete(*, actor: AbstractBaseUser | None, row, before: dict, verb: str) -> None:
    """Delete a settings row and write its audit entry (``before`` as it was), in one
    transaction."""
    with transaction.atomic():
        row.delete()
        activity_log(ticket=None, actor=actor, verb=verb, before=before)


class ReplyInvalid(ValueError):  # noqa: N818 - read as "this reply is invalid"
    """The channel cannot take this reply (too long as the platform counts, unknown mode)."""


def reply_check(*, ticket: Ticket, text: str, mode: str) -> None:
    """Refuse, before queueing, a reply the platform would refuse: its length is counted the
    platform's way (X weights CJK and emoji double, URLs as 23)."""
    if mode == "note":
        return
    connector = ticket.channel.connector_class
    if mode not in connector.reply_modes:
        raise ReplyInvalid(_("This channel cannot send a reply of that kind."))
    if connector.text_limit is not None:
        length = connector.count_text(text)
        if length > connector.text_limit:
            raise ReplyInvalid(
                _(
                    "The reply is %(count)s characters as the platform counts them; "
                    "at most %(limit)s fit."
                )
                % {"count": length, "limit": connector.text_limit}
            )


def reply_queue(
    *,
    ticket: Ticket,
    author: AbstractBaseUser,
    text: str,
    mode: str = "public",
    options: dict[str, Any] | None = None,
    hold: bool = False,
    close_on_approval: bool = False,
    before_send=None,
) -> Message:
    """Store a reply as queued and send it after commit.

    With ``hold`` it is stored awaiting a lead's approval instead (four-eyes review,
    ``inbox.review``): no task is queued, and the customer still counts as waiting, so the
    ticket keeps its SLA clock and its place in the list until a lead approves.
    """
    from channels.tasks import dispatch_send

    reply_check(ticket=ticket, text=text, mode=mode)

    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = Message.objects.create(
            ticket=ticket,
            channel_id=ticket.channel_id,
            direction=Direction.OUTBOUND,
            author_user=author,
            text=text,
            language=primary_language(ticket.language),
            sent_at=now,
            reply_mode=mode,
            delivery_state=DeliveryState.AWAITING_APPROVAL if hold else DeliveryState.QUEUED,
            delivery_changed_at=now,
            idempotency_key=uuid.uuid4().hex,
            send_options=options or {},
            close_on_approval=hold and close_on_approval,
        )
        if before_send is not None:
            before_send(message)
        before = {"status": ticket.status}
        if not hold:
            ticket.waiting_since = None
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
        ticket.updated_at = now
        ticket.version += 1
        ticket.save(update_fields=["waiting_since", "status", "updated_at", "version"])
        activity_log(
            ticket=ticket,
            actor=author,
            verb="reply_awaiting_approval" if hold else "reply_queued",
            before=before,
            after={"status": ticket.status, "message": message.pk, "mode": mode},
        )
        if not hold:
            transaction.on_commit(lambda: dispatch_send(message.pk))
    return message


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


# --- replies ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComposerState:
    """What the composer must know before an agent types."""

    modes: tuple[str, ...]
    limit: int | None
    allowed: bool
    reason: str
    options: tuple[str, ...]


def composer_state(ticket: Ticket) -> ComposerState:
    cls = ticket.channel.connector_class
    window = ticket.channel.connector().reply_window(
        ticket_kind=ticket.kind, last_inbound_at=ticket.last_inbound_at
    )
    return ComposerState(
        modes=tuple(cls.reply_modes),
        limit=cls.text_limit,
        allowed=window.allowed,
        reason=window.reason,
        options=tuple(window.options),
    )


def reply_text(*, text: str, signature: str) -> str:
    """The text as posted: the agent's words, then their signature on its own line."""
    text = text.strip()
    signature = signature.strip()
    return f"{text}\n{signature}" if signature else text


def reply_send(
    *,
    ticket_id: int,
    user: AbstractBaseUser,
    text: str,
    mode: str = "public",
    seen_message_id: int | None = None,
    option: str = "",
    close: bool = False,
    files: Sequence = (),
) -> Message:
    """Validate a reply, store it queued and send it after commit (optionally closing).

    ``files`` (uploads) are checked against the channel's ``attachment_limits``, kept in the
    media storage and sent with the text (``inbox.media.outbound``).

    Blocked with :class:`Collision` when a message arrived, or a colleague replied or noted,
    after the last one the composer showed (``seen_message_id``).

    A reply that needs a lead's approval (``inbox.review.reply_needs_approval``) is stored
    awaiting it instead; with ``close`` the ticket closes when the reply is approved, not now
    (closing first would tell everyone the customer had been answered).
    """
    from .media import outbound
    from .models import AgentProfile

    if not text.strip() and not files:
        raise ActionError(_("The reply is empty."))
    ticket = Ticket.objects.select_related("channel", "assignee").get(pk=ticket_id)
    try:
        checked = outbound.files_check(files, ticket.channel.connector_class.attachment_limits)
    except outbound.FilesRefused as exc:
        raise ActionError(exc.message) from exc
    if ticket.assignee_id is not None and ticket.assignee_id != user.pk:
        # The claim is the anchor of collision control: one voice per ticket towards the customer.
        raise ActionError(
            _("%(name)s has this ticket; only they can reply. Add a note instead.")
            % {"name": _display(ticket.assignee)}
        )
    check = composer_state(ticket)
    options: dict[str, Any] = {}
    if not check.allowed:
        if option and option in check.options:
            options["tag"] = option
        else:
            raise ActionError(check.reason or _("Replying is not possible on this ticket now."))
    profile = AgentProfile.objects.filter(user=user).first()
    full = reply_text(text=text, signature=profile.signature if profile else "")
    try:
        reply_check(ticket=ticket, text=full, mode=mode)
    except ReplyInvalid as exc:
        raise ActionError(str(exc)) from exc
    try:
        # Kept before the transaction (an upload can take a while); removed again below if
        # the reply is not queued.
        prepared = outbound.files_store(checked, channel_id=ticket.channel_id)
    except outbound.FilesRefused as exc:
        raise ActionError(exc.message) from exc
    try:
        return _reply_store(
            ticket=ticket,
            ticket_id=ticket_id,
            user=user,
            full=full,
            mode=mode,
            options=options,
            seen_message_id=seen_message_id,
            profile=profile,
            close=close,
            prepared=prepared,
        )
    except BaseException:
        outbound.files_discard(prepared)
        raise


def _reply_store(
    *, ticket, ticket_id, user, full, mode, options, seen_message_id, profile, close, prepared
) -> Message:
    from .media import outbound
    from .review import reply_needs_approval

    with transaction.atomic():
        _lock(ticket_id)
        if seen_message_id is not None:
            newer = (
                Message.objects.filter(ticket_id=ticket_id, pk__gt=seen_message_id)
                .exclude(author_user=user)
                .order_by("-pk")
                .first()
            )
            if newer is not None:
                raise Collision(
                    _("A new message arrived since you opened the composer. Read it, then send.")
                    if newer.direction == Direction.INBOUND
                    else _(
                        "A colleague wrote in this ticket since you opened the composer. "
                        "Read it, then send."
                    ),
                    newer.pk,
                )
        hold = reply_needs_approval(user=user, channel=ticket.channel, mode=mode, profile=profile)
        message = reply_queue(
            ticket=ticket,
            author=user,
            text=full,
            mode=mode,
            options=options,
            hold=hold,
            close_on_approval=close,
            # The files are recorded before the send is queued (on commit), so the send sees
            # them.
            before_send=lambda message: outbound.files_attach(message=message, prepared=prepared),
        )
        if close and not hold:
            ticket_close(ticket_id=ticket_id, user=user, reason="resolved")
    return message


def message_retry(*, message_id: int, user: AbstractBaseUser) -> Message:
    """Queue a failed reply again with the same idempotency key, so it is never posted twice."""
    from channels.tasks import dispatch_send

    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if (
            message.direction != Direction.OUTBOUND
            or message.delivery_state != DeliveryState.FAILED
        ):
            raise ActionError(_("Only a failed reply can be retried."))
        message.delivery_state = DeliveryState.QUEUED
        message.delivery_changed_at = timezone.now()
        message.failure_reason = ""
        message.save(update_fields=["delivery_state", "delivery_changed_at", "failure_reason"])
        ticket = _lock(message.ticket_id)
        _save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="reply_retried", after={"message": message.pk})
        transaction.on_commit(lambda: dispatch_send(message.pk))
    return message


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


# --- customers --------------------------------------------------------------------------------
def customer_root(customer: Customer) -> Customer:
    return customer.merged_into if customer.merged_into_id else customer


def customer_merge(*, source_id: int, target_id: int, user: AbstractBaseUser) -> None:
    """Link ``source`` to ``target`` as the same person. Tickets keep their own customer, so
    :func:`customer_unmerge` restores everything exactly."""
    with transaction.atomic():
        source = Customer.objects.select_for_update().get(pk=source_id)
        target = Customer.objects.select_related("merged_into").get(pk=target_id)
        target = customer_root(target)
        if target.pk == source.pk:
            raise ActionError(_("That is already the same customer."))
        before = {"merged_into": source.merged_into_id}
        # Whoever was linked to the source follows it: one level deep, always.
        Customer.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        now = timezone.now()
        Ticket.objects.filter(customer__in=[source, target]).update(
            updated_at=now, version=F("version") + 1
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_merged",
            before=before,
            after={"customer": source.pk, "merged_into": target.pk},
        )


def customer_unmerge(*, customer_id: int, user: AbstractBaseUser) -> None:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer.merged_into_id is None:
            return
        before = {"merged_into": customer.merged_into_id}
        target_id = customer.merged_into_id
        customer.merged_into = None
        customer.save(update_fields=["merged_into"])
        Ticket.objects.filter(customer_id__in=[customer.pk, target_id]).update(
            updated_at=timezone.now(), version=F("version") + 1
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_unmerged",
            before=before,
            after={"customer": customer.pk, "merged_into": None},
        )


# --- canned replies ---------------------------------------------------------------------------
def canned_fill(*, canned: CannedReply, ticket: Ticket, user: AbstractBaseUser) -> str:
    """The canned body with its variables filled; unknown braces stay as they are."""
    customer_name = ""
    if ticket.identity_id and ticket.identity:
        customer_name = ticket.identity.display_name or ticket.identity.handle
    if not customer_name and ticket.customer_id and ticket.customer:
        customer_name = ticket.customer.display_name
    values = {
        "{customer_name}": customer_name,
        "{agent_first_name}": getattr(user, "first_name", "") or user.get_username(),
    }
    body = canned.body
    for key, value in values.items():
        body = body.replace(key, value)
    return body
