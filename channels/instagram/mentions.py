"""Reading what a ``mentions`` webhook points at, with what the Instagram API with Instagram
Login documents (docs/channels/instagram.md, "Mentions").

With Instagram Login, Meta includes @mentions in the ``comments`` notifications ("Instagram
webhook fields and permissions": ``mentions`` — "Included in the comments webhook
notification"); the ``mentions`` field with ``{media_id, comment_id?}`` is the Facebook Login
shape. Should one arrive all the same, it is stored, never dropped:

- a caption mention (``media_id`` only) is looked for in ``GET /<IG_ID>/tags`` on
  graph.instagram.com, the read the Instagram Login Mentions guide names;
- a comment mention cannot be read: the ``mentioned_comment`` field is documented for Facebook
  Login only, and the IG Comment reference refuses comments found through mentions to anyone
  but their author.

What cannot be read lands as a mention with the reason in its text, so the ticket says why
and can still be answered (``POST /<IG_ID>/mentions`` needs only the ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base import AuthError, InboundItem, PermanentError
from . import client, normalize

if TYPE_CHECKING:
    from .connector import InstagramConnector

# IG Media fields of the Tags reference.
TAGGED_MEDIA_FIELDS = "id,caption,timestamp,username,media_type,media_url,permalink"
TAGS_PAGES = 3
# Graph codes of a dead token: those stop the delivery (channel health), unlike a refused read.
DEAD_TOKEN_CODES = {102, 190}

COMMENT_UNREADABLE = (
    "[Mention in a comment on another account's post. The Instagram API with Instagram Login "
    "offers no way to read that comment: open the post on Instagram to see it.]"
)
CAPTION_NOT_FOUND = (
    "[Mention in the caption of another account's post. Instagram did not list that post "
    "among the ones the account is tagged in, so its caption could not be read: open it on "
    "Instagram.]"
)
CAPTION_REFUSED = (
    "[Mention in the caption of another account's post. Instagram refused to list the posts "
    "the account is tagged in ({reason}), so its caption could not be read: open it on "
    "Instagram.]"
)


def mention_item(
    connector: InstagramConnector, ref: normalize.MentionRef, *, entry_time: Any = None
) -> InboundItem:
    """The mention ``ref`` names, read where Instagram Login allows it, else with the reason."""
    if ref.comment_id:
        return normalize.unreadable_mention(ref, text=COMMENT_UNREADABLE, fallback_time=entry_time)
    try:
        media = tagged_media(connector, ref.media_id)
    except (AuthError, PermanentError) as exc:
        if isinstance(exc, AuthError) and exc.code in DEAD_TOKEN_CODES:
            raise
        text = CAPTION_REFUSED.format(reason=exc.message)
        return normalize.unreadable_mention(ref, text=text, fallback_time=entry_time)
    if media is None:
        return normalize.unreadable_mention(ref, text=CAPTION_NOT_FOUND, fallback_time=entry_time)
    item = normalize.tagged_media_item(media, ref=ref, fallback_time=entry_time)
    assert item is not None  # a dict always gives an item
    return item


def tagged_media(connector: InstagramConnector, media_id: str) -> dict[str, Any] | None:
    """The media ``media_id`` among the newest the account is tagged in (a few pages)."""
    connector._check_usage()
    try:
        for batch, _calls in client.pages(
            connector.graph,
            f"{connector._require_account()}/tags",
            max_pages=TAGS_PAGES,
            fields=TAGGED_MEDIA_FIELDS,
            limit=50,
        ):
            for media in batch:
                if isinstance(media, dict) and str(media.get("id") or "") == media_id:
                    return media
    finally:
        connector._remember_usage()
    return None
