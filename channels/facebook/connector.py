"""Two channel kinds on one Facebook Page: its feed (comments, visitor posts) and Messenger.

Both share ``platform = "facebook"``, so one person is one Identity whichever way they write.
They are separate kinds because they differ in everything an admin and an agent deal with:
permissions (``pages_read_user_content`` vs ``pages_messaging``), reply rules (public comment vs
a 24-hour window), ticket kinds and polling cost; a Page can run either alone. Both use the same
Page access token and the same webhook code (``channels.facebook.webhooks``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from channels.payload import child

from ..base import (
    AuthError,
    ConnectionInfo,
    Connector,
    ConnectorError,
    FetchResult,
    IdentityHint,
    InboundAuthor,
    InboundItem,
    OutboundAttachment,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    ReplyWindow,
    SendResult,
    check_attachments,
)
from ..meta.account import MetaAccount
from ..meta.conversations import recent_conversations
from ..registry import register
from . import client, media, normalize
from .webhooks import MetaIntake

log = logging.getLogger(__name__)

# A poll looks this far behind its last watermark, so late-indexed comments are not missed; the
# database drops what it already has.
OVERLAP = dt.timedelta(minutes=10)
FIRST_POLL_LOOKBACK = dt.timedelta(days=2)
# A reply found by find_sent must be younger than the reply itself, give or take clock skew.
CLOCK_SKEW = dt.timedelta(seconds=60)
MESSENGER_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
HUMAN_AGENT = "HUMAN_AGENT"
# The reply mode of "move to DM" (Message.reply_mode holds at most 10 characters).
PRIVATE_REPLY = "private"
RATINGS_LAST_VERSION = 21.0  # recommendations answer error 12 from v22.0
# How long the parts of a multi-part Messenger reply already sent are remembered (a reply is
# retried within hours; a week covers any backoff).
PARTS_TTL = 7 * 24 * 3600
# The ``metadata`` the Send API echoes back on our own attachment messages: those echoes are
# parts of a reply we store as one message, not new messages from the Page.
PART_METADATA = normalize.REPLY_PART_METADATA

# A comment's ``attachment`` and a post's ``attachments`` are story attachments (photo, album
# subattachments, video, sticker, GIF, share); a message's ``attachments`` are files with
# image_data/video_data/file_url, and ``sticker`` its sticker's image (docs/channels/facebook.md).
STORY_ATTACHMENT = "type,media_type,media,url,unshimmed_url,title,description,target"
COMMENT_FIELDS = (
    f"id,from,message,created_time,parent{{id}},permalink_url,attachment{{{STORY_ATTACHMENT}}}"
)
POST_FIELDS = (
    "id,message,story,created_time,updated_time,from,permalink_url,status_type,"
    f"attachments{{{STORY_ATTACHMENT},subattachments}}"
)
MESSAGE_FIELDS = (
    "id,created_time,from,to,message,sticker,"
    "attachments{id,mime_type,name,size,image_data,video_data,file_url}"
)
RATING_FIELDS = (
    "created_time,recommendation_type,review_text,reviewer,rating,has_rating,has_review,"
    "open_graph_story{id}"
)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


class MetaConnector(MetaAccount, Connector):
    """What the Page feed and Messenger kinds share: the Page, its token, health checks."""

    platform = "facebook"
    credential_fields: ClassVar[dict[str, str]] = {
        "page_access_token": (
            "A Page access token for this Page (from a long-lived user token of a Page admin, "
            "or a system user). It does not expire, but dies when the admin's password changes "
            "or they lose their role; Webcare then shows 'needs reconnect'."
        ),
    }

    # One Meta app posts every Page's events to one URL; both kinds share one intake (and so
    # one replay guard): see webhooks.py and channels.intake.
    webhook = MetaIntake()
    # Page photos, videos, Messenger files and stickers: signed CDN links that need no token
    # (the default media_request), on Meta's CDN hosts only.
    media_hosts = media.META_MEDIA_HOSTS

    @property
    def page_id(self) -> str:
        return self.own_id

    def _require_page(self) -> str:
        return self.require_own_id()

    def test_connection(self) -> ConnectionInfo:
        me = client.get(self.graph, "me", fields="id,name,username,link")
        account = str(me.get("id", ""))
        if self.page_id and account and account != self.page_id:
            raise PermanentError(
                f"This token belongs to Page {account} ({me.get('name', '')}), "
                f"not to the configured Page {self.page_id}."
            )
        return ConnectionInfo(
            account_id=account,
            handle=str(me.get("username") or ""),
            display_name=str(me.get("name") or ""),
            detail=self.notice(),
        )

    def notice(self) -> str:
        """Something an admin should know about this channel's configuration, or ""."""
        return ""

    @classmethod
    def health_notices(cls, *, today: dt.date) -> list[str]:
        """Warnings the channel health page shows for every channel of this kind, worked out
        when the page is drawn: the configured Graph version near or past Meta's end date."""
        warning = client.version_warning(settings.GRAPH_API_VERSION, today)
        return [warning] if warning else []

    def debug_token(self) -> dict[str, Any]:
        """``GET /debug_token`` for the Page token: validity, expiry, scopes.

        Meta wants an app token (``app-id|app-secret``) or an app developer's token as the
        caller; without META_APP_ID and META_APP_SECRET the Page token is sent as its own caller,
        which Meta may refuse (the check then reports "not checked").
        """
        token = self.channel.credentials.get("page_access_token", "")
        app_id = getattr(settings, "META_APP_ID", "")
        secret = getattr(settings, "META_APP_SECRET", "")
        if not (app_id and secret):
            result = client.get(self.graph, "debug_token", input_token=token, access_token=token)
            return result.get("data") or {}
        try:
            result = client.get(
                self.graph, "debug_token", input_token=token, access_token=f"{app_id}|{secret}"
            )
        except AuthError as exc:
            # An error here is about the caller, the app token: the Page token's own state is
            # reported inside "data". Not a reason to disconnect every Page.
            raise PermanentError(
                f"Meta refused the app token (check META_APP_ID and META_APP_SECRET): {exc.message}"
            ) from exc
        return result.get("data") or {}

    # Scopes each kind needs; the daily token check warns when one is gone.
    required_scopes: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def _since(cursor: dict[str, Any]) -> dt.datetime:
        watermark = client.parse_time(cursor.get("since"))
        return watermark or timezone.now() - FIRST_POLL_LOOKBACK

    @staticmethod
    def _cursor(items: list[InboundItem], since: dt.datetime) -> dict[str, Any]:
        newest = max([since, *(i.sent_at for i in items)])
        return {"since": newest.isoformat()}


