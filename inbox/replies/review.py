"""Four-eyes review: replies waiting for a lead's approval; coaching reviews of closed threads.

Who needs approval (``inbox.replies.approval.reply_needs_approval``): an agent whose profile says
so (a trainee), or anyone replying on a channel whose ``settings["approval"]`` is ``"public"``
(public replies only) or ``"all"``. Leads' and admins' own replies never wait, and neither do the
messages the system or a lead queues directly through ``services.reply_queue`` (incident
answers, out-of-hours acknowledgements).

The states of a held reply::

    awaiting_approval ──approve──▶ queued ──▶ sending ──▶ sent | failed   (inbox.replies.delivery)
          │   ▲
       return  resubmit
          ▼   │
        returned ──discard──▶ (deleted; the audit row keeps its text)

Nothing is ever sent from ``awaiting_approval`` or ``returned``: the send task, the retry and the
outbox sweep act only on ``queued``/``sending``/``failed`` rows, and only :func:`reply_approve`
moves a held reply on. It does so with one conditional UPDATE, so of two leads approving at once
exactly one wins and the reply is dispatched once.

A held reply does not answer the customer: the ticket keeps ``waiting_since`` (its SLA clock and
its place in the waiting order) until the reply is approved.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.audit.services import activity_log
from inbox.core.dispatch import dispatch_send
from inbox.models import (
    AgentProfile,
    DeliveryState,
    Direction,
    Message,
    ThreadReview,
    Ticket,
    TicketStatus,
)
from inbox.replies.services import ReplyInvalid, reply_check, reply_text
from inbox.tickets.services import (
    ActionError,
    ticket_answered,
    ticket_close,
    ticket_lock,
    ticket_save,
)


def reply_body(message: Message, signature: str) -> str:
    """The author's words without their signature: what an editor starts from."""
    signature = signature.strip()
    text = message.text
    if signature and text.endswith("\n" + signature):
        return text[: -len(signature) - 1]
    return text


def _author_signature(message: Message) -> str:
    if message.author_user_id is None:
        return ""
    profile = AgentProfile.objects.filter(user_id=message.author_user_id).first()
    return profile.signature if profile else ""


def _full_text(*, message: Message, ticket: Ticket, text: str) -> str:
    """Edited words with the author's own signature, checked against the channel's limit."""
    if not text.strip():
        raise ActionError(_("The reply is empty."))
    full = reply_text(text=text, signature=_author_signature(message))
    try:
        reply_check(ticket=ticket, text=full, mode=message.reply_mode or "public")
    except ReplyInvalid as exc:
        raise ActionError(str(exc)) from exc
    return full


def _held(message_id: int) -> Message:
    message = (
        Message.objects.select_related("ticket", "ticket__channel")
        .filter(pk=message_id, direction=Direction.OUTBOUND)
        .first()
    )
    if message is None:
        raise ActionError(_("No such reply."))
    return message


def _move(message_id: int, *, source: str, **changes) -> bool:
    """One conditional UPDATE: the state moves only if it still is ``source``."""
    now = timezone.now()
    return bool(
        Message.objects.filter(pk=message_id, delivery_state=source).update(
            delivery_changed_at=now, **changes
        )
    )


# --- the lead's side --------------------------------------------------------------------------
def reply_approve(*, message_id: int, lead: User, text: str | None = None) -> Message:
    """Approve a held reply (optionally with edited ``text``) and send it after commit.

    The author and their signature stay; an edit is checked against the channel's limit again.
    Of two leads approving at once exactly one wins (a conditional UPDATE); the other gets an
    :class:`ActionError`, and the reply is dispatched once. "Reply and close" closes the ticket
    here, with the approval.
    """
    message = _held(message_id)
    if message.author_user_id == lead.pk:
        raise ActionError(_("You cannot approve your own reply."))
    if message.delivery_state != DeliveryState.AWAITING_APPROVAL:
        raise ActionError(_("This reply is no longer waiting for approval."))
    ticket = message.ticket
    changes: dict = {"delivery_state": DeliveryState.QUEUED, "review_note": ""}
    edited = (
        text is not None and text.strip() != reply_body(message, _author_signature(message)).strip()
    )
    if edited and text is not None:
        changes["text"] = _full_text(message=message, ticket=ticket, text=text)
    now = timezone.now()
    with transaction.atomic():
        ticket = ticket_lock(ticket.pk)
        if not _move(message_id, source=DeliveryState.AWAITING_APPROVAL, **changes):
            raise ActionError(_("This reply is no longer waiting for approval."))
        # Now it answers the customer: the same effect on the ticket as a reply sent directly.
        ticket_answered(ticket=ticket, held=False, now=now)
        after = {"message": message.pk, "author": message.author_user_id}
        before = {}
        if edited:
            before["text"] = message.text
            after["text"] = changes["text"]
        activity_log(ticket=ticket, actor=lead, verb="reply_approved", before=before, after=after)
        if message.close_on_approval and ticket.status != TicketStatus.CLOSED:
            ticket_close(ticket_id=ticket.pk, user=lead, reason="resolved")
        transaction.on_commit(lambda: dispatch_send(message.pk))
    message.refresh_from_db()
    return message


