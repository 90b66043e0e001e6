"""Signed, expiring links to the files agents attach, for platforms that fetch them.

Instagram's Send API (Instagram API with Instagram Login) takes a DM attachment as
``{"type", "payload": {"url"}}`` and downloads it itself; it offers no upload for that route
(Meta's Attachment Upload API needs a Facebook Page and its token). So the file must be at a
public https address for a while: ``/media/out/<token>/``, where the token is
``django.core.signing`` over the attachment's id (salted, so no other signed value of the
project is accepted), valid ``WEBCARE_PUBLIC_MEDIA_MAX_AGE`` seconds. The view
(``inbox.media.views.outbound_file``) serves only files attached to our own replies, never
what customers sent, and lists nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "webcare.media.out"


def public_base() -> str:
    """This installation's public https address (``WEBCARE_PUBLIC_URL``), or "" when none is
    configured: then platforms that fetch attachments cannot be sent any."""
    base = (getattr(settings, "WEBCARE_PUBLIC_URL", "") or "").strip().rstrip("/")
    return base if base.startswith("https://") else ""


def outbound_token(attachment_id: int) -> str:
    return signing.dumps({"a": attachment_id}, salt=SALT, compress=False)


def outbound_url(attachment_id: int) -> str:
    """The signed link to one of our attachments, or "" without a public https base."""
    base = public_base()
    if not base:
        return ""
    return base + reverse("inbox:attachment_out", args=[outbound_token(attachment_id)])


def outbound_id(token: str) -> int:
    """The attachment id of a valid token. Raises ``signing.SignatureExpired`` when it is too
    old and ``signing.BadSignature`` when it was not made here."""
    data = signing.loads(token, salt=SALT, max_age=settings.WEBCARE_PUBLIC_MEDIA_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise signing.BadSignature("Not an attachment token.")
    return data["a"]


PUBLIC_URL_NEEDED = (
    "Attachments on this channel need a public https address for Webcare: the platform "
    "downloads each file from it. An admin sets WEBCARE_PUBLIC_URL (see the channel's health)."
)
