"""tweepy's v2 Client, built safely for a worker, and its errors mapped to ours.

- ``wait_on_rate_limit`` stays off: it sleeps the worker, and in tweepy 4.17 a 429 without an
  ``x-rate-limit-reset`` header even makes it retry at once, in a loop (tweepy/client.py,
  ``Client.request``). We catch :class:`tweepy.TooManyRequests` ourselves.
- tweepy passes no timeout to requests; a hung connection would hold a worker until Celery's
  hard time limit. Our session adds one.
- ``return_type=dict``: normalisation works on X's JSON as documented, not on tweepy models.
"""

from __future__ import annotations

import contextlib
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

# X's answer when the plan's usage cap (not a 15-minute window) is reached: HTTP 429 with
# {"title": "UsageCapExceeded", "period": "Monthly", "scope": "Product", "detail": "Usage cap
# exceeded: Monthly product cap", "type": "https://api.twitter.com/2/problems/usage-capped"}.
# Waiting 15 minutes would only be refused again until the cap resets. See docs/channels/x.md.
USAGE_CAP_TITLE = "UsageCapExceeded"
USAGE_CAP_TYPE = "https://api.twitter.com/2/problems/usage-capped"
# Headers of X's 24-hour caps (posting): when the capped period is a day, they say when it ends.
DAILY_RESET_HEADERS = ("x-app-limit-24hour-reset", "x-user-limit-24hour-reset")

T = TypeVar("T")


class _TimeoutSession(requests.Session):
    def request(self, method, url, *args, **kwargs):
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


def oauth1_headers(credentials: dict[str, Any], url: str) -> dict[str, str]:
    """An OAuth 1.0a ``Authorization`` header for one GET of ``url``: DM media on
    ton.twitter.com is served only to the conversation's participants."""
    from oauthlib.oauth1 import Client as OAuth1Client

    if not has_user_context(credentials):
        raise AuthError("Direct message media on X needs the account's access token and secret.")
    signer = OAuth1Client(
        credentials["consumer_key"],
        client_secret=credentials["consumer_secret"],
        resource_owner_key=credentials["access_token"],
        resource_owner_secret=credentials["access_token_secret"],
    )
    _, headers, _ = signer.sign(url, http_method="GET")
    return {"Authorization": headers["Authorization"]}


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


def usage_cap(exc: tweepy.HTTPException) -> dict[str, Any] | None:
    """X's usage-cap problem in this 429's body, or None for an ordinary rate limit."""
    try:
        body = exc.response.json()
    except (ValueError, AttributeError):
        return None
    candidates = [body] if isinstance(body, dict) else []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        candidates += [e for e in body["errors"] if isinstance(e, dict)]
    for problem in candidates:
        detail = str(problem.get("detail") or problem.get("message") or "").lower()
        if (
            problem.get("title") == USAGE_CAP_TITLE
            or problem.get("type") == USAGE_CAP_TYPE
            or "usage cap exceeded" in detail
        ):
            return problem
    return None


def next_cap_reset(now: dt.datetime, reset_day: int | None = None) -> dt.datetime:
    """Midnight UTC of the next ``reset_day`` of a month (the plan's billing day; the 1st when
    unknown), strictly after ``now``. A day past a month's end is that month's last day."""
    day = reset_day if reset_day and 1 <= reset_day <= 31 else 1
    now = now.astimezone(dt.UTC)
    year, month = now.year, now.month
    for _ in range(3):
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        candidate = dt.datetime(year, month, min(day, last), tzinfo=dt.UTC)
        if candidate > now:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: a reset day comes within two months")


def usage_capped(
    exc: tweepy.HTTPException, problem: dict[str, Any], *, reset_day: int | None = None
) -> RateLimited:
    """The usage cap as a wait until it resets, in words an admin reads on the channel."""
    now = timezone.now()
    period = str(problem.get("period") or "Monthly")
    headers = getattr(exc.response, "headers", None) or {}
    if period.lower() == "daily":
        until = now + dt.timedelta(hours=24)
        for name in DAILY_RESET_HEADERS:
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                until = dt.datetime.fromtimestamp(int(headers[name]), tz=dt.UTC)
                break
        word = "daily"
    else:
        until = next_cap_reset(now, reset_day)
        word = "monthly"
    return RateLimited(
        f"X {word} usage cap reached; polling resumes on {until:%Y-%m-%d %H:%M} UTC "
        f"({api_message(exc)})",
        until=until,
        code=429,
    )


def rate_limited(exc: tweepy.TooManyRequests) -> RateLimited:
    until = rate_limit_until(exc)
    local = timezone.localtime(until)
    return RateLimited(
        f"rate limited until {local:%H:%M} ({api_message(exc)})", until=until, code=429
    )


def call(
    fn: Callable[..., T],
    *args: Any,
    sending: bool = False,
    cap_reset_day: int | None = None,
    **kwargs: Any,
) -> T:
    """Call one tweepy method; every failure leaves as one of our typed errors.

    ``sending``: the call posts something. Then an answer lost after the request left (read
    timeout, connection dropped, a 5xx from X's front end) means the post may exist: that is
    :class:`OutcomeUnknown`, and the retry looks for it before posting again.
    ``cap_reset_day``: the day of the month the plan's usage cap resets (channel setting).
    """
    try:
        return fn(*args, **kwargs)
    except tweepy.TooManyRequests as exc:
        problem = usage_cap(exc)
        if problem is not None:
            raise usage_capped(exc, problem, reset_day=cap_reset_day) from exc
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
