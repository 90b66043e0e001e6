"""Sending on a Meta platform, as the Facebook Page and Instagram connectors both do: the
private reply to a comment ("move to DM") and recognising an earlier attempt of a reply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from ..base import OutboundReply, SendResult
from ..facebook import client

# A reply found by find_sent must be younger than the reply itself, give or take clock skew.
CLOCK_SKEW = dt.timedelta(seconds=60)
# The reply mode of "move to DM" (Message.reply_mode holds at most 10 characters).
PRIVATE_REPLY = "private"


def is_private_reply(reply: OutboundReply) -> bool:
    return reply.mode in (PRIVATE_REPLY, "private_reply")


def private_reply_post(
    post: Callable[..., dict[str, Any]],
    account: str,
    recipient: dict[str, str],
    text: str,
    *,
    platform: str,
    **fields: Any,
) -> tuple[str, dict[str, Any]]:
    """``POST /{account}/messages`` with ``recipient={"comment_id": ...}`` (or a post's id):
    one Messenger or Instagram message to the commenter about their comment. Returns the
    message's id and Meta's answer (which may name the person's page-scoped id)."""
    result = post(f"{account}/messages", recipient=recipient, message={"text": text}, **fields)
    message_id = client.sent_id(
        result, key="message_id", what="the private reply", platform=platform
    )
    return message_id, result


def earlier_attempt(
    reply: OutboundReply, candidates: Iterable[tuple[dict[str, Any], bool, Any, Any]]
) -> SendResult | None:
    """Among ``(candidate, written by us, text, created time)``, our text written after the
    reply was queued (give or take clock skew): the earlier attempt of this reply."""
    earliest = (reply.created_at or timezone.now()) - CLOCK_SKEW
    wanted = reply.text.strip()
    for candidate, ours, text, created in candidates:
        if (
            ours
            and str(text or "").strip() == wanted
            and created is not None
            and created >= earliest
        ):
            return SendResult(external_id=str(candidate["id"]), raw={"found": candidate})
    return None
