"""tweepy's v2 Client, built safely for a worker, and its errors mapped to ours.

- ``wait_on_rate_limit`` stays off: it sleeps the worker, and in tweepy 4.17 a 429 without an
  ``x-rate-limit-reset`` header even makes it retry at once, in a loop (tweepy/client.py,
  ``Client.request``). We catch :class:`tweepy.TooManyRequests` ourselves.
- tweepy passes no timeout to requests; a hung connection would hold a worker until Celery's
  hard time limit. Our session adds one.
- ``return_type=dict``: normalisation works on X's JSON as documented, not on tweepy models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import tweepy
from django.utils import timezone

from ..base import (
    AuthError,
    ConnectorError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TemporaryError,
)

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20
# X's rate-limit windows are 15 minutes: without a reset header, that is the longest we wait.
DEFAULT_RATE_LIMIT_WAIT = dt.timedelta(minutes=15)
# X error "types" on a 403 that mean the credentials cannot do this at all (reconnect needed),
# as opposed to a refusal of this one request (a duplicate post, a closed conversation).
AUTH_PROBLEM_TYPES = (
    "oauth1-permissions",
    "client-forbidden",
    "unsupported-authentication",
    "not-authorized-for-resource",
)

T = TypeVar("T")


class _TimeoutSession(requests.Session):
    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        return super().request(method, url, *args, **kwargs)


def make_client(credentials: dict[str, Any]) -> tweepy.Client:
    client = tweepy.Client(
        bearer_token=credentials.get("bearer_token") or None,
        consumer_key=credentials.get("consumer_key") or None,
        consumer_secret=credentials.get("consumer_secret") or None,
        access_token=credentials.get("access_token") or None,
        access_token_secret=credentials.get("access_token_secret") or None,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session = _TimeoutSession()
    return client


def has_user_context(credentials: dict[str, Any]) -> bool:
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    return all(credentials.get(k) for k in keys)


def api_message(exc: tweepy.HTTPException) -> str:
    """X's own words for an error: its messages, else the HTTP status line."""
    messages = [str(m) for m in exc.api_messages if m]
    status = getattr(exc.response, "status_code", "")
    reason = getattr(exc.response, "reason", "") or ""
    text = "; ".join(messages) or reason or "no details"
    return f"X API {status}: {text}"


def _problem_types(exc: tweepy.HTTPException) -> str:
    types = []
    for error in exc.api_errors:
        if isinstance(error, dict):
            types.append(str(error.get("type", "")))
    try:
        body = exc.response.json()
    except (ValueError, AttributeError):
        body = {}
    if isinstance(body, dict):
        types.append(str(body.get("type", "")))
    return " ".join(types)


def rate_limit_until(exc: tweepy.TooManyRequests) -> dt.datetime:
    if exc.reset_time:
        return dt.datetime.fromtimestamp(int(exc.reset_time), tz=dt.UTC)
    return timezone.now() + DEFAULT_RATE_LIMIT_WAIT


def rate_limited(exc: tweepy.TooManyRequests) -> RateLimited:
    until = rate_limit_until(exc)
    local = timezone.localtime(until)
    return RateLimited(
        f"rate limited until {local:%H:%M} ({api_message(exc)})", until=until, code=429
    )


def call(fn: Callable[..., T], *args: Any, sending: bool = False, **kwargs: Any) -> T:
    """Call one tweepy method; every failure leaves as one of our typed errors.

    ``sending``: the call posts something. Then an answer lost after the request left (read
    timeout, connection dropped, a 5xx from X's front end) means the post may exist: that is
    :class:`OutcomeUnknown`, and the retry looks for it before posting again.
    """
    try:
        return fn(*args, **kwargs)
    except tweepy.TooManyRequests as exc:
        raise rate_limited(exc) from exc
    except tweepy.Unauthorized as exc:
        raise AuthError(api_message(exc), code=401) from exc
    except tweepy.Forbidden as exc:
        if sending and not any(t in _problem_types(exc) for t in AUTH_PROBLEM_TYPES):
            raise PermanentError(api_message(exc), code=403) from exc
        raise AuthError(api_message(exc), code=403) from exc
    except tweepy.TwitterServerError as exc:
        if sending:
            raise OutcomeUnknown(
                f"{api_message(exc)}; the reply may or may not have been posted", code=5
            ) from exc
        raise TemporaryError(api_message(exc), code=exc.response.status_code) from exc
    except (tweepy.BadRequest, tweepy.NotFound) as exc:
        raise PermanentError(api_message(exc), code=exc.response.status_code) from exc
    except tweepy.HTTPException as exc:
        raise PermanentError(api_message(exc)) from exc
    except requests.ConnectTimeout as exc:
        # The connection was never made: nothing was posted.
        raise TemporaryError(f"X did not answer in time (connect): {exc}") from exc
    except (requests.Timeout, requests.ConnectionError) as exc:
        if sending:
            raise OutcomeUnknown(f"X did not answer in time: {exc}") from exc
        raise TemporaryError(f"X did not answer in time: {exc}") from exc
    except ValueError as exc:
        # A 2xx whose body is not JSON (a proxy's HTML page).
        raise TemporaryError(f"X sent an unreadable answer: {exc}") from exc
    except tweepy.TweepyException as exc:
        raise ConnectorError(str(exc)) from exc
