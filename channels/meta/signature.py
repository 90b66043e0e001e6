"""Meta's webhook handshake and body signature, the same for every Meta product.

- GET is the subscription handshake: echo ``hub.challenge`` when ``hub.mode`` is "subscribe" and
  ``hub.verify_token`` is one we configured (Django keeps the dots in GET keys). The echo is not
  signed; it is text/plain and only a short token is echoed.
- POST carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
  app secret>``, compared in constant time before the body is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse

SIGNATURE_HEADER = "X-Hub-Signature-256"

# Meta sends an integer as hub.challenge (docs/channels/facebook.md); anything short of
# letters, digits, "-", "_" and "." is still echoed, nothing longer or stranger.
CHALLENGE = re.compile(r"\A[A-Za-z0-9._-]{1,128}\Z")


def signature_for(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().encode(), signature_for(body, secret).encode())


def handshake(request: HttpRequest, expected_tokens: Iterable[str]) -> HttpResponse:
    """Answer Meta's subscription GET: the challenge when the verify token is one of ours."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "").encode()
    challenge = request.GET.get("hub.challenge", "")
    # Every candidate is compared (no early exit), so timing says nothing about which matched.
    matched = False
    for expected in expected_tokens:
        if expected and hmac.compare_digest(token, expected.encode()):
            matched = True
    if mode == "subscribe" and matched:
        if not CHALLENGE.match(challenge):
            return HttpResponse("bad challenge", status=400, content_type="text/plain")
        # text/plain (and nosniff): the challenge is echoed, never interpreted as markup.
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponse("verification failed", status=403, content_type="text/plain")
