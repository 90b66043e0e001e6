"""Answering a mention publicly: the account @mentioned in someone else's comment or caption.

Instagram API with Instagram Login, "Mentions" (graph.instagram.com, permissions
``instagram_business_basic`` and ``instagram_business_manage_comments``): ``POST
/<IG_ID>/mentions`` replies to "a comment or media object caption that a Business or Creator
Account has been @mentioned in by another Instagram user". The parameters are the IG User
Mentions reference's: ``media_id`` (required), ``comment_id`` (when the mention is in a
comment), ``message``; the answer is the new comment, ``{"id": ...}``. Mentions on Stories are
not supported (they arrive as DMs, ``story_mention``, and are answered by DM).

Threads (``channels.instagram.normalize``): a comment mention is ``mention:<comment id>`` with
the media id as the message's ``parent_external_id`` (``OutboundReply.in_reply_to_parent``); a
caption mention is ``mention:<media id>``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..base import OutboundReply, OutcomeUnknown, PermanentError, ReplyWindow, SendResult
from ..meta.messaging import local_time

if TYPE_CHECKING:
    from .connector import InstagramConnector

MENTION_WINDOW_REASON = gettext_lazy(
    "Public reply: it appears as a comment under the comment or post that mentions the account "
    "(Instagram's mentions API; text only). A private message is possible only once this "
    "person writes to the account; mentions in Stories arrive as DMs."
)


def mention_window() -> ReplyWindow:
    """What the composer says on a mention before the agent types."""
    return ReplyWindow(allowed=True, reason=str(MENTION_WINDOW_REASON))


def comment_window(
    last_inbound_at: dt.datetime | None, private_window: dt.timedelta
) -> ReplyWindow:
    """What the composer says on a comment: a public reply any time, a private one (one per
    comment) within ``private_window`` of it."""
    if last_inbound_at is None:
        return ReplyWindow(allowed=True)
    closes = last_inbound_at + private_window
    if timezone.now() < closes:
        return ReplyWindow(
            allowed=True,
            reason=_(
                "Public reply any time. Move to DM (one private reply per comment) until %(until)s."
            )
            % {"until": local_time(closes)},
            closes_at=closes,
        )
    return ReplyWindow(
        allowed=True,
        reason=_(
            "Public reply only: Instagram allows a private reply within 7 days of the comment."
        ),
    )


def mention_target(reply: OutboundReply) -> dict[str, str]:
    """``media_id`` and, for a mention in a comment, ``comment_id`` of ``POST /mentions``."""
    prefix, _, ident = reply.thread_key.partition(":")
    if prefix != "mention" or not ident:
        raise PermanentError(f"Thread {reply.thread_key!r} is not an Instagram mention.")
    answered = reply.in_reply_to or ident
    if reply.in_reply_to_parent:
        # A comment on someone's media: the comment, and the media it is on.
        return {"media_id": reply.in_reply_to_parent, "comment_id": answered}
    return {"media_id": answered}


def mention_reply(connector: InstagramConnector, reply: OutboundReply) -> SendResult:
    """Post the agent's public answer to a mention (``POST /{ig-id}/mentions``)."""
    if reply.attachments:
        raise PermanentError(
            "Instagram's answer to a mention is a comment: text only. Send files by DM once "
            "this person writes to the account."
        )
    account = connector.require_own_id()
    result = connector._post(f"{account}/mentions", message=reply.text, **mention_target(reply))
    return SendResult(
        external_id=connector._sent_id(result, what="the reply to the mention"), raw=result
    )


def mention_find_sent(reply: OutboundReply) -> SendResult | None:
    """Meta lists no replies on someone else's media for us: an unknown outcome stays
    unknown and is shown, never posted again."""
    raise OutcomeUnknown("Instagram offers no way to look up a reply to a mention.")
