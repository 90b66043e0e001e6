"""Customer avatars, served by us: the agent's browser never loads a platform's image URL.

An avatar URL comes from a platform payload, so it is whatever the sender (or a forger) put
there: loaded by the agent's browser it is a tracking pixel that tells its owner who opened the
ticket, when, and from which address. Pages therefore show ``/inbox/avatar/<identity id>/``;
this module fetches the stored URL on the server and hands back the bytes.

The server's fetch must not become a way into our own network (SSRF): :func:`fetch_image` goes
through ``webcare.safe_http`` (shared with customers' media), which

- takes only ``https`` URLs on the default port, without user names or passwords;
- resolves the host itself and refuses it unless *every* address is public (no private,
  loopback, link-local, multicast, reserved or unspecified address, IPv4-mapped ones included),
  then connects to that checked address (:class:`_PinnedAdapter`), so a second DNS answer
  (rebinding) cannot send the connection elsewhere; TLS still verifies the host's certificate;
- follows at most ``MAX_REDIRECTS`` redirects, checking every hop the same way;
- reads at most ``MAX_BYTES`` (streamed, stopping at the cap) within ``TIMEOUT`` per read and
  ``DEADLINE`` in all, uncompressed only (a gzip body would be inflated in memory before the cap
  counts it), and ignores proxy settings from the environment;
- accepts only PNG, JPEG, GIF and WebP, by the declared type *and* the file's own signature
  (never SVG, which is a document that can carry script).

Results are kept in the shared cache for ``CACHE_TTL`` (failures for ``FAILURE_TTL``, so a dead
URL is not fetched on every page view), keyed by the identity and the URL, so a new avatar URL
is fetched afresh. Whatever fails, the page gets a neutral placeholder, never an error image.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from inbox.core import access
from inbox.models import Identity, Message
from webcare import safe_http
from webcare.http import AuthedRequest

log = logging.getLogger(__name__)

# Served types, by the first bytes of the file: the response's Content-Type comes from here.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (3.0, 5.0)  # (connect, each read) seconds
DEADLINE = 10.0  # seconds for the whole fetch, however slowly a server drips bytes
CACHE_TTL = 24 * 60 * 60
FAILURE_TTL = 60 * 60
BROWSER_MAX_AGE = 60 * 60  # the agent's browser keeps an avatar this long (private cache)
PLACEHOLDER_MAX_AGE = 5 * 60
# The response is an image, never a document: no script, style or frame even if opened alone.
IMAGE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
PLACEHOLDER = Path(settings.BASE_DIR, "static", "img", "avatar.svg").read_bytes()


# The URL or what it answered is not an avatar we serve (the reason, for the log).
Refused = safe_http.Refused


# The URL checks live with the fetch in ``webcare.safe_http`` (shared with customers' media).
checked_target = safe_http.checked_target


# --- the fetch --------------------------------------------------------------------------------
def _image_type(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def fetch_image(url: str) -> tuple[str, bytes]:
    """(content type, bytes) of the image at ``url``, fetched under the rules of
    ``webcare.safe_http`` (any public https host: avatars come from every platform's CDN);
    :class:`Refused` otherwise."""
    body = bytearray()
    try:
        answer = safe_http.stream(
            url,
            sink=body.extend,
            max_bytes=MAX_BYTES,
            deadline=DEADLINE,
            accept=", ".join(sorted(ALLOWED_TYPES)),
            max_redirects=MAX_REDIRECTS,
            timeout=TIMEOUT,
        )
    except safe_http.FetchError as exc:
        raise Refused(exc.reason) from exc
    if answer.declared_type not in ALLOWED_TYPES:
        raise Refused(f"not an allowed image type: {answer.declared_type[:40]!r}")
    found = _image_type(bytes(body[:16]))
    if found is None or found != answer.declared_type:
        raise Refused("the bytes are not the declared image type")
    return found, bytes(body)


# --- cache and view ---------------------------------------------------------------------------
def _cache_key(identity_id: int, url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    return f"avatar:{identity_id}:{digest}"


def avatar_image(identity_id: int, url: str) -> tuple[str, bytes] | None:
    """The avatar's (type, bytes) from the cache, else fetched and cached; None when there is
    none to show (failures are cached too)."""
    if not url:
        return None
    key = _cache_key(identity_id, url)
    cached = cache.get(key)
    if cached is not None:
        return tuple(cached) if cached else None
    try:
        found = fetch_image(url)
    except Refused as exc:
        log.info("avatar of identity %s not served: %s", identity_id, exc)
        cache.set(key, (), FAILURE_TTL)
        return None
    cache.set(key, found, CACHE_TTL)
    return found


def may_see_identity(user, identity_id: int) -> bool:
    """Whether ``user`` sees a ticket of this identity, or one with a message they wrote."""
    tickets = access.visible_tickets(user)
    if access.can_assign(user):  # sees every ticket: any identity that exists
        return Identity.objects.filter(pk=identity_id).exists()
    wrote = Message.objects.filter(ticket_id=OuterRef("pk"), author_identity_id=identity_id)
    return tickets.filter(Q(identity_id=identity_id) | Q(Exists(wrote))).exists()


def _image_response(content: bytes, content_type: str, max_age: int) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["Content-Security-Policy"] = IMAGE_CSP
    response["Content-Disposition"] = "inline"
    return response


@require_GET
@login_required
def avatar(request: AuthedRequest, identity_id: int) -> HttpResponse:
    """The identity's avatar for a signed-in user who may see it, else 403. Takes our id, never
    a URL: what is fetched is only ever the URL stored for that identity."""
    access.require_work(request.user)
    if not may_see_identity(request.user, identity_id):
        raise PermissionDenied("Not a customer of your tickets.")
    url = Identity.objects.filter(pk=identity_id).values_list("avatar_url", flat=True).first()
    found = avatar_image(identity_id, url or "")
    if found is None:
        return _image_response(PLACEHOLDER, "image/svg+xml", PLACEHOLDER_MAX_AGE)
    content_type, body = found
    if content_type not in ALLOWED_TYPES:  # a cache entry of another version: never served
        return _image_response(PLACEHOLDER, "image/svg+xml", PLACEHOLDER_MAX_AGE)
    return _image_response(body, content_type, BROWSER_MAX_AGE)
