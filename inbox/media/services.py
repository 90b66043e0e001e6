"""Fetching, typing and storing what customers send (docs/media.md).

The lifecycle of an :class:`~inbox.models.media.Attachment` that is a file:
``pending`` (stored at ingest) → ``fetching`` (a worker has it) → ``stored`` (the bytes and, for
images, a thumbnail are in the ``media`` storage) or ``unavailable`` (the platform no longer has
it, or every try failed: ``reason`` says which) or ``refused`` (it broke a rule: too large, not
on the platform's media hosts, an image bomb). ``deleted`` is a stored file removed by the
retention setting. Nothing but :func:`attachment_fetch` moves a file out of ``pending``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import filetype
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from channels.base import (
    AuthError,
    InboundAttachment,
    PermanentError,
    RateLimited,
    TemporaryError,
    media_url_allowed,
)
from channels.models import Channel
from webcare import safe_http

from ..models.media import Attachment, AttachmentState

log = logging.getLogger(__name__)

# Types an agent's browser may show inline (<img>, <video>, <audio>); everything else,
# SVG and HTML above all (documents that can carry script), is served as a download only.
INLINE_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/webp",
        "video/mp4", "video/webm", "video/quicktime",
        "audio/mpeg", "audio/mp4", "audio/ogg", "audio/aac", "audio/wav", "audio/x-wav",
    }
)  # fmt: skip
# Kinds an agent expects to see or hear in the thread.
MEDIA_KINDS = frozenset({"image", "video", "gif", "audio", "sticker"})
# Images Pillow turns into thumbnails.
THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
THUMBNAIL_SIZE = (480, 480)
# Pixels an image may have before it is treated as a decompression bomb: a 20 MB PNG can
# unpack to gigabytes. Pillow warns above ``MAX_IMAGE_PIXELS`` and refuses at twice that; the
# warning is made an error here, so the limit is this number.
MAX_IMAGE_PIXELS = 50_000_000
HEAD_BYTES = 8192
# Waits between tries of a passing failure: 30 s, 1 min, 2 min, 4 min, ... capped at an hour.
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600


def storage():
    return storages["media"]


# --- type from the bytes ----------------------------------------------------------------------
def detect_type(head: bytes) -> str:
    """The file's type from its first bytes (magic numbers, the ``filetype`` table); markup
    that has none is recognised as SVG or HTML so it is never served inline."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") or text.startswith(b"<?xml"):
        if b"<svg" in text:
            return "image/svg+xml"
        if b"<html" in text or b"<!doctype html" in text or b"<script" in text:
            return "text/html"
        return "text/xml"
    if text.startswith(b"%pdf"):
        return "application/pdf"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def _family(mime: str) -> str:
    return mime.split("/", 1)[0] if mime else ""


EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov",
    "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/aac": ".aac",
    "application/pdf": ".pdf",
}  # fmt: skip


def extension(mime: str) -> str:
    return EXTENSIONS.get(mime, ".bin")


# --- thumbnails -------------------------------------------------------------------------------
class ImageRefused(Exception):
    pass


