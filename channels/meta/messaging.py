"""Messenger's rules for a business's direct messages, which Instagram shares: a reply within
24 hours of the customer's last message, and after that, for accounts Meta approved for it,
the HUMAN_AGENT tag for 7 days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..base import OutboundReply, PermanentError, ReplyWindow

MESSENGER_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
HUMAN_AGENT = "HUMAN_AGENT"


def local_time(value: dt.datetime) -> str:
    """An instant as the agent reads it: their time zone and their language's short format."""
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class HumanAgentMessaging:
    """Mixin of the Meta DM connectors: the reply window, the DM thread's recipient and the
    HUMAN_AGENT fields, from the channel's ``human_agent_approved`` setting."""

    channel: Any

    def human_agent_approved(self) -> bool:
        return _truthy(self.channel.settings.get("human_agent_approved", ""))

    def reply_window(self, *, ticket_kind: str, last_inbound_at: dt.datetime | None) -> ReplyWindow:
        """Whether a DM may be sent now: inside 24 hours, or with the tag within 7 days. The
        reasons are in the agent's language (the request's), with the time in their zone."""
        platform = getattr(self, "window_name", "") or "Messenger"
        if last_inbound_at is None:
            return ReplyWindow(
                allowed=False,
                reason=_(
                    "%(platform)s allows a reply only after the customer has written to the "
                    "account."
                )
                % {"platform": platform},
            )
        now = timezone.now()
        closes = last_inbound_at + MESSENGER_WINDOW
        if now < closes:
            return ReplyWindow(allowed=True, closes_at=closes)
        tagged_until = last_inbound_at + HUMAN_AGENT_WINDOW
        if self.human_agent_approved() and now < tagged_until:
            return ReplyWindow(
                allowed=False,
                reason=_(
                    "More than 24 hours since the customer's last message: a normal reply is "
                    "refused. As a person answering, you can still send it with the Human Agent "
                    "tag until %(until)s."
                )
                % {"until": local_time(tagged_until)},
                closes_at=tagged_until,
                options=(HUMAN_AGENT,),
            )
        if self.human_agent_approved():
            reason = _(
                "More than 24 hours since the customer's last message: %(platform)s refuses a "
                "reply (also past the Human Agent tag's 7 days). You can answer once the customer "
                "writes again."
            )
        else:
            reason = _(
                "More than 24 hours since the customer's last message: %(platform)s refuses a "
                "reply. You can answer once the customer writes again."
            )
        return ReplyWindow(allowed=False, reason=reason % {"platform": platform}, closes_at=closes)

    def dm_recipient(self, reply: OutboundReply) -> str:
        """The person's page-scoped id (PSID, IGSID): from the ``dm:`` thread key, else the
        reply's recipient."""
        prefix, _, psid = reply.thread_key.partition(":")
        if prefix == "dm" and psid:
            return psid
        if reply.recipient_id:
            return reply.recipient_id
        raise PermanentError("No recipient for this DM thread.")

    def tag_fields(self, options: dict[str, Any]) -> dict[str, str]:
        """The Send API fields of a reply sent with the HUMAN_AGENT tag ({} without it); only
        where the channel's settings say Meta approved the app for it (Messenger and
        Instagram alike)."""
        if not self.wants_human_agent(options):
            return {}
        if not self.human_agent_approved():
            raise PermanentError(
                "The Human Agent tag is only for accounts Meta approved for it; this channel's "
                "settings do not say it is (human_agent_approved)."
            )
        return {"messaging_type": "MESSAGE_TAG", "tag": HUMAN_AGENT}

    @staticmethod
    def wants_human_agent(options: dict[str, Any]) -> bool:
        tag = options.get("tag") or options.get("option") or ""
        return str(tag).upper() == HUMAN_AGENT or bool(options.get(HUMAN_AGENT))
