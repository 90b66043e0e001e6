"""Private replies ("move to DM"): one per comment, within the platform's time limit.

Meta lets an Instagram account (and a Facebook Page) send the author of a comment one private
message about it (``recipient={"comment_id": ...}``), within 7 days of the comment. A second
one is refused by Meta, so Webcare refuses it first, with the reason, wherever a reply is made:
the composer does not offer it (:func:`private_refusal`), and queueing one claims the comment
in the reply's transaction (:func:`private_claim`, a row of ``PrivateReply`` under a unique
constraint), so two agents racing for the same comment queue one reply, never two.

Which comment: the thread's latest customer message with a platform id, the one the send
answers (``inbox.replies.delivery.outbound_reply``). It is pinned in the reply's
``send_options`` (``comment_id``, ``commenter_id``), so a comment arriving between queueing
and sending does not change which comment was answered.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.models import DeliveryState, Direction, Message, PrivateReply, Ticket

PRIVATE = "private"


class Refused(Exception):  # noqa: N818 - read as "refused: <reason>"
    """This comment cannot be answered privately (again, or any more). The reply services
    turn it into ``inbox.replies.services.PrivateReplyRefused``, an ``ActionError``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def private_target(ticket: Ticket, comment_id: str = "") -> Message | None:
    """The comment a private reply on this ticket answers: the one chosen (a customer message
    of this ticket), else its latest customer message that the platform knows (the same one
    ``outbound_reply`` names)."""
    found = ticket.messages.filter(direction=Direction.INBOUND).exclude(external_id=None)
    if comment_id:
        found = found.filter(external_id=comment_id)
    return found.order_by("-sent_at", "-id").select_related("author_identity").first()


def private_limit(ticket: Ticket) -> dt.timedelta | None:
    return getattr(ticket.channel.connector_class, "private_reply_limit", None)


def _claim_reason(claim: PrivateReply) -> str:
    message = claim.message
    state = message.delivery_state
    if state == DeliveryState.SENT:
        return _("This comment was already answered privately on %(date)s.") % {
            "date": _when(message.sent_at)
        }
    if state in (DeliveryState.QUEUED, DeliveryState.SENDING):
        return _("A private reply to this comment is already being sent (since %(date)s).") % {
            "date": _when(claim.created_at)
        }
    if state in (DeliveryState.AWAITING_APPROVAL, DeliveryState.RETURNED):
        return _(
            "A private reply to this comment is already waiting for a lead's review "
            "(written on %(date)s)."
        ) % {"date": _when(claim.created_at)}
    # Failed with an unknown outcome: it may have reached the customer.
    return _(
        "A private reply to this comment may already have been sent on %(date)s (its outcome "
        "is unknown). Check Instagram or Facebook; retry that reply instead."
    ) % {"date": _when(claim.created_at)}


def _refusal(ticket: Ticket, target: Message | None, *, now: dt.datetime) -> str:
    if target is None:
        return _("There is no comment here to answer privately.")
    claim = (
        PrivateReply.objects.filter(channel_id=ticket.channel_id, comment_id=target.external_id)
        .select_related("message")
        .first()
    )
    if claim is not None:
        return _claim_reason(claim)
    limit = private_limit(ticket)
    if limit is not None and target.sent_at + limit <= now:
        return _(
            "Move to DM is no longer possible: a private reply must be sent within %(days)s "
            "days of the comment, which was written on %(date)s."
        ) % {"days": limit.days, "date": _when(target.sent_at)}
    return ""


def private_refusal(ticket: Ticket, *, now: dt.datetime | None = None) -> str:
    """Why "Move to DM" is not possible on this ticket now, or "" when it is."""
    return _refusal(ticket, private_target(ticket), now=now or timezone.now())


def private_options(ticket: Ticket, comment_id: str = "") -> dict[str, str]:
    """The comment (and its author) a private reply queued now answers (``comment_id`` when
    the agent chose one of the thread), checked: raises :class:`Refused` with the
    reason when it cannot be answered privately."""
    target = private_target(ticket, comment_id)
    reason = _refusal(ticket, target, now=timezone.now())
    if reason:
        raise Refused(reason)
    assert target is not None and target.external_id is not None
    identity = target.author_identity
    return {
        "comment_id": target.external_id,
        "commenter_id": identity.platform_user_id if identity else "",
    }


def private_claim(*, message: Message) -> None:
    """Claim the comment in ``message.send_options`` for this reply; inside the caller's
    transaction. Raises :class:`Refused` when another reply holds it."""
    comment_id = str((message.send_options or {}).get("comment_id") or "")
    if not comment_id:
        raise Refused(_("There is no comment here to answer privately."))
    if PrivateReply.objects.filter(message=message).exists():
        return
    try:
        with transaction.atomic():
            PrivateReply.objects.create(
                channel_id=message.channel_id, comment_id=comment_id, message=message
            )
    except IntegrityError as exc:
        claim = PrivateReply.objects.select_related("message").get(
            channel_id=message.channel_id, comment_id=comment_id
        )
        raise Refused(_claim_reason(claim)) from exc


def private_reclaim(*, message: Message) -> None:
    """Before a failed private reply is queued again: its claim, taken back if it was
    released, and still within the time limit."""
    limit = private_limit(message.ticket)
    comment_id = str((message.send_options or {}).get("comment_id") or "")
    comment = (
        Message.objects.filter(channel_id=message.channel_id, external_id=comment_id)
        .only("sent_at")
        .first()
    )
    if limit is not None and comment is not None and comment.sent_at + limit <= timezone.now():
        raise Refused(
            _(
                "Move to DM is no longer possible: a private reply must be sent within "
                "%(days)s days of the comment, which was written on %(date)s."
            )
            % {"days": limit.days, "date": _when(comment.sent_at)}
        )
    private_claim(message=message)
