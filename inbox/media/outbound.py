"""Files an agent attaches to a reply: checked against the channel's ``attachment_limits``
(types decided from the bytes, sizes, count), kept in the ``media`` storage before the reply is
queued, and recorded as the reply message's attachments, from which ``inbox.delivery`` builds
``OutboundReply.attachments``. The connector uploads them when it sends the reply, exactly once,
with the same states and retries as the text."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.base import OutboundAttachment
from webcare import public_links

from ..models.media import Attachment, AttachmentState
from .services import (
    THUMBNAIL_TYPES,
    ImageRefused,
    detect_type,
    extension,
    make_thumbnail,
    storage,
)


class FilesRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PreparedFile:
    name: str
    mime_type: str
    size: int
    kind: str
    storage_name: str
    thumbnail_name: str
    sha256: str


def kind_of(mime: str) -> str:
    family = mime.split("/", 1)[0]
    return family if family in ("image", "video", "audio") else "file"


def _cap(limits: dict, mime: str, kind: str) -> int:
    by_type = limits.get("max_bytes_by_type") or {}
    by_kind = limits.get("max_bytes_by_kind") or {}
    return int(by_type.get(mime) or by_kind.get(kind) or limits.get("max_bytes") or 0)


def limits_text(limits: dict) -> str:
    """The limits (``Connector.attachment_limits``) as the composer shows them before sending."""
    types = limits.get("mime_types") or ()
    kinds = (
        ", ".join(sorted({extension(m).lstrip(".") for m in types}))
        if types
        else ", ".join(str(k) for k in limits.get("kinds", ()))
    )
    text = _("Up to %(count)s file(s), %(size)s each: %(kinds)s") % {
        "count": limits.get("max_count", 0),
        "size": filesizeformat(limits.get("max_bytes", 0)),
        "kinds": kinds,
    }
    larger = {**(limits.get("max_bytes_by_kind") or {}), **(limits.get("max_bytes_by_type") or {})}
    if larger:
        text += (
            " ("
            + ", ".join(
                f"{name.split('/')[-1]} {filesizeformat(size)}" for name, size in larger.items()
            )
            + ")"
        )
    return text


def files_check(files: Sequence, limits: dict | None) -> list[tuple[UploadedFile, str]]:
    """(file, type from its bytes) for each upload, or :class:`FilesRefused` with what breaks
    the platform's limits (``Connector.attachment_limits``). Nothing is stored yet; the
    connector checks the same limits again before it calls the platform."""
    if not files:
        return []
    if not limits:
        raise FilesRefused(_("This channel does not take attachments."))
    if len(files) > limits.get("max_count", 0):
        raise FilesRefused(
            _("This channel takes at most %(count)s file(s) per reply.")
            % {"count": limits.get("max_count", 0)}
        )
    types = limits.get("mime_types") or ()
    checked = []
    for upload in files:
        upload.seek(0)
        mime = detect_type(upload.read(8192))
        upload.seek(0)
        kind = kind_of(mime)
        if kind not in limits.get("kinds", ()) or (types and mime not in types):
            raise FilesRefused(
                _("%(name)s is %(type)s, which this channel does not take.")
                % {"name": upload.name, "type": mime}
            )
        cap = _cap(limits, mime, kind)
        if cap and upload.size > cap:
            raise FilesRefused(
                _("%(name)s is larger than %(size)s.")
                % {"name": upload.name, "size": filesizeformat(cap)}
            )
        checked.append((upload, mime))
    return checked


def files_store(checked: list[tuple[UploadedFile, str]], *, channel_id: int) -> list[PreparedFile]:
    """Keep checked uploads in the media storage (with a thumbnail for images)."""
    prepared = []
    now = timezone.now()
    for upload, mime in checked:
        base = f"replies/{channel_id}/{now:%Y/%m}/{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        thumbnail_name = ""
        if mime in THUMBNAIL_TYPES:
            try:
                thumbnail = make_thumbnail(upload)
            except ImageRefused as exc:
                raise FilesRefused(f"{upload.name}: {exc}") from exc
            upload.seek(0)
            thumbnail_name = storage().save(f"{base}-thumb.jpg", ContentFile(thumbnail))
        name = storage().save(f"{base}{extension(mime)}", upload)
        prepared.append(
            PreparedFile(
                name=(upload.name or "file")[:255],
                mime_type=mime,
                size=upload.size or 0,  # files_check measured it
                kind=kind_of(mime),
                storage_name=name,
                thumbnail_name=thumbnail_name,
                sha256=digest.hexdigest(),
            )
        )
    return prepared


def files_discard(prepared: list[PreparedFile]) -> None:
    """Remove stored uploads of a reply that was not queued after all."""
    for f in prepared:
        for path in (f.storage_name, f.thumbnail_name):
            if path:
                storage().delete(path)


def files_attach(*, message, prepared: list[PreparedFile]) -> None:
    """Record the stored uploads as the reply's attachments (inside the reply's transaction)."""
    if not prepared:
        return
    now = timezone.now()
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=message,
                channel_id=message.channel_id,
                position=n,
                kind=f.kind,
                declared_type=f.mime_type,
                detected_type=f.mime_type,
                name=f.name,
                size=f.size,
                state=AttachmentState.STORED,
                storage_name=f.storage_name,
                thumbnail_name=f.thumbnail_name,
                sha256=f.sha256,
                fetched_at=now,
            )
            for n, f in enumerate(prepared)
        ]
    )
    message.attachment_count = len(prepared)
    message.save(update_fields=["attachment_count"])


def public_url_needed() -> str:
    return _(
        "Attachments on this channel need a public https address for Webcare: the platform "
        "downloads each file from it. An admin sets WEBCARE_PUBLIC_URL (see the channel's "
        "health)."
    )


def files_need_public_url(connector_class) -> bool:
    """The channel takes files only by link (Instagram) and this installation has no public
    https address to give: the composer offers no files and says why."""
    return bool(
        connector_class.attachment_limits
        and connector_class.attachments_by_link
        and not public_links.public_base()
    )


def outbound_attachments(message_id: int) -> tuple[OutboundAttachment, ...]:
    """What ``OutboundReply.attachments`` carries for a reply message."""
    return tuple(
        OutboundAttachment(
            name=a.name,
            mime_type=a.detected_type,
            size=a.size or 0,
            kind=a.kind,
            storage_name=a.storage_name,
            public_url=public_links.outbound_url(a.pk),
        )
        for a in Attachment.objects.filter(
            message_id=message_id, state=AttachmentState.STORED
        ).order_by("position")
    )
