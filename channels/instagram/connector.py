"""One channel kind per Instagram professional account: comments, mentions and DMs.

Instagram API with Instagram Login (graph.instagram.com): no Facebook Page needed. The Facebook
Login route (the same account through its linked Page's token, graph.facebook.com) is not
offered: see docs/channels/instagram.md.

Reply modes: ``public`` answers a comment in its thread (``POST /{comment-id}/replies``);
``private`` ("move to DM") sends the commenter one private reply (``POST /{ig-id}/messages``
with ``recipient={"comment_id": ...}``, once per comment, within 7 days of it); ``dm`` answers a
conversation (``recipient={"id": IGSID}``) inside 24 hours of the customer's last message, or
with the ``HUMAN_AGENT`` tag up to 7 days where Meta approved the app for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any, ClassVar

from django.core.cache import cache
from django.utils import timezone

from webcare.public_links import PUBLIC_URL_NEEDED, public_base

from ..base import (
    ConnectionInfo,
    Connector,
    FetchResult,
    InboundItem,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    ReplyWindow,
    SendResult,
    check_attachments,
)
from ..facebook.connector import MetaConnector, _int
from ..facebook.media import META_MEDIA_HOSTS
from ..facebook.polling import FIRST_POLL_LOOKBACK, OVERLAP
from ..meta.account import MetaAccount
from ..meta.conversations import recent_conversations
from ..meta.messaging import (
    HUMAN_AGENT_WINDOW,
    MESSENGER_WINDOW,
    HumanAgentMessaging,
)
from ..meta.moderation import visibility_set
from ..meta.send import PRIVATE_REPLY, earlier_attempt, is_private_reply, private_reply_post
from ..registry import register
from . import client, normalize, replies
from .webhooks import InstagramIntake

log = logging.getLogger(__name__)

PRIVATE_REPLY_WINDOW = dt.timedelta(days=7)
COMMENT_FIELDS = "id,text,timestamp,from,username,parent_id"
MEDIA_FIELDS = "id,caption,timestamp,permalink,comments_count,media_type"
MESSAGE_FIELDS = "id,created_time,from,to,message,attachments"
# Back off when Meta reports this share of a rate limit used (X-App-Usage and
# X-Business-Use-Case-Usage percentages), before its limit answers with code 4/17/32/613.
DEFAULT_USAGE_BACKOFF_PERCENT = 90
USAGE_KEY = "instagram:usage:{channel_id}"


@register
class InstagramConnector(HumanAgentMessaging, MetaAccount, Connector):
    kind = "instagram"
    label = "Instagram"
    short_label = "Instagram"
    icon = "◉"
    colour = "#be185d"
    platform = "instagram"
    reply_modes = ("public", PRIVATE_REPLY, "dm")
    hide_kinds = ("comment",)
    window_name = "Instagram"
    private_reply_limit = PRIVATE_REPLY_WINDOW  # one per comment, within 7 days of it
    text_limit = 1000  # DMs take 1,000 bytes of text; comments 2,200 characters
    ticket_kinds = ("comment", "mention", "dm")
    required_scopes: ClassVar[tuple[str, ...]] = (
        "instagram_business_basic",
        "instagram_business_manage_comments",
        "instagram_business_manage_messages",
    )
    credential_fields: ClassVar[dict[str, str]] = {
        "access_token": (
            "A long-lived Instagram User access token (Business Login for Instagram, 60 days). "
            "Webcare refreshes it automatically before it expires."
        ),
    }
    settings_fields: ClassVar[dict[str, str]] = {
        "account_id": "The Instagram professional account id (filled in by 'Test connection').",
        "media_depth": "How many of the latest posts and reels a poll checks for comments.",
        "human_agent_approved": (
            "On when Meta approved this app's Human Agent permission: agents may then answer "
            "DMs up to 7 days after the customer's last message (HUMAN_AGENT tag)."
        ),
        "usage_backoff_percent": (
            "Pause polling when Meta reports this share (%) of a rate limit used."
        ),
    }
    settings_types: ClassVar[dict[str, str]] = {
        "media_depth": "int",
        "human_agent_approved": "bool",
        "usage_backoff_percent": "int",
    }
    settings_defaults: ClassVar[dict[str, Any]] = {
        "media_depth": 10,
        "human_agent_approved": False,
        "usage_backoff_percent": DEFAULT_USAGE_BACKOFF_PERCENT,
    }
    # Meta's Send API takes image and video attachments by URL (docs/channels/instagram.md).
    attachment_limits: ClassVar[dict[str, Any]] = {
        "kinds": ("image", "video"),
        "mime_types": ("image/jpeg", "image/png", "image/gif", "video/mp4", "video/quicktime"),
        "max_bytes": 8 * 1024 * 1024,
        "max_count": 1,
    }
    # Where Instagram's media come from: Meta's CDNs (as Facebook's, channels.facebook.media)
    # and the CDN of Instagram posts. A leading "." takes every host under it.
    media_hosts: ClassVar[tuple[str, ...]] = (*META_MEDIA_HOSTS, ".cdninstagram.com")
    # Meta fetches each attachment from a link (no upload with Instagram Login).
    attachments_by_link = True
    webhook = InstagramIntake()

    # --- plumbing -----------------------------------------------------------------------------
    credential_key = "access_token"
    account_setting = "account_id"
    credential_label = "Instagram access token"
    missing_account = "The channel has no Instagram account id: run Test connection."
    graph_client = staticmethod(client.graph_api)

    @property
    def account_id(self) -> str:
        return self.own_id

    def _require_account(self) -> str:
        return self.require_own_id()

    def _call(self, method, path: str, **args: Any) -> dict[str, Any]:
        """One Graph call, refused beforehand while Meta's reported usage is above the back-off
        line; the usage of each answer is remembered for the next call and channel health."""
        self._check_usage()
        try:
            return method(self.graph, path, **args)
        finally:
            self._remember_usage()

    def _get(self, path: str, **args: Any) -> dict[str, Any]:
        return self._call(client.get, path, **args)

    def _post(self, path: str, **data: Any) -> dict[str, Any]:
        return self._call(client.post, path, **data)

    def usage(self) -> dict[str, Any]:
        return cache.get(USAGE_KEY.format(channel_id=self.channel.id)) or {}

    def _remember_usage(self) -> None:
        session = getattr(self.__dict__.get("graph"), "session", None)
        found = getattr(session, "usage", None)
        if found:
            found = {**found, "at": timezone.now().isoformat()}
            cache.set(USAGE_KEY.format(channel_id=self.channel.id), found, 3600)

    def _check_usage(self) -> None:
        usage = self.usage()
        line = _int(self.channel.settings.get("usage_backoff_percent"), 90)
        percent = float(usage.get("percent") or 0)
        if percent < line:
            return
        seen = timezone.now()
        with contextlib.suppress(ValueError):
            seen = dt.datetime.fromisoformat(usage.get("at") or "")
        wait = dt.timedelta(minutes=max(int(usage.get("regain_minutes") or 0), 5))
        until = seen + wait
        if until <= timezone.now():
            return
        raise RateLimited(
            f"Meta reports {percent:.0f}% of Instagram's rate limit used (back-off at {line}%): "
            f"pausing until {until:%H:%M} UTC.",
            until=until,
        )

    # --- connecting ---------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        me = self._get("me", fields="user_id,username,name,account_type")
        account = str(me.get("user_id") or me.get("id") or "")
        if self.account_id and account and account != self.account_id:
            raise PermanentError(
                f"This token belongs to Instagram account {account} (@{me.get('username', '')}),"
                f" not to the configured account {self.account_id}."
            )
        return ConnectionInfo(
            account_id=account,
            handle=str(me.get("username") or ""),
            display_name=str(me.get("name") or me.get("username") or ""),
            detail=self.notice(),
        )

    def notice(self) -> str:
        """Token expiry and rate-limit usage an admin should know about, or ""."""
        return " ".join(self.channel_notices())

    def channel_notices(self) -> list[str]:
        """Shown in channel health: when the token expires (refreshed automatically before)
        and how much of Meta's rate limit the last answer reported used."""
        parts = []
        expires = client.parse_time(self.channel.credentials.get("expires_at"))
        if expires is not None:
            parts.append(
                f"Token valid until {expires:%Y-%m-%d %H:%M} UTC (refreshed automatically)."
            )
        if not public_base():
            parts.append(f"DM attachments are off. {PUBLIC_URL_NEEDED}")
        usage = self.usage()
        line = _int(self.channel.settings.get("usage_backoff_percent"), 90)
        if usage.get("percent"):
            parts.append(
                f"Rate limit used: {float(usage['percent']):.0f}% (Meta's usage headers; "
                f"polling pauses at {line}%)."
            )
        return parts

    # The configured Graph version near or past Meta's end date, as on the Facebook channels.
    @classmethod
    def health_notices(cls, *, today: dt.date) -> list[str]:
        return MetaConnector.health_notices(today=today)

    # --- reading ------------------------------------------------------------------------------
    @staticmethod
    def _since(cursor: dict[str, Any]) -> dt.datetime:
        return client.parse_time(cursor.get("since")) or timezone.now() - FIRST_POLL_LOOKBACK

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        """Reconciliation: recent media → their comments and replies; recent conversations →
        their messages. Webhooks deliver the same ids; the database keeps one of each."""
        account = self._require_account()
        since = self._since(cursor)
        floor = since - OVERLAP
        depth = _int(self.channel.settings.get("media_depth"), 10)
        items: list[InboundItem] = []
        calls = 1
        media = self._get(f"{account}/media", fields=MEDIA_FIELDS, limit=min(depth, 50))
        for post in (media.get("data") or [])[:depth]:
            if not isinstance(post, dict) or not post.get("id") or not post.get("comments_count"):
                continue
            try:
                found, used = self._media_comments(post, floor)
            except PermanentError as exc:
                log.info("skipping media %s of channel %s: %s", post["id"], self.channel.id, exc)
                calls += 1
                continue
            items.extend(found)
            calls += used
        found, used = self._conversations(floor)
        items.extend(found)
        calls += used
        newest = max([since, *(i.sent_at for i in items)])
        return FetchResult(items=items, cursor={"since": newest.isoformat()}, calls=calls)

    def _media_comments(self, post: dict[str, Any], floor) -> tuple[list[InboundItem], int]:
        items: list[InboundItem] = []
        calls = 0
        for batch, used in client.pages(
            self.graph,
            f"{post['id']}/comments",
            max_pages=3,
            fields=f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}",
            limit=50,
        ):
            calls = used
            for comment in batch:
                replies = (comment.get("replies") or {}).get("data") or []
                for raw in (comment, *replies):
                    item = normalize.comment_item(
                        raw,
                        account_id=self.account_id,
                        handle=self.channel.own_handle,
                        media={"id": post["id"], "permalink": post.get("permalink", "")},
                    )
                    if item is not None and raw is not comment:
                        # A reply listed under its comment may omit parent_id.
                        item = _in_thread(item, str(comment.get("id")))
                    if item is not None and item.sent_at >= floor:
                        items.append(item)
        self._remember_usage()
        return items, calls

    def _conversations(self, floor) -> tuple[list[InboundItem], int]:
        items: list[InboundItem] = []
        conversations, calls = recent_conversations(
            self.graph,
            self.account_id,
            platform="instagram",
            message_fields=MESSAGE_FIELDS,
            floor=floor,
        )
        for conversation in conversations:
            igsid, username = normalize.conversation_igsid(conversation, account_id=self.account_id)
            for message in (conversation.get("messages") or {}).get("data") or []:
                item = normalize.conversation_message_item(
                    message, account_id=self.account_id, igsid=igsid, username=username
                )
                if item is not None and item.sent_at >= floor:
                    items.append(item)
        self._remember_usage()
        return items, calls

    def mention(self, ref: normalize.MentionRef, *, entry_time: Any = None) -> InboundItem | None:
        """What a ``mentions`` webhook (ids only) points at: ``channels.instagram.mentions``."""
        from .mentions import mention_item

        return mention_item(self, ref, entry_time=entry_time)

    # --- replying -----------------------------------------------------------------------------
    @classmethod
    def reply_modes_for(cls, ticket_kind: str) -> tuple[str, ...]:
        """A DM conversation is answered by DM; a comment publicly or moved to DM; a mention
        (on someone else's post) publicly, through ``POST /{ig-id}/mentions``."""
        if ticket_kind == "dm":
            return ("dm",)
        if ticket_kind == "comment":
            return ("public", PRIVATE_REPLY)
        return ("public",)

    def reply_window(self, *, ticket_kind: str, last_inbound_at: dt.datetime | None) -> ReplyWindow:
        if ticket_kind == "mention":
            return replies.mention_window()
        if ticket_kind == "comment":
            return replies.comment_window(last_inbound_at, PRIVATE_REPLY_WINDOW)
        # DMs: Messenger's rules, which Instagram shares (24 hours; HUMAN_AGENT 7 days).
        return super().reply_window(ticket_kind=ticket_kind, last_inbound_at=last_inbound_at)

    def send(self, reply: OutboundReply) -> SendResult:
        if is_private_reply(reply):
            return self._private_reply(reply)
        if reply.mode == "dm" or reply.thread_key.startswith("dm:"):
            return self._dm(reply)
        if reply.thread_key.startswith("mention:"):
            return replies.mention_reply(self, reply)
        return self._comment_reply(reply)

    def _comment_target(self, reply: OutboundReply) -> str:
        prefix, _, ident = reply.thread_key.partition(":")
        if prefix == "comment" and ident:
            return ident
        raise PermanentError(f"Cannot tell which comment to answer in thread {reply.thread_key!r}.")

    def _comment_reply(self, reply: OutboundReply) -> SendResult:
        if reply.attachments:
            raise PermanentError("Instagram comments take text only: send the file by DM.")
        target = self._comment_target(reply)
        result = self._post(f"{target}/replies", message=reply.text)
        return SendResult(external_id=self._sent_id(result, what="the reply"), raw=result)

    @staticmethod
    def _sent_id(result: Any, *, what: str, key: str = "id") -> str:
        return client.sent_id(result, key=key, what=what, platform=client.PLATFORM)

    def _private_reply(self, reply: OutboundReply) -> SendResult:
        account = self._require_account()
        comment_id = str(reply.options.get("comment_id") or reply.in_reply_to)
        if not comment_id or not reply.thread_key.startswith("comment:"):
            raise PermanentError("A private reply needs a comment to answer.")
        message_id, result = private_reply_post(
            self._post, account, {"comment_id": comment_id}, reply.text, platform=client.PLATFORM
        )
        return SendResult(external_id=message_id, raw=result)

    def _dm(self, reply: OutboundReply) -> SendResult:
        account = self._require_account()
        igsid = self.dm_recipient(reply)
        check_attachments(self, reply.attachments)
        extra = self.tag_fields(reply.options)
        last: dict[str, Any] = {}
        ids = []
        # Text and each attachment are separate messages on Instagram; the text goes last so
        # find_sent can recognise the reply by it.
        for attachment in reply.attachments:
            last = self._post(
                f"{account}/messages",
                recipient={"id": igsid},
                message={
                    "attachment": {
                        "type": attachment.kind,
                        "payload": {"url": _public_url(attachment)},
                    }
                },
                **extra,
            )
            ids.append(str(last.get("message_id") or ""))
        if reply.text.strip() or not reply.attachments:
            last = self._post(
                f"{account}/messages",
                recipient={"id": igsid},
                message={"text": reply.text},
                **extra,
            )
            ids.append(str(last.get("message_id") or ""))
        if not ids or not ids[-1]:
            raise OutcomeUnknown("Instagram accepted the message but returned no id.")
        return SendResult(external_id=ids[-1], raw={**last, "message_ids": ids})

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        if is_private_reply(reply):
            raise OutcomeUnknown("Instagram offers no way to look up a private reply.")
        if reply.thread_key.startswith("mention:"):
            return replies.mention_find_sent(reply)
        if reply.mode == "dm" or reply.thread_key.startswith("dm:"):
            page = self._get(
                f"{self._require_account()}/conversations",
                platform="instagram",
                user_id=self.dm_recipient(reply),
                fields="messages.limit(25){id,message,from,created_time}",
            )
            candidates = [
                (m, m.get("message"), m.get("created_time"))
                for c in page.get("data") or []
                for m in (c.get("messages") or {}).get("data") or []
            ]
        else:
            page = self._get(
                f"{self._comment_target(reply)}/replies", fields=COMMENT_FIELDS, limit=50
            )
            candidates = [(c, c.get("text"), c.get("timestamp")) for c in page.get("data") or []]
        return earlier_attempt(
            reply,
            (
                (candidate, self._is_ours(candidate), text, client.parse_time(created))
                for candidate, text, created in candidates
            ),
        )

    def _is_ours(self, candidate: dict[str, Any]) -> bool:
        author = normalize._author(candidate.get("from"), candidate.get("username"))
        return normalize._is_ours(
            author, account_id=self.account_id, handle=self.channel.own_handle
        )

    # --- moderation ---------------------------------------------------------------------------
    def set_hidden(self, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a comment on the account's media (``POST /{comment-id}?hide=``)."""
        visibility_set(self._post, comment_id, hidden, field="hide", platform="Instagram")

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment on the account's media (``DELETE /{comment-id}``)."""
        result = self._call(client.delete, comment_id)
        if isinstance(result, dict) and result.get("success") is False:
            raise PermanentError("Instagram did not delete the comment.")


def _in_thread(item: InboundItem, top: str) -> InboundItem:
    from dataclasses import replace

    return replace(item, thread_key=normalize.comment_thread(item.external_id, top))


def _public_url(attachment) -> str:
    """Meta downloads DM attachments from a URL (Instagram Login has no upload): the signed,
    expiring link Webcare serves under ``WEBCARE_PUBLIC_URL`` (``webcare.public_links``)."""
    url = attachment.public_url or ""
    if not url.startswith("https://"):
        raise PermanentError(PUBLIC_URL_NEEDED)
    return url


__all__ = ["InstagramConnector", "MESSENGER_WINDOW", "HUMAN_AGENT_WINDOW"]
