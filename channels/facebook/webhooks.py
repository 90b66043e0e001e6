"""``/webhooks/facebook/`` and ``/webhooks/messenger/``: one Meta app, one handler.

A Meta app has one callback URL per object ("page"); both the ``feed`` and ``messages`` fields
arrive there. Either URL may be configured; both run this code.

- GET is the subscription handshake: echo ``hub.challenge`` when ``hub.mode`` is "subscribe" and
  ``hub.verify_token`` equals META_WEBHOOK_VERIFY_TOKEN (Django keeps the dots in GET keys).
- POST must carry ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with
  META_APP_SECRET>``, compared in constant time. A verified body is queued for a Celery task and
  answered 200 at once: Meta retries slow or failed deliveries, and the database drops the
  duplicates those retries bring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .. import webhook_guard

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_for(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().encode(), signature_for(body, secret).encode())


def handle(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    secret = getattr(settings, "META_APP_SECRET", "")
    if not secret:
        log.error("Meta webhook refused: META_APP_SECRET is not set")
        return HttpResponse("webhook not configured", status=403, content_type="text/plain")
    if not signature_ok(request.body, request.headers.get(SIGNATURE_HEADER, ""), secret):
        log.warning("Meta webhook refused: bad or missing %s", SIGNATURE_HEADER)
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse("malformed body", status=400, content_type="text/plain")
    if not isinstance(payload, dict) or payload.get("object") != "page":
        # Signed by Meta but not for a Page (e.g. "instagram", "user"): nothing for us.
        return HttpResponse("ignored", content_type="text/plain")
    if webhook_guard.already_processed("facebook", request.body):
        return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
    from .tasks import process_webhook

    process_webhook.delay(payload)
    webhook_guard.mark_processed("facebook", request.body)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _handshake(request: HttpRequest) -> HttpResponse:
    expected = getattr(settings, "META_WEBHOOK_VERIFY_TOKEN", "")
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
        # text/plain: the challenge is echoed, never interpreted as markup.
        return HttpResponse(challenge, content_type="text/plain")
    return HttpResponse("verification failed", status=403, content_type="text/plain")
