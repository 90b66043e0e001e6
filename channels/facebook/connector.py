"""Two channel kinds on one Facebook Page: its feed (comments, visitor posts) and Messenger.

Both share ``platform = "facebook"``, so one person is one Identity whichever way they write.
They are separate kinds because they differ in everything an admin and an agent deal with:
permissions (``pages_read_user_content`` vs ``pages_messaging``), reply rules (public comment vs
a 24-hour window), ticket kinds and polling cost; a Page can run either alone. Both use the same
Page access token and the same webhook code (``channels.facebook.webhooks``).

This module says what each kind is (settings, limits, reply rules); how it reads is
``channels.facebook.polling``, how it sends ``channels.facebook.send``; what Instagram shares is
in ``channels.meta``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, ClassVar

from django.conf import settings

from ..base import (
    AuthError,
    ConnectionInfo,
    Connector,
    ConnectorError,
    FetchResult,
    InboundAuthor,
    OutboundReply,
    PermanentError,
    SendResult,
)
from ..meta.account import MetaAccount
from ..meta.messaging import HUMAN_AGENT, HUMAN_AGENT_WINDOW, MESSENGER_WINDOW, HumanAgentMessaging
from ..meta.moderation import visibility_set
from ..meta.send import CLOCK_SKEW, PRIVATE_REPLY, is_private_reply
from ..registry import register
from . import client, media, polling
from . import send as sending
from .polling import COMMENT_FIELDS, FIRST_POLL_LOOKBACK, OVERLAP, POST_FIELDS
from .webhooks import MetaIntake

RATINGS_LAST_VERSION = 21.0  # recommendations answer error 12 from v22.0

# Names other modules (the Instagram connector, tests) import from here.
__all__ = [
    "CLOCK_SKEW",
    "COMMENT_FIELDS",
    "FIRST_POLL_LOOKBACK",
    "HUMAN_AGENT",
    "HUMAN_AGENT_WINDOW",
    "MESSENGER_WINDOW",
    "OVERLAP",
    "POST_FIELDS",
    "PRIVATE_REPLY",
    "FacebookPageConnector",
    "MessengerConnector",
    "MetaConnector",
]


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
    # Hide works on comments (``is_hidden`` on the Comment node); a visitor post or a
    # recommendation is not hidden from here.
    hide_kinds = ("comment",)
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

    # --- reading (channels.facebook.polling) --------------------------------------------------
    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        depth = _int(self.channel.settings.get("feed_depth"), 25)
        return polling.feed_fetch(self, cursor, depth)

    # --- replying (channels.facebook.send) ----------------------------------------------------
    reply_target = staticmethod(sending.reply_target)

    def send(self, reply: OutboundReply) -> SendResult:
        if is_private_reply(reply):
            return sending.private_reply_send(self, reply)
        return sending.comment_send(self, reply)

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        return sending.comment_find_sent(self, reply)

    def set_hidden(self, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a comment on the Page (``POST /{comment-id}`` ``is_hidden``)."""
        post = functools.partial(client.post, self.graph)
        visibility_set(post, comment_id, hidden, field="is_hidden", platform="Facebook")


@register
class MessengerConnector(HumanAgentMessaging, MetaConnector):
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
    window_name = "Messenger"
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
        return polling.messenger_fetch(self, cursor)

    def send(self, reply: OutboundReply) -> SendResult:
        """The text, then each attachment as its own message, each part exactly once
        (``channels.facebook.send``)."""
        return sending.messenger_send(self, reply)

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        return sending.messenger_find_sent(self, reply)