def make_thumbnail(source) -> bytes:
    """A JPEG thumbnail of the image in ``source`` (a file object), re-encoded by Pillow: no
    metadata of the original survives (EXIF with its GPS position is not copied). Raises
    :class:`ImageRefused` for a decompression bomb or an image Pillow cannot read."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
        try:
            with Image.open(source) as opened:
                opened.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a fraction of the size
                image = ImageOps.exif_transpose(opened)  # turned as the camera meant, then
                image.thumbnail(THUMBNAIL_SIZE)  # the EXIF itself is left behind
                if image.mode not in ("RGB", "L"):
                    background = Image.new("RGB", image.size, (255, 255, 255))
                    rgba = image.convert("RGBA")
                    background.paste(rgba, mask=rgba.getchannel("A"))
                    image = background
                out = io.BytesIO()
                image.save(out, "JPEG", quality=82, optimize=True)
                return out.getvalue()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(
                "the image is too large to open safely (decompression bomb)"
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise ImageRefused("the image cannot be read") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous


# --- the fetch --------------------------------------------------------------------------------
@dataclass
class Outcome:
    state: str
    reason: str = ""
    retry_in: int | None = None  # seconds, when the task should try again


def _claim(attachment_id: int) -> Attachment | None:
    """The attachment, marked as being fetched with one more attempt, or None when it is not
    waiting for a fetch (stored, given up, deleted, or gone)."""
    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("message__channel")
            .filter(pk=attachment_id)
            .first()
        )
        if attachment is None or attachment.state not in (
            AttachmentState.PENDING,
            AttachmentState.FETCHING,
        ):
            return None
        attachment.state = AttachmentState.FETCHING
        attachment.attempts += 1
        attachment.save(update_fields=["state", "attempts"])
    return attachment


def _finish(attachment: Attachment, state: str, reason: str = "", **fields) -> Outcome:
    fields.update(state=state, reason=reason[:500])
    Attachment.objects.filter(pk=attachment.pk).update(**fields)
    return Outcome(state=state, reason=reason)


def _inbound(attachment: Attachment) -> InboundAttachment:
    return InboundAttachment(
        kind=attachment.kind,
        url=attachment.url,
        media_id=attachment.media_id,
        mime_type=attachment.declared_type,
        name=attachment.name,
        size=attachment.size,
        alt_text=attachment.alt_text,
        title=attachment.title,
        latitude=attachment.latitude,
        longitude=attachment.longitude,
        external_id=attachment.external_id,
        detail=attachment.detail or {},
    )


def retry_delay(attempts: int) -> int:
    return min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _passing(attachment: Attachment, reason: str) -> Outcome:
    """A failure that may pass: try again later, or give up after the last attempt."""
    if attachment.attempts >= settings.MEDIA_FETCH_ATTEMPTS:
        return _finish(
            attachment,
            AttachmentState.UNAVAILABLE,
            f"Gave up after {attachment.attempts} tries: {reason}",
        )
    Attachment.objects.filter(pk=attachment.pk).update(
        state=AttachmentState.PENDING, reason=reason[:500]
    )
    return Outcome(AttachmentState.PENDING, reason, retry_in=retry_delay(attachment.attempts))


def attachment_fetch(*, attachment_id: int) -> Outcome | None:
    """Download one attachment under the safe-fetch rules, type it from its bytes, store it and
    its thumbnail. Idempotent: an attachment not waiting for a fetch is left alone (None)."""
    attachment = _claim(attachment_id)
    if attachment is None:
        return None
    channel: Channel = attachment.message.channel
    try:
        request = channel.connector().media_request(_inbound(attachment))
    except PermanentError as exc:
        return _finish(attachment, AttachmentState.UNAVAILABLE, exc.message)
    except (TemporaryError, RateLimited, AuthError) as exc:
        return _passing(attachment, exc.message)
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        download = _Download(spool)
        try:
            answer = _stream(request, channel.connector_class, download.sink)
        except safe_http.Gone as exc:
            return _finish(attachment, AttachmentState.UNAVAILABLE, exc.reason)
        except safe_http.Refused as exc:
            return _finish(attachment, AttachmentState.REFUSED, exc.reason)
        except safe_http.Temporary as exc:
            return _passing(attachment, exc.reason)
        if answer.size == 0:
            return _finish(
                attachment, AttachmentState.UNAVAILABLE, "the platform sent an empty file"
            )
        detected = detect_type(bytes(download.head))
        notes = _type_notes(attachment, answer.declared_type, detected)
        thumbnail = b""
        if detected in THUMBNAIL_TYPES:
            spool.seek(0)
            try:
                thumbnail = make_thumbnail(spool)
            except ImageRefused as exc:
                return _finish(
                    attachment, AttachmentState.REFUSED, str(exc), detected_type=detected
                )
        name, thumbnail_name = _save(attachment, channel.pk, detected, spool, thumbnail)
    return _finish(
        attachment,
        AttachmentState.STORED,
        "; ".join(notes),
        detected_type=detected,
        size=answer.size,
        storage_name=name,
        thumbnail_name=thumbnail_name,
        sha256=download.digest.hexdigest(),
        fetched_at=timezone.now(),
    )


class _Download:
    """Where the streamed bytes go: the spool, their SHA-256 and the first ``HEAD_BYTES`` (which
    decide the type)."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.digest = hashlib.sha256()
        self.head = bytearray()

    def sink(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head.extend(chunk[: HEAD_BYTES - len(self.head)])
        self.digest.update(chunk)
        self.spool.write(chunk)


def _stream(request, connector_class, sink: Callable[[bytes], None]) -> safe_http.Answer:
    """Read the connector's media request into ``sink`` under the size cap and deadline: a
    ``file://`` URL from the connector's own media folder, anything else over safe HTTP on the
    platform's media hosts. Raises ``safe_http.Gone``/``Refused``/``Temporary``."""
    max_bytes = settings.MEDIA_MAX_BYTES
    if request.url.startswith("file://"):
        return _local_file(request.url, connector_class, sink=sink, max_bytes=max_bytes)
    return safe_http.stream(
        request.url,
        sink=sink,
        max_bytes=max_bytes,
        deadline=settings.MEDIA_FETCH_DEADLINE,
        url_allowed=lambda url: media_url_allowed(connector_class, url),
        headers=request.headers,
    )


def _type_notes(attachment: Attachment, answer_type: str, detected: str) -> list[str]:
    """What the agent is told about the file's type: the bytes decide, a different declared type
    is noted, and media that cannot be shown inline is marked download only."""
    declared = (attachment.declared_type or answer_type or "").lower()
    notes = []
    if declared and _family(declared) != _family(detected) and declared != detected:
        # The bytes decide; the agent learns the platform said otherwise.
        notes.append(f"the file is {detected}, not {declared} as declared")
    if detected not in INLINE_TYPES and (
        attachment.kind in MEDIA_KINDS or _family(declared) in ("image", "video", "audio")
    ):
        notes.append(f"download only: {detected} is never shown in the page")
    return notes


def _save(
    attachment: Attachment, channel_id: int, detected: str, spool: IO[bytes], thumbnail: bytes
) -> tuple[str, str]:
    """Store the file (named for its detected type) and its thumbnail, if any, in the media
    storage; return both storage names (the thumbnail's empty when there is none)."""
    base = _base_name(attachment, channel_id)
    spool.seek(0)
    name = storage().save(f"{base}{extension(detected)}", File(spool))
    thumbnail_name = (
        storage().save(f"{base}-thumb.jpg", ContentFile(thumbnail)) if thumbnail else ""
    )
    return name, thumbnail_name


def _local_file(url: str, connector_class, *, sink, max_bytes: int) -> safe_http.Answer:
    """A ``file://`` URL inside the connector's ``media_local_dir`` (the simulator's demo
    images, shipped with the code), read under the same cap; anything else is refused."""
    if not media_url_allowed(connector_class, url):
        raise safe_http.Refused("a local file outside the connector's media folder")
    path = Path(unquote(urlsplit(url).path))
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(safe_http.CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise safe_http.Refused(f"larger than the limit of {max_bytes} bytes")
            sink(chunk)
    return safe_http.Answer(url=url, declared_type="", size=size)


def _base_name(attachment: Attachment, channel_id: int) -> str:
    now = timezone.now()
    return f"attachments/{channel_id}/{now:%Y/%m}/{attachment.pk}"


# --- retention --------------------------------------------------------------------------------
def media_expire(
    *, days: int | None = None, now: dt.datetime | None = None, limit: int = 1000
) -> int:
    """Delete stored media fetched more than ``days`` ago (``MEDIA_RETENTION_DAYS`` when not
    given; 0 keeps everything). The rows stay, as ``deleted`` with the reason, so the thread
    still says what was there. Returns how many were deleted."""
    days = settings.MEDIA_RETENTION_DAYS if days is None else days
    if not days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    done = 0
    while True:
        batch = list(
            Attachment.objects.filter(state=AttachmentState.STORED, fetched_at__lt=cutoff)
            .exclude(storage_name="")
            .values_list("pk", "storage_name", "thumbnail_name")[:limit]
        )
        if not batch:
            return done
        for _pk, name, thumb in batch:
            for path in (name, thumb):
                if path:
                    storage().delete(path)
        Attachment.objects.filter(pk__in=[pk for pk, _, _ in batch]).update(
            state=AttachmentState.DELETED,
            reason=f"deleted after {days} days",
            storage_name="",
            thumbnail_name="",
        )
        done += len(batch)


# --- usage ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Usage:
    files: int
    bytes: int


def channel_usage(channel_id: int) -> Usage:
    """How much of the media storage a channel's stored attachments take."""
    found = (
        Attachment.objects.filter(channel_id=channel_id, state=AttachmentState.STORED)
        .exclude(storage_name="")
        .aggregate(files=Count("pk"), total=Sum("size"))
    )
    return Usage(files=found["files"] or 0, bytes=found["total"] or 0)


def channels_usage() -> dict[int, Usage]:
    rows = (
        Attachment.objects.filter(state=AttachmentState.STORED)
        .exclude(storage_name="")
        .values("channel_id")
        .annotate(files=Count("pk"), total=Sum("size"))
    )
    return {r["channel_id"]: Usage(files=r["files"], bytes=r["total"] or 0) for r in rows}
