"""What customers attach on Facebook and Messenger → :class:`InboundAttachment`. Pure functions.

Four documented shapes (sources in docs/channels/facebook.md, "Attachments"):

- Messenger ``messages`` webhook: ``message.attachments[]`` of ``{type, payload}``; ``type``
  image, video, audio, file (``payload.url``, a signed CDN link that expires), sticker (an image
  with ``payload.sticker_id``), location (``payload.coordinates.lat/long``), fallback (a link
  share: ``title``, ``url``), reel / ig_reel (``payload.url``, ``title``, ``reel_video_id``),
  template (``payload.elements`` or a shared product's ``payload.product.elements``).
- Graph ``/{conversation}/messages`` (``attachments{...}``): ``{id, mime_type, name, size,
  image_data{url, preview_url, width, height, render_as_sticker}, video_data{url, preview_url},
  file_url}``.
- Graph story attachments (a post's ``attachments{...subattachments}``, a comment's
  ``attachment``): ``{type, media_type, media{image{src, width, height}, source}, url, title,
  description, target{id, url}, subattachments{data[...]}}``; ``type`` photo, album,
  video_inline/video_autoplay, sticker, animated_image_share/animated_image_video, share.
- Page ``feed`` webhook changes: ``photo`` / ``photos[]`` / ``video`` URLs and ``link`` of a
  share.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ..base import InboundAttachment

# Meta's media CDNs: Page and Messenger media (scontent-*.xx.fbcdn.net, video-*.xx.fbcdn.net),
# Messenger files and stickers (cdn.fbsbx.com, lookaside.fbsbx.com).
META_MEDIA_HOSTS = (".fbcdn.net", ".fbsbx.com")

MESSENGER_FILE_KINDS = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
STORY_VIDEO_TYPES = {"video", "video_inline", "video_autoplay", "video_share_youtube"}
STORY_GIF_TYPES = {"animated_image_share", "animated_image_video", "animated_image_autoplay"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --- Messenger webhooks -----------------------------------------------------------------------
def messenger_attachments(attachments: Any) -> tuple[InboundAttachment, ...]:
    """``message.attachments`` of a Messenger webhook event, in order."""
    found = []
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict):
            converted = messenger_attachment(attachment)
            if converted is not None:
                found.append(converted)
    return tuple(found)


def messenger_attachment(attachment: dict[str, Any]) -> InboundAttachment | None:
    kind = _text(attachment.get("type"))
    payload = _dict(attachment.get("payload"))
    url = _text(payload.get("url"))
    if kind == "image" and payload.get("sticker_id") is not None:
        # A sticker arrives as an image with its sticker id (the thumbs-up is one, 369239263222822).
        return InboundAttachment(
            kind="sticker",
            url=url,
            external_id=f"sticker:{payload['sticker_id']}",
            detail={"sticker_id": str(payload["sticker_id"])},
        )
    if kind in MESSENGER_FILE_KINDS:
        return InboundAttachment(kind=MESSENGER_FILE_KINDS[kind], url=url)
    if kind == "location":
        coordinates = _dict(payload.get("coordinates"))
        return InboundAttachment(
            kind="location",
            latitude=_number(coordinates.get("lat")),
            longitude=_number(coordinates.get("long")),
            title=_text(attachment.get("title")) or _text(payload.get("title")),
            url=_text(attachment.get("url")),
        )
    if kind == "fallback":
        # A shared link Messenger shows as a card; the URL is the customer's, never fetched.
        return InboundAttachment(
            kind="link",
            title=_text(attachment.get("title")) or _text(payload.get("title")),
            detail={"url": _text(attachment.get("url")) or url},
        )
    if kind in ("reel", "ig_reel"):
        return InboundAttachment(
            kind="video",
            url=url,
            title=_text(payload.get("title")),
            external_id=f"reel:{payload['reel_video_id']}" if payload.get("reel_video_id") else "",
            detail={"shared": kind},
        )
    if kind == "template":
        return template_attachment(attachment)
    if kind:
        return InboundAttachment(kind="unsupported", title=kind)
    return None


def template_attachment(attachment: dict[str, Any]) -> InboundAttachment:
    """A template (generic, button) or a shared product: what the customer saw, as fields:
    ``title``, and ``detail.elements`` of ``{title, subtitle, image_url, url, buttons}``."""
    payload = _dict(attachment.get("payload"))
    product = _dict(payload.get("product"))
    raw_elements = product.get("elements") or payload.get("elements") or []
    elements = []
    for element in raw_elements if isinstance(raw_elements, list) else []:
        if not isinstance(element, dict):
            continue
        elements.append(
            {
                "title": _text(element.get("title")),
                "subtitle": _text(element.get("subtitle")),
                "image_url": _text(element.get("image_url")),
                "url": _text(_dict(element.get("default_action")).get("url"))
                or _text(element.get("url")),
                "buttons": _button_titles(element.get("buttons")),
                **({"product_id": str(element["id"])} if product and element.get("id") else {}),
            }
        )
    detail: dict[str, Any] = {"elements": elements}
    if _text(payload.get("text")):
        detail["text"] = _text(payload["text"])
    if _button_titles(payload.get("buttons")):
        detail["buttons"] = _button_titles(payload.get("buttons"))
    title = _text(attachment.get("title")) or (_text(elements[0]["title"]) if elements else "")
    return InboundAttachment(
        kind="product" if product else "template",
        title=title or _text(payload.get("text")),
        detail=detail,
    )


def _button_titles(buttons: Any) -> list[str]:
    if not isinstance(buttons, list):
        return []
    return [_text(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title")]


# --- Graph conversations (polls) -------------------------------------------------------------
class _Common(TypedDict):
    """The fields every attachment of a Graph conversation message has, whatever its kind."""

    mime_type: str
    name: str
    size: int | None
    external_id: str


def graph_message_attachments(attachments: Any) -> tuple[InboundAttachment, ...]:
    """``attachments`` of a message from ``GET /{conversation-id}/messages``:
    ``{"data": [{id, mime_type, name, size, image_data, video_data, file_url}]}``."""
    data = attachments.get("data") if isinstance(attachments, dict) else attachments
    found = []
    for attachment in data if isinstance(data, list) else []:
        if not isinstance(attachment, dict):
            continue
        mime = _text(attachment.get("mime_type"))
        image = _dict(attachment.get("image_data"))
        video = _dict(attachment.get("video_data"))
        common = _Common(
            mime_type=mime,
            name=_text(attachment.get("name")),
            size=attachment.get("size") if isinstance(attachment.get("size"), int) else None,
            external_id=str(attachment.get("id") or ""),
        )
        if image:
            size = {k: image[k] for k in ("width", "height") if isinstance(image.get(k), int)}
            sticker = bool(image.get("render_as_sticker"))
            kind = "sticker" if sticker else ("gif" if mime == "image/gif" else "image")
            found.append(
                InboundAttachment(
                    kind=kind,
                    url=_text(image.get("url")),
                    preview_url=_text(image.get("preview_url")),
                    detail=size,
                    **common,
                )
            )
        elif video:
            found.append(
                InboundAttachment(
                    kind="video",
                    url=_text(video.get("url")),
                    preview_url=_text(video.get("preview_url")),
                    **common,
                )
            )
        else:
            kind = "audio" if mime.startswith("audio/") else "file"
            found.append(
                InboundAttachment(kind=kind, url=_text(attachment.get("file_url")), **common)
            )
    return tuple(found)


# --- Graph story attachments (posts, comments) -----------------------------------------------
def story_attachments(attachments: Any) -> tuple[InboundAttachment, ...]:
    """A post's ``attachments`` (``{"data": [...]}``) or a comment's single ``attachment``;
    an album's photos are its ``subattachments``, each its own attachment."""
    if isinstance(attachments, dict) and "data" not in attachments:
        attachments = [attachments]
    elif isinstance(attachments, dict):
        attachments = attachments.get("data")
    found: list[InboundAttachment] = []
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        subs = _dict(attachment.get("subattachments")).get("data")
        if isinstance(subs, list) and subs:
            found.extend(story_attachments(subs))
            continue
        converted = story_attachment(attachment)
        if converted is not None:
            found.append(converted)
    return tuple(found)


