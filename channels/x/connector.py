"""The X (Twitter) connector: mentions, DMs and keyword searches in; public replies and DMs out.

Talks to X API v2 through tweepy 4.17's ``Client`` (see ``client.py`` for how it is built and
how its errors map to ours). API facts, with sources: docs/channels/x.md.

The channel cursor holds one entry per stream, each advanced only in the transaction that
stores its items (``inbox.ingest.services``)::

    {"mentions": {"since_id": ..., "next_token": ..., "newest_id": ...},
     "dms": {"newest_id": ..., "next_token": ..., "pending_newest": ...},
     "search": {"<query>": {"since_id": ..., "next_token": ..., "newest_id": ...}},
     "partial_errors": [...]}

A fetch reads the first page of every stream; while any stream has more pages, the next fetch
reads only those (``FetchResult.more``). ``since_id`` moves to the first page's ``newest_id``
only when the last page is stored, so a poll stopped half-way never skips tweets.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from typing import Any

from ..base import (
    ConnectionInfo,
    Connector,
    FetchResult,
    InboundAttachment,
    MediaRequest,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    check_attachments,
)
from ..registry import register
from . import client as x_client
from . import counting, normalize, polling, webhook
from . import upload as x_upload

# How far back find_sent looks: a reply is reconciled within minutes of its cut-off attempt.
FIND_SENT_PAGE = 100
# Clock skew allowed between our queue time and X's created_at. Small on purpose: an identical
# earlier DM ("Thanks!") just before this reply was queued must not pass for this one.
FIND_SENT_SKEW = dt.timedelta(seconds=10)


def comparable_text(text: str) -> str:
    """Text as X may hand it back: HTML-unescaped, leading @handles (added to replies) and URLs
    (shortened to t.co) left out, whitespace collapsed, NFC."""
    text = unicodedata.normalize("NFC", html.unescape(text or ""))
    text = re.sub(r"^(?:\s*@\w+)+\s*", "", text)
    text = re.sub(r"https?://\S+", "<url>", text)
    return " ".join(text.split())


def _without_media_link(text: str) -> str:
    """Comparable text without the trailing link X adds for attached media."""
    return re.sub(r"\s*<url>$", "", text)


@register
class XConnector(Connector):
    kind = "x"
    label = "X (Twitter)"
    short_label = "X"
    icon = "𝕏"
    colour = "#0f172a"
    platform = "x"
    reply_modes = ("public", "dm")
    text_limit = counting.MAX_WEIGHTED_LENGTH
    ticket_kinds = ("mention", "reply", "dm", "listening")
    credential_fields = {
        "consumer_key": "API key of your X app (OAuth 1.0a consumer key).",
        "consumer_secret": "API key secret; also signs webhook deliveries (CRC and signature).",
        "access_token": "Access token of the brand account (user context).",
        "access_token_secret": "Access token secret of the brand account.",
        "bearer_token": "Optional app bearer token, used for reads when no user token is set.",
    }
    settings_fields = {
        "keywords": "Listening queries, one per line, in X search syntax (e.g. "
        '"acme parcel" -is:retweet). Hits not addressed to you become listening tickets.',
        "monthly_read_budget": "API reads allowed per month (X bills per call); when spent, "
        "polling slows to hourly. Empty: no limit.",
        "monthly_post_budget": "Replies allowed per month; the health page shows when it is "
        "spent. Empty: no limit.",
        "fetch_dms": "Poll direct messages (default on; needs DM permission on the app).",
        "usage_cap_reset_day": "Day of the month your X plan's usage cap resets (the developer "
        "console's billing day; cap_reset_day in X's usage API). When X says the cap is "
        "reached, polling waits until then. Empty: the 1st.",
    }

    settings_types = {
        "keywords": "list",
        "monthly_read_budget": "int",
        "monthly_post_budget": "int",
        "fetch_dms": "bool",
        "usage_cap_reset_day": "int",
    }
    settings_defaults = {"fetch_dms": True}

    # Post media are public on pbs.twimg.com (photos, video stills) and video.twimg.com (mp4s);
    # DM media on ton.twitter.com need the account's OAuth 1.0a signature (media_request).
    media_hosts = ("pbs.twimg.com", "video.twimg.com", "ton.twitter.com", "ton.twimg.com")
    # X media upload: photos JPEG/PNG/WEBP up to 5 MB, GIFs up to 15 MB, MP4 video up to
    # 512 MB; a post takes up to 4 photos or 1 video or GIF, a DM one (docs/channels/x.md).
    attachment_limits = {
        "kinds": ("image", "video"),
        "mime_types": ("image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"),
        "max_bytes": 5 * 1024 * 1024,
        "max_bytes_by_kind": {"video": 512 * 1024 * 1024},
        "max_bytes_by_type": {"image/gif": 15 * 1024 * 1024},
        "max_count": 4,
    }

    # Account Activity webhooks: CRC and signed events (see webhook.py), through the one
    # intake path (channels.intake).
    webhook = webhook.XIntake()

    # --- client and account ----------------------------------------------------------------
    def _call(self, fn, *args: Any, **kwargs: Any):
        """One API call through ``client.call``, knowing when this channel's usage cap resets."""
        return x_client.call(fn, *args, cap_reset_day=self._cap_reset_day, **kwargs)

    @property
    def _cap_reset_day(self) -> int | None:
        try:
            day = int(self.channel.settings.get("usage_cap_reset_day") or 0)
        except (TypeError, ValueError):
            return None
        return day if 1 <= day <= 31 else None

    @property
    def api(self):
        if not hasattr(self, "_api"):
            self._api = x_client.make_client(self.channel.credentials)
        return self._api

    @property
    def user_auth(self) -> bool:
        return x_client.has_user_context(self.channel.credentials)

    @property
    def own_id(self) -> str:
        if self.channel.own_account_id:
            return str(self.channel.own_account_id)
        # An OAuth 1.0a access token starts with the account's user id and a "-".
        token = str(self.channel.credentials.get("access_token") or "")
        head, dash, _ = token.partition("-")
        return head if dash and head.isdigit() else ""

    @classmethod
    def usage_estimate(cls, usage: dict[str, Any]) -> str:
        """This month's estimated X bill for the channel's page (prices: settings X_PRICE_*)."""
        return counting.cost_summary(usage)

    @classmethod
    def count_text(cls, text: str) -> int:
        return counting.weighted_length(text)

    @classmethod
    def count_rule(cls) -> dict[str, Any]:
        return counting.count_rule()

    # --- fetch -----------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        """Mentions, DM events and searches, one page each (``channels.x.polling``)."""
        return polling.fetch(self, cursor)

    @property
    def _own_handle(self) -> str:
        # "Test connection" stores the handle on the channel; a setting may override it.
        handle = self.channel.settings.get("own_handle") or self.channel.own_handle
        return str(handle or "").lstrip("@")

    # --- send ------------------------------------------------------------------------------
    def send(self, reply: OutboundReply) -> SendResult:
        length = self.count_text(reply.text)
        if length > counting.MAX_WEIGHTED_LENGTH:
            raise PermanentError(
                f"The reply is {length} characters as X counts them; X allows "
                f"{counting.MAX_WEIGHTED_LENGTH}."
            )
        self._check_media(reply)
        if reply.mode == "dm":
            return self._send_dm(reply)
        if reply.thread_key.startswith("dm:"):
            raise PermanentError(
                "A direct message conversation can only be answered by direct message."
            )
        if not reply.in_reply_to:
            raise PermanentError("There is no tweet to reply to in this conversation.")
        # Uploads first: an uploaded file is not visible to anyone until a post names it, so a
        # retry that uploads again posts nothing twice. The post itself is one call.
        media = {"media_ids": self._upload(reply, "tweet")} if reply.attachments else {}
        data = self._call(
            self.api.create_tweet,
            text=reply.text or None,
            in_reply_to_tweet_id=reply.in_reply_to,
            sending=True,
            **media,
        )
        tweet = (data or {}).get("data") or {}
        if not tweet.get("id"):
            raise OutcomeUnknown("X accepted the reply but returned no tweet id.")
        return SendResult(
            external_id=str(tweet["id"]),
            url=f"https://x.com/i/web/status/{tweet['id']}",
            raw=tweet,
        )

    def _send_dm(self, reply: OutboundReply) -> SendResult:
        if reply.thread_key.startswith("dm:"):
            target = {"dm_conversation_id": reply.thread_key[3:]}
        elif reply.recipient_id:
            target = {"participant_id": reply.recipient_id}
        else:
            raise PermanentError("No one to send this direct message to.")
        if reply.attachments:
            target["media_id"] = self._upload(reply, "dm")[0]
        data = self._call(
            self.api.create_direct_message, text=reply.text or None, sending=True, **target
        )
        event = (data or {}).get("data") or {}
        if not event.get("dm_event_id"):
            raise OutcomeUnknown("X accepted the message but returned no event id.")
        return SendResult(external_id=str(event["dm_event_id"]), raw=event)

    def _check_media(self, reply: OutboundReply) -> None:
        files = reply.attachments
        check_attachments(self, files)
        by_type = self.attachment_limits["max_bytes_by_type"]
        for attachment in files:
            cap = by_type.get(attachment.mime_type)
            if cap and attachment.size > cap:
                raise PermanentError(f"{attachment.name}: X takes GIFs up to 15 MB.")
        moving = [a for a in files if a.kind == "video" or a.mime_type == "image/gif"]
        if moving and len(files) > 1:
            raise PermanentError("X takes one video or GIF per post, and nothing beside it.")
        if reply.mode == "dm" and len(files) > 1:
            raise PermanentError("An X direct message carries one photo, video or GIF.")

    def _upload(self, reply: OutboundReply, where: str) -> list[str]:
        """Upload each attachment through X API v2 (``upload.py``); their media ids, in order."""
        day = self._cap_reset_day
        return [x_upload.upload(self.api, a, where, cap_reset_day=day) for a in reply.attachments]

    def media_request(self, attachment: InboundAttachment) -> MediaRequest:
        """Post media are public; a DM's media (ton.twitter.com) is fetched with the account's
        OAuth 1.0a signature."""
        request = super().media_request(attachment)
        from urllib.parse import urlsplit

        host = (urlsplit(request.url).hostname or "").lower()
        if host in ("ton.twitter.com", "ton.twimg.com"):
            headers = x_client.oauth1_headers(self.channel.credentials, request.url)
            return MediaRequest(url=request.url, headers=headers)
        return request

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        """Our recent replies on X, for one with this text posted after the reply was queued.

        Raises TemporaryError/RateLimited when X cannot be asked now (the delivery retries)."""
        since = (reply.created_at or dt.datetime.now(tz=dt.UTC)) - FIND_SENT_SKEW
        wanted = comparable_text(reply.text)

        def same(text: str) -> bool:
            found = comparable_text(text)
            # With media, X appends the media's t.co link to the text it hands back.
            return (
                found == wanted
                or bool(reply.attachments)
                and (_without_media_link(found) == wanted)
            )

        if reply.mode == "dm":
            params: dict[str, Any] = {}
            if reply.thread_key.startswith("dm:"):
                params["dm_conversation_id"] = reply.thread_key[3:]
            elif reply.recipient_id:
                params["participant_id"] = reply.recipient_id
            page = self._call(
                self.api.get_direct_message_events,
                dm_event_fields=normalize.DM_EVENT_FIELDS,
                event_types="MessageCreate",
                max_results=FIND_SENT_PAGE,
                **params,
            )
            for event in page.get("data") or []:
                created = normalize.parse_time(event.get("created_at"))
                if (
                    str(event.get("sender_id") or "") == self.own_id
                    and (created is None or created >= since)
                    and same(event.get("text") or "")
                ):
                    return SendResult(external_id=str(event["id"]), raw=event)
            return None
        page = self._call(
            self.api.get_users_tweets,
            self.own_id,
            start_time=since,
            max_results=FIND_SENT_PAGE,
            tweet_fields=["created_at", "conversation_id", "referenced_tweets"],
            exclude=["retweets"],
            user_auth=self.user_auth,
        )
        for tweet in page.get("data") or []:
            replied_to = {
                str(r.get("id"))
                for r in tweet.get("referenced_tweets") or []
                if r.get("type") == "replied_to"
            }
            if reply.in_reply_to and replied_to and reply.in_reply_to not in replied_to:
                continue
            created = normalize.parse_time(tweet.get("created_at"))
            if created is not None and created < since:
                continue
            if same(tweet.get("text") or ""):
                return SendResult(
                    external_id=str(tweet["id"]),
                    url=f"https://x.com/i/web/status/{tweet['id']}",
                    raw=tweet,
                )
        return None

    # --- setup -----------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        data = self._call(
            self.api.get_me,
            user_fields=["username", "name", "public_metrics", "verified"],
            user_auth=self.user_auth,
        )
        user = (data or {}).get("data") or {}
        followers = (user.get("public_metrics") or {}).get("followers_count")
        return ConnectionInfo(
            account_id=str(user.get("id") or ""),
            handle=user.get("username") or "",
            display_name=user.get("name") or "",
            detail=f"{followers} followers" if followers is not None else "",
        )
