"""Who calls the API: a bearer token, looked up by its SHA-256, and throttled per token."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from ninja.security import HttpBearer

from inbox.api.services import token_digest
from inbox.models import ApiToken, TokenScope

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiError(Exception):
    """An error answered as ``{"code": ..., "message": ...}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def _rate() -> tuple[int, int]:
    """(requests, seconds) per token, from ``API_THROTTLE`` like "120/min"."""
    count, _, period = getattr(settings, "API_THROTTLE", "120/min").partition("/")
    seconds = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}.get(period, 60)
    return int(count), seconds


def throttle(token_id: int) -> None:
    """A fixed window per token in the shared cache; 429 with ``Retry-After`` when used up."""
    limit, seconds = _rate()
    now = time.time()
    window = int(now // seconds)
    key = f"api-throttle:{token_id}:{window}"
    if hasattr(cache, "hit"):  # Redis: one round trip
        used = cache.hit(key, seconds + 1)
    else:
        cache.add(key, 0, seconds + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, seconds + 1)
            used = 1
    if used > limit:
        wait = max(1, int((window + 1) * seconds - now) + 1)
        raise ApiError(
            429, "throttled", "Too many requests for this token.", {"Retry-After": str(wait)}
        )


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        # One row by a unique column: no ORDER BY (``first()`` would add one).
        found = next(
            iter(
                ApiToken.objects.select_related("user").filter(
                    digest=token_digest(token), revoked_at__isnull=True
                )
            ),
            None,
        )
        if found is None or not found.user.is_active:
            return None
        throttle(found.pk)
        if request.method not in SAFE_METHODS and found.scope != TokenScope.WRITE:
            raise ApiError(403, "read_only_token", "This token may only read.")
        # last_used_at at most once a minute per token: no write on every request.
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        return found
