"""Hiding and unhiding messages on their platform (an abusive Facebook comment).

Hiding on Facebook keeps the comment visible to its author and their friends only, so the
author does not notice being moderated; Webcare marks the message ``hidden`` and shows it dimmed.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels.base import PermanentError
from inbox.audit.services import activity_log
from inbox.models import Activity, Direction, Message, Ticket


def message_can_hide(message: Message) -> bool:
    """Whether the thread view should offer hide/unhide for this message."""
    return (
        message.direction == Direction.INBOUND
        and bool(message.external_id)
        and message.channel.connector_class.can_hide(message.ticket.kind)
    )


def message_set_hidden(*, message: Message, actor: User | None, hidden: bool) -> Message:
    """Hide or unhide ``message`` on its platform, then record it.

    The platform call comes first and outside the transaction: if it fails (a ConnectorError with
    a message for the agent), nothing changes here. Calling it again with the same value is
    harmless on Facebook, so a retry after a crash is safe.
    """
    if not message_can_hide(message):
        raise PermanentError("This message cannot be hidden on its platform.")
    message.channel.connector().set_hidden(message.external_id, hidden)
    return _record(message_id=message.pk, actor=actor, hidden=hidden, verb_suffix="")


def message_can_delete(message: Message) -> bool:
    """Whether the thread view should offer deleting this comment on its platform (Instagram
    lets an account delete comments on its own media)."""
    connector_class = message.channel.connector_class
    return (
        message.direction == Direction.INBOUND
        and bool(message.external_id)
        and callable(getattr(connector_class, "delete_comment", None))
        and message.ticket.kind == "comment"
    )


def message_delete_on_platform(*, message: Message, actor: User | None) -> Message:
    """Delete a comment on its platform, then record it: the message is kept here (an agent
    may have read or answered it), shown hidden, with an activity naming who deleted it.

    The platform call comes first and outside the transaction: if it fails, nothing changes
    here. A deletion is recorded once however often it is asked for."""
    if not message_can_delete(message):
        raise PermanentError("This message cannot be deleted on its platform.")
    if Activity.objects.filter(
        ticket_id=message.ticket_id, verb="message_deleted", after__message=message.pk
    ).exists():
        return message
    message.channel.connector().delete_comment(message.external_id)
    now = timezone.now()
    with transaction.atomic():
        locked = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
        before = locked.hidden
        locked.hidden = True
        locked.save(update_fields=["hidden"])
        activity_log(
            ticket=locked.ticket,
            actor=actor,
            verb="message_deleted",
            before={"hidden": before},
            after={"hidden": True, "message": locked.pk},
        )
        Ticket.objects.filter(pk=locked.ticket_id).update(updated_at=now, version=F("version") + 1)
    return locked


def message_platform_moderated(
    *,
    channel_id: int,
    external_id: str,
    hidden: bool | None = None,
    removed: bool = False,
    unsent: bool = False,
) -> Message | None:
    """Record a change made on the platform itself (a webhook told us): a comment hidden or
    unhidden in Meta's own tools, or removed; a message its author unsent. A removed message is
    kept (the agent saw it and may have answered it) and shown as hidden, with an activity row
    saying why; an unsent one is kept too, marked "removed by the customer"."""
    message = Message.objects.filter(channel_id=channel_id, external_id=external_id).first()
    if message is None:
        return None
    if unsent:
        return message_removed_by_author(message_id=message.pk)
    if removed:
        return _record(message_id=message.pk, actor=None, hidden=True, verb_suffix="removed")
    if hidden is None:
        return message
    return _record(message_id=message.pk, actor=None, hidden=hidden, verb_suffix="platform")


def message_removed_by_author(*, message_id: int) -> Message:
    """The customer took the message back (Messenger "unsend"): mark it, keep its text for the
    record, and log it once however often Meta redelivers the event."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        if message.removed_by_author_at is not None:
            return message
        message.removed_by_author_at = now
        message.save(update_fields=["removed_by_author_at"])
        activity_log(
            ticket=message.ticket,
            actor=None,
            verb="message_removed_by_author",
            before={},
            after={"message": message.pk},
        )
        Ticket.objects.filter(pk=message.ticket_id).update(updated_at=now, version=F("version") + 1)
    return message


def _record(*, message_id: int, actor, hidden: bool, verb_suffix: str) -> Message:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        if verb_suffix == "removed":
            # Meta retries deliveries: record a removal once.
            if Activity.objects.filter(
                ticket_id=message.ticket_id,
                verb="message_removed_on_platform",
                after__message=message.pk,
            ).exists():
                return message
        elif message.hidden == hidden:
            return message
        before = message.hidden
        message.hidden = hidden
        message.save(update_fields=["hidden"])
        if verb_suffix == "removed":
            verb = "message_removed_on_platform"
        else:
            verb = "message_hidden" if hidden else "message_unhidden"
            if verb_suffix == "platform":
                verb += "_on_platform"
        activity_log(
            ticket=message.ticket,
            actor=actor,
            verb=verb,
            before={"hidden": before},
            after={"hidden": hidden, "message": message.pk},
        )
        Ticket.objects.filter(pk=message.ticket_id).update(updated_at=now, version=F("version") + 1)
    return message
