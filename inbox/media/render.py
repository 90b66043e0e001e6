"""The attachments of a message as the thread shows them (HTML built in Python, like the rest
of the thread in ``inbox.templatetags.inbox_tags.thread_messages``): every value from a platform
is escaped; URLs are ours (the permission-checked view), never the platform's, except the
OpenStreetMap link we build from two numbers and a link share's http(s) address.
"""

from __future__ import annotations

from html import escape as e

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _

from ..models.media import Attachment, AttachmentState
from .services import INLINE_TYPES

SMALL_KINDS = frozenset({"sticker"})
IMAGE_KINDS = frozenset({"image", "gif", "sticker"})


def _url(attachment: Attachment, variant: str) -> str:
    return reverse("inbox:attachment", args=[attachment.pk, variant])


def _web(url) -> str:
    url = str(url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def _size(attachment: Attachment) -> str:
    return str(filesizeformat(attachment.size)) if attachment.size is not None else ""


def _location(a: Attachment) -> str:
    if a.latitude is None or a.longitude is None:
        return f'<p class="att att-location">{e(a.title or _("A location"))}</p>'
    lat, lon = float(a.latitude), float(a.longitude)
    osm = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=16/{lat:.6f}/{lon:.6f}"
    title = f"<strong>{e(a.title)}</strong> " if a.title else ""
    return (
        f'<p class="att att-location">📍 {title}<span class="coords">{lat:.6f}, {lon:.6f}'
        f'</span> <a href="{e(osm)}" rel="noopener noreferrer nofollow" target="_blank">'
        f"{e(_('Show on OpenStreetMap'))}</a></p>"
    )


def _shared(a: Attachment) -> str:
    """A link share, a product, a template, a contact: its title and, if any, its address."""
    detail = a.detail if isinstance(a.detail, dict) else {}
    labels = {
        "link": _("Shared link"),
        "product": _("Product"),
        "template": _("Message template"),
        "contact": _("Contact card"),
        "unsupported": _("Something this inbox cannot show"),
    }
    label = labels.get(a.kind, a.kind)
    title = a.title or str(detail.get("title") or "")
    url = _web(detail.get("url") or "")
    link = (
        f' <a href="{e(url)}" rel="noopener noreferrer nofollow" target="_blank">{e(url)}</a>'
        if url
        else ""
    )
    return f'<p class="att att-shared"><em>{e(label)}</em>: {e(title)}{link}</p>'


def _file_card(a: Attachment, note: str = "") -> str:
    name = a.name or _("attachment")
    meta = " · ".join(x for x in (_size(a), a.detected_type) if x)
    return (
        f'<p class="att att-file">📄 <span class="att-name">{e(name)}</span> '
        f'<span class="att-meta">{e(meta)}</span> '
        f'<a href="{e(_url(a, "download"))}" download>{e(_("Download"))}</a>'
        f"{note}</p>"
    )


def attachment_html(a: Attachment) -> str:
    if a.kind == "location":
        return _location(a)
    if a.kind not in ("image", "video", "gif", "audio", "file", "sticker"):
        return _shared(a)
    if a.state in (AttachmentState.PENDING, AttachmentState.FETCHING):
        return f'<p class="att att-loading" role="status">{e(_("Loading attachment…"))}</p>'
    if a.state == AttachmentState.DELETED:
        return f'<p class="att att-gone">{e(_("Deleted: %(reason)s") % {"reason": a.reason})}</p>'
    if a.state != AttachmentState.STORED:
        text = _("No longer available: %(reason)s") % {"reason": a.reason or _("unknown")}
        return f'<p class="att att-gone">{e(text)}</p>'
    alt = a.alt_text or ""
    alt_line = f'<span class="att-alt">{e(_("Alt text"))}: {e(alt)}</span>' if alt else ""
    inline = a.detected_type in INLINE_TYPES
    if a.thumbnail_name and inline:
        size = ' class="att-sticker"' if a.kind in SMALL_KINDS else ""
        return (
            f'<figure class="att att-image"><a{size} href="{e(_url(a, "file"))}" '
            f'data-viewer="{e(_url(a, "file"))}" data-alt="{e(alt)}" '
            f'title="{e(_("Open the image"))}">'
            f'<img src="{e(_url(a, "thumb"))}" alt="{e(alt or _("Photo from the customer"))}" '
            'loading="lazy"></a>'
            f"<figcaption>{alt_line}</figcaption></figure>"
        )
    if inline and a.detected_type.startswith("video/"):
        return (
            f'<figure class="att att-video"><video controls preload="metadata" '
            f'src="{e(_url(a, "file"))}"></video><figcaption>{alt_line} '
            f'<a href="{e(_url(a, "download"))}" download>{e(_("Download"))}</a>'
            "</figcaption></figure>"
        )
    if inline and a.detected_type.startswith("audio/"):
        return (
            f'<figure class="att att-audio"><audio controls preload="metadata" '
            f'src="{e(_url(a, "file"))}"></audio><figcaption>'
            f'<a href="{e(_url(a, "download"))}" download>{e(_("Download"))}</a>'
            "</figcaption></figure>"
        )
    note = f' <span class="att-note">{e(a.reason)}</span>' if a.reason else ""
    return _file_card(a, note)


def attachments_html(attachments: list[Attachment]) -> str:
    if not attachments:
        return ""
    return '<div class="atts">' + "".join(attachment_html(a) for a in attachments) + "</div>"
