"""The one small interface every platform connector implements.

A connector knows its platform's API and nothing of tickets or the ORM: it turns the platform's
data into :class:`InboundItem` (plain, frozen data) and sends an :class:`OutboundReply`. The
ingest service in ``inbox.ingest.services`` stores items; the tasks in ``channels.tasks`` call
connectors.

Errors (``channels.errors``, importable from here) are typed so that one policy
(``channels.health``) decides what a failure means:

- :class:`TemporaryError`  (5xx, timeouts): retry with backoff, channel "degraded".
- :class:`RateLimited`      (429 and friends): wait until ``until``, channel shows it.
- :class:`AuthError`        (401/403, Meta code 190): channel "needs reconnect", stop polling.
- :class:`PermanentError`   (the platform refused this one request): no retry, reason shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

# The errors are part of the interface: connectors and their callers import them from here.
from .errors import (
    AccountRestricted,  # noqa: F401
    AuthError,  # noqa: F401
    ConnectorError,  # noqa: F401
    OutcomeUnknown,  # noqa: F401
    PermanentError,  # noqa: F401
    RateLimited,  # noqa: F401
    RecipientRateLimited,  # noqa: F401
    RecipientRefused,  # noqa: F401
    TemporaryError,  # noqa: F401
)

# Where media may be fetched from lives beside this module and is part of its interface.
from .media_rules import host_allowed, media_url_allowed  # noqa: F401

# Ticket kinds answered only in private, and only in public, whatever else a channel can send.
PRIVATE_TICKET_KINDS = frozenset({"dm"})
PUBLIC_TICKET_KINDS = frozenset({"review"})


# --- plain data -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InboundAuthor:
    """A platform account as the platform describes it."""

    platform_user_id: str
    handle: str = ""
    display_name: str = ""
    avatar_url: str = ""
    followers: int | None = None
    verified: bool = False
    profile_url: str = ""
    # Contact details the platform vouches for (WhatsApp: the number that wrote, E.164; a
    # platform that shares the e-mail address). The inbox links an author it has not seen
    # before to the customer already known by the same phone number or e-mail address.
    phone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """One thing a customer sent with (or as) a message: a photo, a video, a file, a location.

    Platforms hand media over in two ways: a URL that works for a while (Meta's CDN links are
    signed and expire; X's media URLs are public) or an id to look up with the channel's
    credentials (WhatsApp's media id). A connector fills whichever it has; the download happens
    later, outside ingest, through :meth:`Connector.media_request`. Content that is not a file
    (a location, a contact card, a product, a link share) carries its fields instead, and
    ``title``/``detail`` say what an agent should read.

    ``kind`` is one of ``ATTACHMENT_KINDS``. ``external_id`` is the platform's own id of the
    attachment where it has one (an X media key), so a re-delivery or an edit does not store
    the same attachment twice; otherwise the position in the message identifies it.
    """

    kind: str
    url: str = ""
    media_id: str = ""
    mime_type: str = ""
    name: str = ""
    size: int | None = None
    alt_text: str = ""
    preview_url: str = ""
    title: str = ""
    latitude: float | None = None
    longitude: float | None = None
    external_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


# What an attachment can be. Files are fetched and stored; the others are shown from their fields.
ATTACHMENT_KINDS = (
    "image",
    "video",
    "gif",
    "audio",
    "file",
    "sticker",
    "location",
    "contact",
    "link",
    "product",
    "template",
    "unsupported",
)
FILE_KINDS = frozenset({"image", "video", "gif", "audio", "file", "sticker"})


@dataclass(frozen=True, slots=True)
class MediaRequest:
    """How to download one attachment: the URL and the headers (credentials) it needs."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One message from a platform, normalised.

    ``thread_key`` decides the ticket: the connector derives it from the platform's own notion of a
    conversation (X conversation_id, a DM conversation, a top-level comment, a review).
    ``is_ours`` marks the brand's own message echoed back by the platform (our reply, a post by
    the page); it is stored as an outbound message, never as the customer's.
    ``edited`` marks a new version of an item already delivered (an edited review or comment): its
    text replaces the stored one instead of being dropped as a duplicate.
    ``version`` names this version where the platform numbers them (X gives every edit of a post
    a new, larger id and keeps the first as ``external_id``): versions arriving in any order end
    with the newest text stored and the others in the message's history. Empty: the platform
    gives none, and the latest delivery of an edit wins. ``version_at`` is when this version was
    written (``sent_at`` stays the first version's time).
    """

    external_id: str
    thread_key: str
    kind: str  # a TicketKind value: mention, reply, dm, comment, review, listening, ...
    text: str
    sent_at: dt.datetime
    author: InboundAuthor | None = None
    is_ours: bool = False
    edited: bool = False
    rating: int | None = None  # 1..5 for reviews
    url: str = ""
    parent_external_id: str = ""
    language: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    version_at: dt.datetime | None = None
    attachments: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch returns: the items and the cursor to store with them.

    The cursor is stored in the same transaction as the items, so a crash between fetch and
    commit fetches the same items again instead of skipping them.
    """

    items: list[InboundItem]
    cursor: dict[str, Any]
    # Set when the platform has more for us right away (another page); the poll task fetches again.
    more: bool = False
    # Platform calls this fetch made (the channel's read budget counts them).
    calls: int = 1
    # Billable units the platform counts besides calls, added to the channel's monthly usage
    # under these names (X bills reads per resource returned: {"post_reads": 37, ...}).
    billed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    """A file an agent attached to a reply, stored in the ``media`` storage
    (``settings.STORAGES["media"]``) before the reply is queued. ``kind`` is one of image,
    video, audio, file; a connector opens the bytes with :meth:`open` when it uploads them."""

    name: str
    mime_type: str
    size: int
    kind: str
    storage_name: str
    # A signed, expiring public https link to the file (``webcare.public_links``), for
    # platforms that download attachments themselves; "" without ``WEBCARE_PUBLIC_URL``.
    public_url: str = ""

    def open(self):
        from django.core.files.storage import storages

        return storages["media"].open(self.storage_name, "rb")


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """A reply to send. ``idempotency_key`` is stable across retries of the same reply."""

    message_id: int
    idempotency_key: str
    text: str
    mode: str  # "public" or "dm"
    thread_key: str
    ticket_kind: str
    # The platform id of the message we answer (tweet, comment, review) and its author's id.
    in_reply_to: str = ""
    recipient_id: str = ""
    # The parent of the message we answer, where the platform names one (the Instagram media
    # a mentioning comment is on).
    in_reply_to_parent: str = ""
    # Platform-specific extras chosen in the composer (e.g. Messenger's HUMAN_AGENT tag).
    options: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    attachments: tuple[OutboundAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityHint:
    """Two platform user ids of one person, learnt while talking to the platform (a Facebook
    private reply answers with the commenter's Messenger id). The inbox links them."""

    known_uid: str  # the id we store already (the commenter)
    other_uid: str  # the same person's other id (their Messenger PSID)


@dataclass(frozen=True, slots=True)
class Moderation:
    """A change to a stored message that is not new text: hidden, unhidden, removed on the
    platform (a comment deleted) or unsent by its author (a Messenger message)."""

    external_id: str
    hidden: bool | None = None
    removed: bool = False
    unsent: bool = False


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str
    url: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    # What the send taught us about who the recipient is; stored by delivery, not here.
    identity_hints: tuple[IdentityHint, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What a connector may know of its channel: no ORM object, no database access."""

    id: int
    kind: str
    name: str
    credentials: dict[str, Any]
    settings: dict[str, Any]
    own_account_id: str = ""
    own_handle: str = ""


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    """Whether an agent may reply now, told to the composer before they type.

    ``allowed`` False with a ``reason`` blocks sending (e.g. Messenger outside 24 hours);
    ``options`` lists ways that still work (e.g. ``["HUMAN_AGENT"]``), chosen per reply and
    passed back in ``OutboundReply.options``.
    """

    allowed: bool = True
    reason: str = ""
    closes_at: dt.datetime | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """The answer of a 'test connection': the account the credentials belong to."""

    account_id: str
    handle: str = ""
    display_name: str = ""
    detail: str = ""


# --- the interface ----------------------------------------------------------------------------
class Connector:
    """Base class of connectors. Subclasses set ``kind`` and implement ``fetch`` and ``send``.

    ``reply_modes`` lists what an agent can do on this channel ("public", "dm");
    ``text_limit`` is the longest reply the platform takes (counted by ``count_text``).
    """

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # How the inbox shows the kind (list, thread, filters, reports): a short name beside the
    # icon, a one-character icon, and a colour (a CSS colour that white text reads on: the
    # stylesheet ``/channels/kinds.css`` is built from these, so a new connector sets them
    # and needs no CSS of its own).
    short_label: ClassVar[str] = ""
    icon: ClassVar[str] = "•"
    colour: ClassVar[str] = "#475569"
    reply_modes: ClassVar[tuple[str, ...]] = ("public",)
    # A "private" reply mode (Meta's private reply to a comment) may answer each comment once
    # (the inbox keeps the claim); this long after the comment, not at all. None: no limit.
    private_reply_limit: ClassVar[dt.timedelta | None] = None
    text_limit: ClassVar[int | None] = None
    # Ticket kinds this connector produces, for filters and icons.
    ticket_kinds: ClassVar[tuple[str, ...]] = ()
    # Seconds between polls a new channel of this kind starts with (reviews change slowly).
    default_poll_interval: ClassVar[int] = 60
    # Whether an outside-hours acknowledgement makes sense here (not on review sites by default).
    auto_ack_default: ClassVar[bool] = True
    # Identities are shared per platform (Facebook comments and Messenger: one person).
    platform: ClassVar[str] = ""
    # What the channel form asks for: credential names (stored encrypted, never shown back) and
    # settings names, each with its help text.
    credential_fields: ClassVar[dict[str, str]] = {}
    settings_fields: ClassVar[dict[str, str]] = {}
    # Form type of a setting: "str" (default), "int", "bool" or "list" (one value per line),
    # and the value a setting has when the channel's settings do not name it.
    settings_types: ClassVar[dict[str, str]] = {}
    settings_defaults: ClassVar[dict[str, Any]] = {}
    # Where this platform's media may be downloaded from (``https`` only): a host name matches
    # itself, an entry starting with "." matches any host under it (".fbcdn.net" takes
    # "scontent-ams2-1.xx.fbcdn.net"). Empty: nothing is fetched. The fetcher checks every URL
    # (and every redirect) with :func:`media_url_allowed` and still refuses private addresses.
    media_hosts: ClassVar[tuple[str, ...]] = ()
    # A folder shipped with the code whose files may be "downloaded" by ``file://`` URL (the
    # simulator's demo images, so ``make demo`` works offline). Empty for real platforms.
    media_local_dir: ClassVar[str] = ""
    # What an agent may attach to a reply here, shown in the composer before sending:
    # ``{"kinds": ("image", ...), "mime_types": ("image/jpeg", ...), "max_bytes": N,
    # "max_count": N}``, optionally ``"max_bytes_by_kind": {"video": N}`` where one kind may be
    # larger (X video). An empty ``mime_types`` takes any type. Empty dict: this channel sends
    # no attachments. :func:`check_attachments` enforces it before any platform call.
    attachment_limits: ClassVar[dict[str, Any]] = {}
    # The platform downloads attachments from a link instead of taking an upload (Instagram
    # Login's Send API): they need ``WEBCARE_PUBLIC_URL``, and the composer says so without.
    attachments_by_link: ClassVar[bool] = False

    def __init__(self, channel: ChannelContext) -> None:
        self.channel = channel

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        raise NotImplementedError

    def send(self, reply: OutboundReply) -> SendResult:
        raise NotImplementedError

    def send_batch_size(self) -> int:
        """How many queued replies one worker may claim and send at once, concurrently
        (``inbox.replies.batch``). 1: one at a time, each its own task (most platforms; their
        rate limits are per hour or per user, not a throughput to fill). A connector that sends
        at a fixed rate shared by every worker (WhatsApp's messages per second) and whose
        ``send`` is safe to call from several threads returns more."""
        return 1

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        """Look on the platform for a reply a previous attempt may have posted.

        Called before retrying a send whose outcome is unknown (worker killed mid-send, timeout),
        so a reply is never posted twice. Return None only when sure it was not posted; raise
        :class:`OutcomeUnknown` when the platform cannot tell.
        """
        raise OutcomeUnknown("This channel cannot look up earlier replies.")

    def test_connection(self) -> ConnectionInfo:
        raise NotImplementedError

    def media_request(self, attachment: InboundAttachment) -> MediaRequest:
        """Where to download an attachment's bytes. Most platforms give a URL that needs no
        credentials; a connector whose media needs a token or a lookup first (WhatsApp's media
        id) overrides this, and raises :class:`AuthError`, :class:`RateLimited`,
        :class:`TemporaryError` or :class:`PermanentError` (the platform no longer has it)."""
        if not attachment.url:
            raise PermanentError("The platform gave no address for this attachment.")
        return MediaRequest(url=attachment.url)

    def reply_window(self, *, ticket_kind: str, last_inbound_at: dt.datetime | None) -> ReplyWindow:
        """May an agent reply on this ticket now? Platforms with reply windows override."""
        return ReplyWindow()

    @classmethod
    def reply_modes_for(cls, ticket_kind: str) -> tuple[str, ...]:
        """The reply modes a ticket of ``ticket_kind`` offers, out of the channel's
        ``reply_modes``: a direct message is answered only by direct message (never in
        public), a review only in public (never by DM; no mode at all on a site without
        business replies); mentions, comments and posts take every mode of the channel."""
        if ticket_kind in PRIVATE_TICKET_KINDS:
            return tuple(m for m in cls.reply_modes if m == "dm")
        if ticket_kind in PUBLIC_TICKET_KINDS:
            return tuple(m for m in cls.reply_modes if m == "public")
        return cls.reply_modes

    # Ticket kinds whose messages an agent may hide on the platform (a connector with
    # ``set_hidden``): comments, never a DM or a review.
    hide_kinds: ClassVar[tuple[str, ...]] = ()
    # The platform's name for its reply window, shown with the time left in the composer
    # ("Messenger"). Empty: the composer shows none (no window, or the connector shows its own).
    window_name: ClassVar[str] = ""

    @classmethod
    def can_hide(cls, ticket_kind: str) -> bool:
        """Whether messages of a ``ticket_kind`` ticket can be hidden on this platform."""
        return ticket_kind in cls.hide_kinds and callable(getattr(cls, "set_hidden", None))

    @classmethod
    def count_rule(cls) -> dict[str, Any]:
        """How the composer's live counter counts, mirroring :meth:`count_text` in the browser:
        ``{"kind": "chars"}`` (code points) unless a platform weighs characters (X)."""
        return {"kind": "chars"}

    # Webhooks are per platform app, not per channel: ``/webhooks/<kind>/`` hands the request
    # to this ``channels.intake.WebhookIntake`` (signature check, routing, processing), and the
    # one intake path stores, answers and ingests. Connectors without webhooks leave it None.
    webhook: ClassVar[Any] = None

    @classmethod
    def count_text(cls, text: str) -> int:
        """Length of ``text`` as the platform counts it (X weights some characters double)."""
        return len(text)


def check_attachments(
    connector: Connector | type[Connector], attachments: tuple[OutboundAttachment, ...]
) -> None:
    """Refuse (for good, with the reason) what the channel's ``attachment_limits`` do not
    allow; the composer shows the same limits before sending."""
    if not attachments:
        return
    limits = connector.attachment_limits
    if not limits:
        raise PermanentError(f"{connector.label} replies cannot carry attachments.")
    if len(attachments) > limits.get("max_count", 0):
        raise PermanentError(
            f"{connector.label} takes at most {limits['max_count']} attachment(s) per reply."
        )
    for attachment in attachments:
        if attachment.kind not in limits.get("kinds", ()):
            raise PermanentError(f"{connector.label} cannot send a {attachment.kind} attachment.")
        types = limits.get("mime_types") or ()
        if types and attachment.mime_type not in types:
            raise PermanentError(
                f"{connector.label} does not take {attachment.mime_type} files ({attachment.name})."
            )
        by_kind = limits.get("max_bytes_by_kind") or {}
        cap = by_kind.get(attachment.kind) or limits.get("max_bytes")
        if cap and attachment.size > cap:
            raise PermanentError(
                f"{attachment.name} is {attachment.size // 1024} KB; {connector.label} takes "
                f"at most {cap // (1024 * 1024)} MB."
            )