def story_attachment(attachment: dict[str, Any]) -> InboundAttachment | None:
    kind = _text(attachment.get("type"))
    media_type = _text(attachment.get("media_type"))
    media = _dict(attachment.get("media"))
    image = _dict(media.get("image"))
    size = {k: image[k] for k in ("width", "height") if isinstance(image.get(k), int)}
    target = _dict(attachment.get("target"))
    ident = str(target.get("id") or "")
    title = _text(attachment.get("title"))
    if kind == "sticker":
        return InboundAttachment(
            kind="sticker", url=_text(image.get("src")), external_id=ident, detail=size
        )
    if kind in STORY_GIF_TYPES:
        # A GIF from the comment picker: the still in media.image, the GIF behind url (through
        # l.facebook.com, not a media host), so the still is what is fetched.
        return InboundAttachment(
            kind="gif",
            url=_text(image.get("src")),
            preview_url=_text(image.get("src")),
            title=title,
            detail={**size, "url": _text(attachment.get("url"))},
        )
    if kind in STORY_VIDEO_TYPES or media_type == "video":
        return InboundAttachment(
            kind="video",
            url=_text(media.get("source")),
            preview_url=_text(image.get("src")),
            title=title,
            external_id=ident,
            detail={**size, "permalink": _text(attachment.get("url"))},
        )
    if kind in ("photo", "cover_photo", "profile_media") or media_type == "photo":
        return InboundAttachment(
            kind="image",
            url=_text(image.get("src")),
            alt_text=_text(attachment.get("description")) if kind != "photo" else "",
            title=title,
            external_id=ident,
            detail=size,
        )
    if kind in ("share", "link") or media_type == "link":
        return InboundAttachment(
            kind="link",
            title=title,
            preview_url=_text(image.get("src")),
            detail={
                "url": _text(attachment.get("unshimmed_url")) or _text(attachment.get("url")),
                "description": _text(attachment.get("description")),
            },
        )
    if kind or media_type:
        return InboundAttachment(kind="unsupported", title=title or kind or media_type)
    return None


