"""Replay guard for signed webhook deliveries.

X and Meta sign the body but put no time or nonce in the signature, so a captured delivery
stays valid forever. We remember the hash of every verified body for two days: a second
delivery of the same bytes is answered 200 (so a platform retrying a delivery whose answer got
lost stops retrying) but not processed again. Without the cache (Redis down) the guard lets
deliveries through, and the unique constraints still keep every message once.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

REMEMBER_SECONDS = 2 * 24 * 60 * 60


def _key(kind: str, body: bytes) -> str:
    return f"webhook-seen:{kind}:{hashlib.sha256(body).hexdigest()}"


def already_processed(kind: str, body: bytes) -> bool:
    return cache.get(_key(kind, body)) is not None


def mark_processed(kind: str, body: bytes) -> None:
    """Call after the delivery's work is safely queued, never before."""
    cache.set(_key(kind, body), 1, REMEMBER_SECONDS)