@register
class FacebookPageConnector(MetaConnector):
    """The Page feed: comments and replies on Page posts, visitor posts, recommendations.

    Reply modes: ``public`` answers in the thread (``POST /{comment-id}/comments``);
    ``private`` ("move to DM", a private reply) sends the commenter one Messenger message about
    their comment (``POST /{page-id}/messages`` with ``recipient={"comment_id": ...}``). The
    person's Messenger id comes back in the answer and is linked to the commenter's customer, so
    their DM answer lands in the same customer's view.
    """

    kind = "facebook"
    label = "Facebook Page (comments)"

    short_label = "Facebook"

    icon = "f"

    colour = "#1d4ed8"
    reply_modes = ("public", PRIVATE_REPLY)
    # Private Replies (Messenger Platform): one message per post or comment, within 7 days.
    private_reply_limit = dt.timedelta(days=7)
    text_limit = 8000
    # A comment carries one photo (``source``, form data): Graph Comment reference, "Creating";
    # the photo limits are the Graph Photo reference's (under 4 MB; JPEG, PNG, GIF, ...).
    attachment_limits = {
        "kinds": ("image",),
        "mime_types": ("image/jpeg", "image/png", "image/gif", "image/webp"),
        "max_bytes": 4 * 1024 * 1024,
        "max_count": 1,
    }
    ticket_kinds = ("comment", "post", "review")
    required_scopes = (
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    )
    settings_fields: ClassVar[dict[str, str]] = {
        "page_id": "The numeric id of the Facebook Page.",
        "feed_depth": (
            "How many of the Page's most recent posts a poll checks for new comments "
            "(default 25). Webhooks deliver everything; the poll reconciles what they missed."
        ),
        "ratings": (
            "'on' to fetch Page recommendations. Meta removed them in Graph v22.0; they work "
            "only while GRAPH_API_VERSION is v21.0 or older."
        ),
    }

    def ratings_enabled(self) -> bool:
        return _truthy(self.channel.settings.get("ratings", ""))

    def ratings_available(self) -> bool:
        return client.api_version_number() <= RATINGS_LAST_VERSION

    def notice(self) -> str:
        if self.ratings_enabled() and not self.ratings_available():
            return (
                f"Page ratings are not polled: Meta removed them from Graph v22.0 (error 12) "
                f"and this installation uses {settings.GRAPH_API_VERSION}. Subscribe the Page to "
                "the 'ratings' webhook field to receive new recommendations."
            )
        return ""

    # --- reading ------------------------------------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        page_id = self._require_page()
        since = self._since(cursor)
        floor = since - OVERLAP
        depth = _int(self.channel.settings.get("feed_depth"), 25)
        items: list[InboundItem] = []
        calls = 0
        posts: list[dict[str, Any]] = []
        for batch, calls_so_far in client.pages(
            self.graph,
            f"{page_id}/feed",
            max_pages=max(1, (depth + 24) // 25),
            fields=POST_FIELDS,
            limit=min(depth, 25),
        ):
            calls = calls_so_far
            posts.extend(batch)
            if len(posts) >= depth:
                break
        for post in posts[:depth]:
            changed = client.parse_time(post.get("updated_time") or post.get("created_time"))
            if changed is not None and changed < floor:
                continue  # no comment, edit or new post since the last poll
            created = client.parse_time(post.get("created_time"))
            if created is not None and created >= floor:
                visitor = normalize.visitor_post_item(post, page_id=page_id)
                if visitor is not None:
                    items.append(visitor)
            try:
                found, used = self._recent_comments(str(post["id"]), floor)
            except PermanentError as exc:
                # One post Meta will not show (deleted since the feed call, restricted): the
                # others still count. Token and rate-limit errors stop the poll as usual.
                log.info("skipping post %s of channel %s: %s", post["id"], self.channel.id, exc)
                calls += 1
                continue
            items.extend(found)
            calls += used
        if self.ratings_enabled() and self.ratings_available():
            found, used = self._recent_ratings(floor)
            items.extend(found)
            calls += used
        return FetchResult(items=items, cursor=self._cursor(items, since), calls=max(calls, 1))

    def _recent_comments(self, post_id: str, floor: dt.datetime) -> tuple[list[InboundItem], int]:
        items: list[InboundItem] = []
        calls = 0
        for batch, calls_so_far in client.pages(
            self.graph,
            f"{post_id}/comments",
            max_pages=3,
            filter="stream",
            order="reverse_chronological",
            fields=COMMENT_FIELDS,
            limit=100,
        ):
            calls = calls_so_far
            older = False
            for comment in batch:
                item = normalize.comment_item(comment, page_id=self.page_id, post_id=post_id)
                if item is None:
                    continue
                if item.sent_at < floor:
                    older = True
                    continue
                items.append(item)
            if older:
                break
        return items, calls

    def _recent_ratings(self, floor: dt.datetime) -> tuple[list[InboundItem], int]:
        items: list[InboundItem] = []
        calls = 0
        try:
            for batch, calls_so_far in client.pages(
                self.graph, f"{self.page_id}/ratings", max_pages=2, fields=RATING_FIELDS, limit=50
            ):
                calls = calls_so_far
                stop = False
                for rating in batch:
                    item = normalize.rating_item(rating, page_id=self.page_id)
                    if item is None:
                        continue
                    if item.sent_at < floor:
                        stop = True
                        continue
                    items.append(item)
                if stop:
                    break
        except PermanentError as exc:
            if exc.code != client.DEPRECATED_CODE:
                raise
            # Meta no longer serves recommendations to this version: comments still work.
            return [], calls + 1
        return items, calls

    # --- replying -----------------------------------------------------------------------------
    @staticmethod
    def reply_target(reply: OutboundReply) -> str:
        """Where a public reply goes: the top-level comment of the thread (Facebook nests one
        level deep, so replying to a reply is replying to its top-level comment), the visitor
        post, or the recommendation's story."""
        prefix, _, ident = reply.thread_key.partition(":")
        if prefix in ("comment", "post", "rating") and ident:
            return ident
        if reply.in_reply_to:
            return reply.in_reply_to
        raise PermanentError(f"Cannot tell what to reply to in thread {reply.thread_key!r}.")

    def send(self, reply: OutboundReply) -> SendResult:
        if reply.mode in (PRIVATE_REPLY, "private_reply"):
            return self._private_reply(reply)
        target = self.reply_target(reply)
        check_attachments(self, reply.attachments)
        if reply.attachments:
            photo = reply.attachments[0]
            with photo.open() as handle:
                result = client.post(
                    self.graph,
                    f"{target}/comments",
                    files={"source": (photo.name, handle, photo.mime_type)},
                    message=reply.text,
                )
        else:
            result = client.post(self.graph, f"{target}/comments", message=reply.text)
        comment_id = str(result.get("id") or "")
        if not comment_id:
            raise OutcomeUnknown("Facebook accepted the comment but returned no id.")
        return SendResult(external_id=comment_id, raw=result)

    def _private_reply(self, reply: OutboundReply) -> SendResult:
        page_id = self._require_page()
        # The inbox may pick a comment of the thread ("move to DM" on that message); by default
        # the thread's latest customer comment.
        comment_id = str(reply.options.get("comment_id") or reply.in_reply_to)
        commenter = str(
            reply.options.get("commenter_id")
            if reply.options.get("comment_id")
            else reply.recipient_id
        )
        if not comment_id or reply.thread_key.startswith("rating:"):
            raise PermanentError("A private reply needs a comment or visitor post to answer.")
        recipient_key = "post_id" if reply.thread_key == f"post:{comment_id}" else "comment_id"
        result = client.post(
            self.graph,
            f"{page_id}/messages",
            recipient={recipient_key: comment_id},
            message={"text": reply.text},
            messaging_type="RESPONSE",
        )
        message_id = client.sent_id(result, key="message_id", what="the private reply")
        psid = str(result.get("recipient_id") or "")
        # The commenter and this Messenger id are one person: delivery links them.
        hints = (IdentityHint(known_uid=commenter, other_uid=psid),) if psid and commenter else ()
        return SendResult(external_id=message_id, raw=result, identity_hints=hints)

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        if reply.mode in (PRIVATE_REPLY, "private_reply"):
            # Meta lists no private replies by comment, and refuses a second one anyway.
            raise OutcomeUnknown("Facebook offers no way to look up a private reply.")
        target = self.reply_target(reply)
        page = client.get(
            self.graph,
            f"{target}/comments",
            filter="stream",
            order="reverse_chronological",
            fields="id,from,message,created_time",
            limit=50,
        )
        return _match_ours(page.get("data") or [], reply, self.page_id)

    def set_hidden(self, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a comment on the Page (``POST /{comment-id}`` ``is_hidden``)."""
        result = client.post(self.graph, comment_id, is_hidden="true" if hidden else "false")
        if isinstance(result, dict) and result.get("success") is False:
            raise PermanentError("Facebook did not change the comment's visibility.")


class MessengerRules:
    """Messenger's rules for DMs, which Instagram shares: the 24-hour window, the HUMAN_AGENT
    tag (7 days) where the channel's settings say Meta approved the app for it, and the DM
    thread's recipient."""

    channel: Any

    def human_agent_approved(self) -> bool:
        return _truthy(self.channel.settings.get("human_agent_approved", ""))

    def reply_window(self, *, ticket_kind: str, last_inbound_at: dt.datetime | None) -> ReplyWindow:
        if last_inbound_at is None:
            return ReplyWindow(
                allowed=False,
                reason="Messenger allows a reply only after the customer has written to the Page.",
            )
        now = timezone.now()
        closes = last_inbound_at + MESSENGER_WINDOW
        if now < closes:
            return ReplyWindow(allowed=True, closes_at=closes)
        tagged_until = last_inbound_at + HUMAN_AGENT_WINDOW
        if self.human_agent_approved() and now < tagged_until:
            return ReplyWindow(
                allowed=False,
                reason=(
                    "More than 24 hours since the customer's last message: a normal reply is "
                    "refused. As a person answering, you can still send it with the Human Agent "
                    f"tag until {tagged_until:%Y-%m-%d %H:%M} UTC."
                ),
                closes_at=tagged_until,
                options=(HUMAN_AGENT,),
            )
        reason = "More than 24 hours since the customer's last message: Messenger refuses a reply"
        if self.human_agent_approved():
            reason += " (also past the Human Agent tag's 7 days)"
        return ReplyWindow(
            allowed=False,
            reason=reason + ". You can answer once the customer writes again.",
            closes_at=closes,
        )

    def _psid(self, reply: OutboundReply) -> str:
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


@register
class MessengerConnector(MessengerRules, MetaConnector):
    """The Page's Messenger inbox.

    Replies use the Send API with ``messaging_type=RESPONSE`` inside 24 hours of the customer's
    last message; after that, only Pages approved for the HUMAN_AGENT tag may answer (7 days),
    chosen per reply with ``options={"tag": "HUMAN_AGENT"}``.
    """

    kind = "messenger"
    label = "Facebook Messenger"

    short_label = "Messenger"

    icon = "m"

    colour = "#7e22ce"
    reply_modes = ("dm",)
    text_limit = 2000
    # Send API attachments, uploaded as ``filedata`` (form data): image, video, audio, file, up
    # to 25 MB each (Messenger "Saving assets"). Each is its own message after the text; ten
    # per reply is our own limit, to keep a reply one readable burst.
    attachment_limits = {
        "kinds": ("image", "video", "audio", "file"),
        "mime_types": (),  # any type: a "file" attachment takes what an image or video will not
        "max_bytes": 25 * 1024 * 1024,
        "max_count": 10,
    }
    ticket_kinds = ("dm",)
    auto_ack_default = True
    required_scopes = ("pages_messaging",)
    settings_fields: ClassVar[dict[str, str]] = {
        "page_id": "The numeric id of the Facebook Page.",
        "human_agent_approved": (
            "'on' when Meta approved this app's Human Agent permission: agents may then answer "
            "up to 7 days after the customer's last message (HUMAN_AGENT tag)."
        ),
    }

    def profile(self, psid: str) -> InboundAuthor | None:
        """The person's name and picture (User Profile API), for DMs that came by webhook:
        messaging events carry only the PSID. None when Meta does not share it."""
        try:
            person = client.get(self.graph, psid, fields="first_name,last_name,profile_pic")
        except ConnectorError:
            return None
        name = " ".join(
            str(person.get(k) or "").strip() for k in ("first_name", "last_name")
        ).strip()
        if not name:
            return None
        return InboundAuthor(
            platform_user_id=psid,
            display_name=name[:200],
            avatar_url=str(person.get("profile_pic") or "")[:1000],
        )

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        page_id = self._require_page()
        since = self._since(cursor)
        floor = since - OVERLAP
        items: list[InboundItem] = []
        extra = 0
        conversations, listing = recent_conversations(
            self.graph, page_id, platform="messenger", message_fields=MESSAGE_FIELDS, floor=floor
        )
        for conversation in conversations:
            found, used = self._conversation_items(conversation, floor)
            items.extend(found)
            extra += used
        calls = listing + extra
        return FetchResult(items=items, cursor=self._cursor(items, since), calls=max(calls, 1))

    def _conversation_items(
        self, conversation: dict[str, Any], floor: dt.datetime
    ) -> tuple[list[InboundItem], int]:
        psid = normalize.conversation_psid(conversation, page_id=self.page_id)
        names = {
            str(p.get("id")): str(p.get("name") or "")
            for p in (conversation.get("participants") or {}).get("data") or []
            if isinstance(p, dict)
        }
        block = conversation.get("messages") or {}
        messages = list(block.get("data") or [])
        calls = 0
        paging = block.get("paging") or {}
        # Nested messages hold the newest 25; a busy conversation pages on, up to twice.
        while calls < 2 and messages and paging.get("next"):
            oldest = client.parse_time(messages[-1].get("created_time"))
            after = (paging.get("cursors") or {}).get("after")
            if oldest is None or oldest < floor or not after:
                break
            more = client.get(
                self.graph,
                f"{conversation['id']}/messages",
                fields=MESSAGE_FIELDS,
                limit=25,
                after=after,
            )
            calls += 1
            messages.extend(more.get("data") or [])
            paging = more.get("paging") or {}
        items = []
        for message in messages:
            item = normalize.conversation_message_item(
                message, page_id=self.page_id, psid=psid, display_name=names.get(psid, "")
            )
            if item is not None and item.sent_at >= floor:
                items.append(item)
        return items, calls

    def send(self, reply: OutboundReply) -> SendResult:
        """The text, then each attachment as its own message (the Send API takes one
        attachment per message, and text and attachment not together). Every part is sent
        exactly once: the parts already sent are remembered under the reply's idempotency key,
        so a retry after part two failed sends part three, not part one again."""
        page_id = self._require_page()
        psid = self._psid(reply)
        check_attachments(self, reply.attachments)
        if not reply.attachments:
            return self._send_part(page_id, psid, reply, {"text": reply.text})
        progress = self._progress(reply)
        parts = self._parts(reply)
        for key, message in parts:
            if key in progress["sent"]:
                continue
            progress["pending"] = key
            self._save_progress(reply, progress)
            try:
                result = self._send_part(page_id, psid, reply, message, key=key)
            except OutcomeUnknown:
                raise  # "pending" stays: find_sent looks for this part before a retry
            except Exception:
                progress["pending"] = ""
                self._save_progress(reply, progress)
                raise
            progress["sent"][key] = result.external_id
            progress["pending"] = ""
            self._save_progress(reply, progress)
        return self._parts_result(progress, parts)

    def _parts(self, reply: OutboundReply) -> list[tuple[str, dict[str, Any]]]:
        parts: list[tuple[str, dict[str, Any]]] = []
        if reply.text.strip():
            parts.append(("text", {"text": reply.text}))
        for index, attachment in enumerate(reply.attachments):
            parts.append((f"file{index}", {"attachment": attachment}))
        return parts

    @staticmethod
    def _parts_result(progress: dict[str, Any], parts: list[tuple[str, Any]]) -> SendResult:
        ids = [progress["sent"][key] for key, _ in parts if key in progress["sent"]]
        return SendResult(external_id=ids[0], raw={"parts": dict(progress["sent"])})

    def _progress_key(self, reply: OutboundReply) -> str:
        return f"messenger-parts:{self.channel.id}:{reply.idempotency_key}"

    def _progress(self, reply: OutboundReply) -> dict[str, Any]:
        found = cache.get(self._progress_key(reply))
        if isinstance(found, dict) and isinstance(found.get("sent"), dict):
            return found
        return {"sent": {}, "pending": ""}

    def _save_progress(self, reply: OutboundReply, progress: dict[str, Any]) -> None:
        cache.set(self._progress_key(reply), progress, PARTS_TTL)

    def _send_part(
        self,
        page_id: str,
        psid: str,
        reply: OutboundReply,
        message: dict[str, Any],
        *,
        key: str = "",
    ) -> SendResult:
        data: dict[str, Any] = {"recipient": {"id": psid}}
        attachment: OutboundAttachment | None = message.get("attachment")
        if attachment is None:
            data["message"] = dict(message)
        else:
            data["message"] = {
                "attachment": {"type": attachment.kind, "payload": {"is_reusable": False}},
                "metadata": f"{PART_METADATA}{reply.idempotency_key}:{key}",
            }
        data.update(self.tag_fields(reply.options) or {"messaging_type": "RESPONSE"})
        if attachment is None:
            result = client.post(self.graph, f"{page_id}/messages", **data)
        else:
            with attachment.open() as handle:
                result = client.post(
                    self.graph,
                    f"{page_id}/messages",
                    files={"filedata": (attachment.name, handle, attachment.mime_type)},
                    **data,
                )
        message_id = str(result.get("message_id") or "")
        if not message_id:
            raise OutcomeUnknown("Facebook accepted the message but returned no id.")
        return SendResult(external_id=message_id, raw=result)

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        page_id = self._require_page()
        psid = self._psid(reply)
        page = client.get(
            self.graph,
            f"{page_id}/conversations",
            platform="messenger",
            user_id=psid,
            fields="messages.limit(25){id,message,from,created_time,attachments{id}}",
        )
        messages: list[dict[str, Any]] = []
        for conversation in page.get("data") or []:
            messages.extend((conversation.get("messages") or {}).get("data") or [])
        if not reply.attachments:
            return _match_ours(messages, reply, page_id, text_key="message")
        return self._find_parts(reply, messages, page_id)

    def _find_parts(
        self, reply: OutboundReply, messages: list[dict[str, Any]], page_id: str
    ) -> SendResult | None:
        """For a reply in parts: settle the part whose outcome is unknown. Found on Messenger,
        it is recorded as sent; not found, it will be sent. Returns the whole reply's result
        only when every part is sent; None lets ``send`` post the parts still missing."""
        progress = self._progress(reply)
        parts = self._parts(reply)
        pending = progress.get("pending") or ""
        if pending == "text":
            found = _match_ours(messages, reply, page_id, text_key="message")
            if found is not None:
                progress["sent"]["text"] = found.external_id
        elif pending:
            # Our attachment messages since the reply was queued, oldest first; those beyond
            # the ones already recorded are the part in doubt.
            earliest = (reply.created_at or timezone.now()) - CLOCK_SKEW
            ours = [
                m
                for m in messages
                if str((m.get("from") or {}).get("id") or "") == page_id
                and (m.get("attachments") or {}).get("data")
                and (client.parse_time(m.get("created_time")) or earliest) >= earliest
            ]
            ours.sort(key=lambda m: str(m.get("created_time") or ""))
            known = set(progress["sent"].values())
            fresh = [m for m in ours if str(m.get("id")) not in known]
            if fresh:
                progress["sent"][pending] = str(fresh[0]["id"])
        progress["pending"] = ""
        self._save_progress(reply, progress)
        if parts and all(key in progress["sent"] for key, _ in parts):
            return self._parts_result(progress, parts)
        return None


def _match_ours(
    candidates: list[dict[str, Any]], reply: OutboundReply, page_id: str, text_key: str = "message"
) -> SendResult | None:
    """Our text, written by the Page, after the reply was queued: the earlier attempt."""
    earliest = (reply.created_at or timezone.now()) - CLOCK_SKEW
    wanted = reply.text.strip()
    for candidate in candidates:
        author = child(candidate, "from")
        created = client.parse_time(candidate.get("created_time"))
        if (
            str(author.get("id") or "") == page_id
            and str(candidate.get(text_key) or "").strip() == wanted
            and created is not None
            and created >= earliest
        ):
            return SendResult(external_id=str(candidate["id"]), raw={"found": candidate})
    return None
