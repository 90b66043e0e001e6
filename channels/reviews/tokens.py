"""Short-lived OAuth access tokens, kept in the worker's memory.

A connector may not write to the database, and access tokens (Google: an hour, Trustpilot:
100 hours) are cheap to get again, so each worker process keeps its own and asks for a new one
when it expires or the platform rejects it. The key includes a digest of the long-lived secret,
so reconnecting a channel with new credentials never reuses an old token.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from ..base import AuthError
from ..http import json_call

# Renew this long before the platform's stated expiry, so a token never dies mid-request.
EARLY = 60.0

_lock = threading.Lock()
_tokens: dict[str, tuple[str, float]] = {}


def token_key(kind: str, channel_id: int, *secrets: str) -> str:
    digest = hashlib.sha256("\x00".join(secrets).encode()).hexdigest()[:24]
    return f"{kind}:{channel_id}:{digest}"


def cached_token(key: str, fetch: Callable[[], tuple[str, float]]) -> str:
    """The live token for ``key``, fetching one (``fetch`` returns token, lifetime seconds)
    when there is none or it is about to expire."""
    now = time.monotonic()
    with _lock:
        entry = _tokens.get(key)
        if entry and entry[1] > now:
            return entry[0]
    token, lifetime = fetch()
    with _lock:
        _tokens[key] = (token, now + max(0.0, float(lifetime) - EARLY))
    return token


def forget_token(key: str) -> None:
    with _lock:
        _tokens.pop(key, None)


def forget_all() -> None:
    with _lock:
        _tokens.clear()


def bearer_call(
    method: str,
    url: str,
    *,
    key: str,
    fetch: Callable[[], tuple[str, float]],
    **kwargs: Any,
) -> Any:
    """``json_call`` with the cached bearer token for ``key``.

    A 401 with a cached token (revoked early, clock skew) fetches a fresh one once; a 401 with
    a fresh token is the channel's problem and is raised.
    """
    for attempt in (1, 2):
        token = cached_token(key, fetch)
        try:
            return json_call(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except AuthError as exc:
            if attempt == 1 and exc.code == 401:
                forget_token(key)
                continue
            raise
    raise AssertionError("unreachable")
