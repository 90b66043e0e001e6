"""Replies: checked, queued with their effect on the ticket, sent (or held for approval),
retried; canned replies filled in."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.core.dispatch import dispatch_send
from inbox.models import (
    CannedReply,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    in_language,
    primary_language,
)
from inbox.replies import private
from inbox.replies.approval import reply_needs_approval
from inbox.tickets.services import (
    ActionError,
    Collision,
    assignee_set,
    ticket_answered,
    ticket_close,
    ticket_lock,
    ticket_save,
    user_display,
)


class PrivateReplyRefused(ActionError):
    """Move to DM is not possible on this comment (again, or any more): the reason says why."""


class ReplyInvalid(ValueError):  # noqa: N818 - read as "this reply is invalid"
    """The channel cannot take this reply (too long as the platform counts, unknown mode)."""


def reply_check(*, ticket: Ticket, text: str, mode: str) -> None:
    """Refuse, before queueing, a reply the platform would refuse: its length is counted the
    platform's way (X weights CJK and emoji double, URLs as 23)."""
    if mode == "note":
        return
    connector = ticket.channel.connector_class
    if mode not in connector.reply_modes_for(ticket.kind):
        raise ReplyInvalid(mode_refusal(connector, ticket.kind, mode))
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


def mode_refusal(connector, ticket_kind: str, mode: str) -> str:
    """Why ``mode`` is not offered on a ``ticket_kind`` ticket of this platform, in words."""
    platform = connector.short_label or connector.label or connector.kind
    offered = connector.reply_modes_for(ticket_kind)
    if ticket_kind == "review" and not offered:
        return _("%(platform)s does not let businesses answer reviews: add an internal note.") % {
            "platform": platform
        }
    if ticket_kind == "review":
        return _(
            "A review is answered in public: %(platform)s has no private message to a reviewer."
        ) % {"platform": platform}
    if ticket_kind == "dm" and mode != "dm":
        return _("A private message is answered privately: a public reply is not possible here.")
    return _("%(platform)s cannot send a reply of that kind here.") % {"platform": platform}


def reply_queue(
    *,
    ticket: Ticket,
    author: User,
    text: str,
    mode: str = "public",
    options: dict[str, Any] | None = None,
    hold: bool = False,
    close_on_approval: bool = False,
    before_send=None,
) -> Message:
    """Store a reply as queued and send it after commit.

    With ``hold`` it is stored awaiting a lead's approval instead (four-eyes review,
    ``inbox.replies.review``): no task is queued, and the customer still counts as waiting, so the
    ticket keeps its SLA clock and its place in the list until a lead approves.
    """
    reply_check(ticket=ticket, text=text, mode=mode)

    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if mode == private.PRIVATE:
            # One private reply per comment, within the platform's limit: the comment is
            # pinned and claimed under the ticket's lock (and the claim's unique constraint).
            chosen = str((options or {}).get("comment_id") or "")
            with _private_refusals():
                options = {**(options or {}), **private.private_options(ticket, chosen)}
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
        if mode == private.PRIVATE:
            with _private_refusals():
                private.private_claim(message=message)
        if before_send is not None:
            before_send(message)
        before = ticket_answered(ticket=ticket, held=hold, now=now)
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


@contextmanager
def _private_refusals():
    try:
        yield
    except private.Refused as exc:
        raise PrivateReplyRefused(exc.message) from exc


# --- replies ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComposerState:
    """What the composer must know before an agent types."""

    modes: tuple[str, ...]
    limit: int | None
    allowed: bool
    reason: str
    options: tuple[str, ...]
    # When the platform's reply window closes, and its name ("Messenger") when the composer
    # shows the time left (``Connector.window_name``).
    closes_at: dt.datetime | None = None
    window_name: str = ""
    # How the live counter counts (``Connector.count_rule``), as JSON for the browser.
    count_rule: str = '{"kind": "chars"}'
    # Why no reply can be sent at all (a review site without business replies).
    no_reply: str = ""
    # What is not offered here and why, shown beside the modes (e.g. "Move to DM": this
    # comment was already answered privately on ...).
    notes: tuple[str, ...] = ()


