"""Services: every state change of a ticket goes through one of these functions.

Each is keyword-only, runs in one transaction, writes its activity row and queues side effects
with ``transaction.on_commit`` so nothing leaves the building for a change that rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .models import Activity, DeliveryState, Direction, Message, Ticket, TicketStatus


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


class ReplyInvalid(ValueError):  # noqa: N818 - read as "this reply is invalid"
    """The channel cannot take this reply (too long as the platform counts, unknown mode)."""


def reply_check(*, ticket: Ticket, text: str, mode: str) -> None:
    """Refuse, before queueing, a reply the platform would refuse: its length is counted the
    platform's way (X weights CJK and emoji double, URLs as 23)."""
    if mode == "note":
        return
    connector = ticket.channel.connector_class
    if mode not in connector.reply_modes:
        raise ReplyInvalid(f"This channel cannot send a {mode} reply.")
    if connector.text_limit is not None:
        length = connector.count_text(text)
        if length > connector.text_limit:
            raise ReplyInvalid(
                f"The reply is {length} characters as the platform counts them; "
                f"at most {connector.text_limit} fit."
            )


def reply_queue(
    *,
    ticket: Ticket,
    author: AbstractBaseUser,
    text: str,
    mode: str = "public",
    options: dict[str, Any] | None = None,
) -> Message:
    """Store a reply as queued and send it after commit."""
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
            sent_at=now,
            reply_mode=mode,
            delivery_state=DeliveryState.QUEUED,
            delivery_changed_at=now,
            idempotency_key=uuid.uuid4().hex,
            send_options=options or {},
        )
        before = {"status": ticket.status}
        ticket.waiting_since = None
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
        ticket.updated_at = now
        ticket.version += 1
        ticket.save(update_fields=["waiting_since", "status", "updated_at", "version"])
        activity_log(
            ticket=ticket,
            actor=author,
            verb="reply_queued",
            before=before,
            after={"status": ticket.status, "message": message.pk, "mode": mode},
        )
        transaction.on_commit(lambda: dispatch_send(message.pk))
    return message