# --- Page feed webhooks ----------------------------------------------------------------------
def feed_change_attachments(value: dict[str, Any]) -> tuple[InboundAttachment, ...]:
    """The media a ``feed`` change names: ``photos[]`` (an album post) or ``photo``, ``video``
    (for a photo or video item also its ``link``), and a share's ``link`` as a link card.
    Each URL once, in the order given."""
    item = value.get("item")
    found: list[InboundAttachment] = []
    seen: set[str] = set()

    def add(kind: str, url: Any, ident: Any = "") -> None:
        if isinstance(url, str) and url and url not in seen:
            seen.add(url)
            found.append(InboundAttachment(kind=kind, url=url, external_id=str(ident or "")))

    photos = value.get("photos")
    for url in photos if isinstance(photos, list) else []:
        add("image", url)
    add("image", value.get("photo"), value.get("photo_id") if item == "photo" else "")
    add("video", value.get("video"), value.get("video_id"))
    if item == "photo" and not found:
        add("image", value.get("link"), value.get("photo_id"))
    if item == "video" and not found:
        add("video", value.get("link"), value.get("video_id"))
    if item == "share" and isinstance(value.get("link"), str) and value.get("link"):
        found.append(InboundAttachment(kind="link", detail={"url": value["link"]}))
    return tuple(found)
