"""Serving what customers sent: only to users who may see the ticket, never as a page.

The bytes come from the ``media`` storage through this view, also when that storage is an S3
bucket (no object-store link reaches a browser). Every answer says ``nosniff`` and carries a
sandboxing CSP, so even a file that is a document (SVG, HTML) cannot run script in our origin;
only types on ``INLINE_TYPES`` are shown inline, the rest is a download.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from inbox.core import access
from webcare import public_links
from webcare.http import AuthedRequest

from ..models.media import Attachment, AttachmentState
from ..models.tickets import Direction
from . import ranges
from .services import INLINE_TYPES, extension, storage

FILE_CSP = "default-src 'none'; media-src 'self'; img-src 'self'; sandbox"
MAX_AGE = 60 * 60


def _attachment_for(user, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.select_related("message__ticket").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    access.require_work(user)
    if not access.can_see_ticket(user, attachment.message.ticket):
        raise PermissionDenied("This ticket belongs to a team you are not in.")
    return attachment


def download_name(attachment: Attachment) -> str:
    """The customer's file name when the platform gave one, else a plain one; its extension is
    always the one of the type the bytes are, so a saved file opens as what it really is."""
    ext = extension(attachment.detected_type)
    stem = (attachment.name or f"attachment-{attachment.pk}").rsplit(".", 1)[0][:120]
    return f"{stem}{ext}"


def attachment_response(request: HttpRequest, attachment_id: int, variant: str) -> HttpResponseBase:
    """The answer for one variant of an attachment (``file``, ``thumb`` or ``download``) to
    ``request.user``: the screen's view (a session) and the API (a token, whose user the API's
    auth sets) both serve files through here, with the same access rule, byte ranges and
    safety headers."""
    user = request.user
    if variant not in ("file", "thumb", "download"):
        raise Http404("No such variant.")
    attachment = _attachment_for(user, attachment_id)
    if attachment.state != AttachmentState.STORED:
        raise Http404("Not stored.")
    if variant == "thumb":
        name, content_type, inline = attachment.thumbnail_name, "image/jpeg", True
    else:
        name = attachment.storage_name
        content_type = attachment.detected_type or "application/octet-stream"
        inline = content_type in INLINE_TYPES and variant != "download"
    if not name:
        raise Http404("Not stored.")
    content_type = content_type if inline else "application/octet-stream"
    filename = download_name(attachment) if variant != "thumb" else "thumbnail.jpg"
    response = _ranged(request, name, content_type, inline, filename) or FileResponse(
        storage().open(name, "rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = f"private, max-age={MAX_AGE}"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Accept-Ranges"] = "bytes"
    return response


def _ranged(
    request: HttpRequest, name: str, content_type: str, inline: bool, filename: str
) -> HttpResponseBase | None:
    """206 with the one byte range asked for, 416 past the end; None serves the whole file."""
    header = request.headers.get("Range")
    if not header:
        return None
    size = storage().size(name)
    try:
        found = ranges.parse(header, size)
    except ranges.Unsatisfiable:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if found is None:
        return None
    first, last = found
    partial = StreamingHttpResponse(
        ranges.read_range(storage(), name, first, last), status=206, content_type=content_type
    )
    partial["Content-Range"] = f"bytes {first}-{last}/{size}"
    partial["Content-Length"] = str(last - first + 1)
    partial["Content-Disposition"] = content_disposition_header(not inline, filename) or ""
    return partial


@require_GET
@login_required
def attachment_file(request: AuthedRequest, attachment_id: int, variant: str) -> HttpResponseBase:
    return attachment_response(request, attachment_id, variant)


@require_GET
def outbound_file(request: HttpRequest, token: str) -> FileResponse:
    """A file an agent attached to a reply, for the platform that downloads it (Instagram's
    Send API takes attachments by URL): no login, a signed token instead
    (``webcare.public_links``). A changed token is 403; an expired one, or one for anything
    but a stored attachment of our own reply, is 404."""
    try:
        attachment_id = public_links.outbound_id(token)
    except signing.SignatureExpired as exc:
        raise Http404("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise PermissionDenied("Not a valid link.") from exc
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            state=AttachmentState.STORED,
            message__direction=Direction.OUTBOUND,
        )
        .exclude(storage_name="")
        .first()
    )
    if attachment is None:
        raise Http404("No such file.")
    response = FileResponse(
        storage().open(attachment.storage_name, "rb"),
        content_type=attachment.detected_type or "application/octet-stream",
        filename=download_name(attachment),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