def composer_state(ticket: Ticket) -> ComposerState:
    """What the platform allows on this ticket, from its connector's capabilities: the modes
    (``reply_modes_for``), the length and how it is counted, the reply window."""
    cls = ticket.channel.connector_class
    window = ticket.channel.connector().reply_window(
        ticket_kind=ticket.kind, last_inbound_at=ticket.last_inbound_at
    )
    modes = tuple(cls.reply_modes_for(ticket.kind))
    notes: list[str] = []
    reason = window.reason
    if private.PRIVATE in modes:
        refused = private.private_refusal(ticket)
        if refused:
            modes = tuple(m for m in modes if m != private.PRIVATE)
            notes.append(refused)
            if window.allowed:
                reason = ""  # the window's "Move to DM until ..." no longer holds
    return ComposerState(
        modes=modes,
        limit=cls.text_limit,
        allowed=window.allowed,
        reason=reason,
        options=tuple(window.options),
        closes_at=window.closes_at if window.allowed and cls.window_name else None,
        window_name=cls.window_name,
        count_rule=json.dumps(cls.count_rule()),
        no_reply="" if modes else mode_refusal(cls, ticket.kind, "public"),
        notes=tuple(notes),
    )


def reply_text(*, text: str, signature: str) -> str:
    """The text as posted: the agent's words, then their signature on its own line."""
    text = text.strip()
    signature = signature.strip()
    return f"{text}\n{signature}" if signature else text


def reply_send(
    *,
    ticket_id: int,
    user: User,
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

    A reply that needs a lead's approval (``inbox.replies.approval.reply_needs_approval``) is stored
    awaiting it instead; with ``close`` the ticket closes when the reply is approved, not now
    (closing first would tell everyone the customer had been answered).
    """
    from inbox.media import outbound
    from inbox.models import AgentProfile

    if not text.strip() and not files:
        raise ActionError(_("The reply is empty."))
    ticket = Ticket.objects.select_related("channel", "assignee").get(pk=ticket_id)
    if files and outbound.files_need_public_url(ticket.channel.connector_class):
        raise ActionError(outbound.public_url_needed())
    try:
        checked = outbound.files_check(files, ticket.channel.connector_class.attachment_limits)
    except outbound.FilesRefused as exc:
        raise ActionError(exc.message) from exc
    if ticket.assignee_id is not None and ticket.assignee_id != user.pk:
        # The claim is the anchor of collision control: one voice per ticket towards the customer.
        raise ActionError(
            _("%(name)s has this ticket; only they can reply. Add a note instead.")
            % {"name": user_display(ticket.assignee)}
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
    from inbox.media import outbound

    with transaction.atomic():
        locked = ticket_lock(ticket_id)
        if locked.assignee_id is None:
            # Whoever answers a ticket nobody holds takes it: one voice towards the customer,
            # and the ticket does not sit unassigned after the answer. Under the row lock, so a
            # colleague's claim in between is seen.
            ticket_save(locked, assignee_set(locked, user.pk))
            activity_log(ticket=locked, actor=user, verb="claimed", after={"assignee": user.pk})
        elif locked.assignee_id != user.pk:
            raise ActionError(
                _("%(name)s has this ticket; only they can reply. Add a note instead.")
                % {"name": user_display(locked.assignee)}
            )
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


def message_retry(*, message_id: int, user: User) -> Message:
    """Queue a failed reply again with the same idempotency key, so it is never posted twice."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if (
            message.direction != Direction.OUTBOUND
            or message.delivery_state != DeliveryState.FAILED
        ):
            raise ActionError(_("Only a failed reply can be retried."))
        if message.reply_mode == private.PRIVATE:
            # Its comment may have been answered privately since, or be too old now.
            with _private_refusals():
                private.private_reclaim(message=message)
        message.delivery_state = DeliveryState.QUEUED
        message.delivery_changed_at = timezone.now()
        message.failure_reason = ""
        message.save(update_fields=["delivery_state", "delivery_changed_at", "failure_reason"])
        ticket = ticket_lock(message.ticket_id)
        ticket_save(ticket, [])
        activity_log(ticket=ticket, actor=user, verb="reply_retried", after={"message": message.pk})
        transaction.on_commit(lambda: dispatch_send(message.pk))
    return message


# --- canned replies ---------------------------------------------------------------------------
def canned_fill(*, canned: CannedReply, ticket: Ticket, user: User) -> str:
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
    # The customer's language picks the text (a Dutch customer gets the Dutch one).
    body = in_language(canned.body, canned.translations, getattr(ticket, "language", ""))
    for key, value in values.items():
        body = body.replace(key, value)
    return body
