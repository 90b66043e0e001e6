"""Signed requests to addresses an admin configured (outbound webhooks, the CRM look-up).

Signing: ``Webcare-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``. Where we
may connect: the host must resolve only to public addresses (``webcare.safe_http``'s check),
unless ``WEBHOOKS_ALLOW_PRIVATE`` is set, and the connection goes to the checked address. It
knows nothing of the inbox, so every area that sends signed requests can use it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings

from webcare import safe_http


# --- signing ----------------------------------------------------------------------------------
def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, body: bytes, now: float | None = None) -> str:
    t = int(now if now is not None else time.time())
    return f"t={t},v1={signature(secret, t, body)}"


def signature_valid(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - t) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, t, body), parts.get("v1", ""))


# --- where we may connect ---------------------------------------------------------------------
class Refused(Exception):
    pass


def target(url: str) -> tuple[str, dict]:
    """(URL to request, extra headers): the host resolved and checked, the connection pinned to
    the checked address (http) or through the avatar fetch's pinned adapter (https)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials in the URL")
    try:
        addresses = safe_http._addresses(parts.hostname)
    except safe_http.Refused as exc:
        raise Refused(str(exc)) from exc
    allow_private = getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False)
    if not addresses or not (allow_private or all(safe_http._public(a) for a in addresses)):
        raise Refused(f"{parts.hostname} resolves to a non-public address")
    if parts.scheme == "https":
        return url, {"__pin__": addresses[0]}
    address = addresses[0]
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}


_sessions: dict[str, requests.Session] = {}


def _session(key: str, pin: str | None) -> requests.Session:
    """One keep-alive session per target, so a burst reuses its connection."""
    session = _sessions.get(key)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        if pin:
            session.mount("https://", safe_http._PinnedAdapter(pin))
        _sessions[key] = session
    return session