def reply_return(*, message_id: int, lead: User, comment: str) -> Message:
    """Send a held reply back to its author with ``comment``; nothing goes out."""
    comment = comment.strip()
    if not comment:
        raise ActionError(_("Say what to change: the comment is empty."))
    message = _held(message_id)
    if message.author_user_id == lead.pk:
        raise ActionError(_("You cannot review your own reply."))
    with transaction.atomic():
        ticket = ticket_lock(message.ticket_id)
        if not _move(
            message_id,
            source=DeliveryState.AWAITING_APPROVAL,
            delivery_state=DeliveryState.RETURNED,
            review_note=comment[:2000],
        ):
            raise ActionError(_("This reply is no longer waiting for approval."))
        ticket_save(ticket, [])
        activity_log(
            ticket=ticket,
            actor=lead,
            verb="reply_returned",
            after={"message": message.pk, "author": message.author_user_id, "comment": comment},
        )
    message.refresh_from_db()
    return message


# --- the author's side ------------------------------------------------------------------------
def _own_returned(message_id: int, user: User) -> Message:
    message = _held(message_id)
    if message.author_user_id != user.pk:
        raise ActionError(_("Only the author of this reply can change it."))
    if message.delivery_state != DeliveryState.RETURNED:
        raise ActionError(_("Only a returned reply can be changed."))
    return message


def reply_resubmit(*, message_id: int, user: User, text: str) -> Message:
    """The author's edited reply goes back to the review queue (with their signature)."""
    message = _own_returned(message_id, user)
    full = _full_text(message=message, ticket=message.ticket, text=text)
    with transaction.atomic():
        ticket = ticket_lock(message.ticket_id)
        if not _move(
            message_id,
            source=DeliveryState.RETURNED,
            delivery_state=DeliveryState.AWAITING_APPROVAL,
            text=full,
            review_note="",
        ):
            raise ActionError(_("Only a returned reply can be changed."))
        ticket_save(ticket, [])
        activity_log(
            ticket=ticket,
            actor=user,
            verb="reply_resubmitted",
            before={"text": message.text},
            after={"message": message.pk, "text": full},
        )
    message.refresh_from_db()
    return message


def reply_discard(*, message_id: int, user: User) -> None:
    """The author drops a returned reply. The row goes; the audit row keeps its text."""
    message = _own_returned(message_id, user)
    with transaction.atomic():
        ticket = ticket_lock(message.ticket_id)
        if not Message.objects.filter(
            pk=message_id, delivery_state=DeliveryState.RETURNED
        ).delete()[0]:
            raise ActionError(_("Only a returned reply can be changed."))
        ticket_save(ticket, [])
        activity_log(
            ticket=ticket,
            actor=user,
            verb="reply_discarded",
            before={"message": message_id, "text": message.text, "comment": message.review_note},
        )


# --- reads ------------------------------------------------------------------------------------
def approvals_waiting_count() -> int:
    """Served by the ``message_outbound_state`` index."""
    return Message.objects.filter(
        direction=Direction.OUTBOUND, delivery_state=DeliveryState.AWAITING_APPROVAL
    ).count()


# --- coaching ---------------------------------------------------------------------------------
def thread_review_create(
    *, ticket_id: int, reviewer: User, score: int, note: str = ""
) -> ThreadReview:
    """A lead scores a closed thread (1–5) with a coaching note for the agent who worked it."""
    if not 1 <= score <= 5:
        raise ActionError(_("The score is 1 to 5."))
    with transaction.atomic():
        ticket = ticket_lock(ticket_id)
        if ticket.status != TicketStatus.CLOSED:
            raise ActionError(_("Only closed threads are reviewed."))
        if ticket.assignee_id is None:
            raise ActionError(_("Nobody worked this thread."))
        if ticket.assignee_id == reviewer.pk:
            raise ActionError(_("You cannot review your own thread."))
        review = ThreadReview.objects.create(
            ticket=ticket,
            reviewer=reviewer,
            agent_id=ticket.assignee_id,
            score=score,
            note=note.strip(),
        )
        activity_log(
            ticket=ticket,
            actor=reviewer,
            verb="thread_reviewed",
            after={"review": review.pk, "agent": ticket.assignee_id, "score": score},
        )
    return review
