"""X's weighted character count, so a reply is checked before it is queued.

X counts text with twitter-text's "v3" configuration (config/v3.json in twitter/twitter-text):
the text is NFC-normalised; every code point weighs 200 except those in the ranges below, which
weigh 100; a URL weighs ``transformedURLLength`` (23) × scale whatever its length; an emoji
sequence (a ZWJ family, a flag, a skin-tone variant) weighs ``defaultWeight`` once; the length is
the total divided by ``scale`` (100) and may be at most 280. See docs/channels/x.md.

The URL and emoji recognisers here are simpler than twitter-text's (which uses its full TLD list
and the twemoji parser): they cover URLs with a scheme, bare domains on common TLDs and the
emoji blocks. X itself stays the final judge; a reply it still refuses fails with X's reason.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from channels.payload import child

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
# (start, end, weight), inclusive code point ranges.
RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))

_TLDS = (
    "com|net|org|info|biz|io|co|me|app|dev|ai|edu|gov|eu|nl|be|de|fr|uk|es|it|ch|at|se|no|dk|"
    "fi|pl|pt|ie|us|ca|au|nz|jp|cn|in|br|mx|ru|tv|ly|gl|shop|store|online|site|xyz"
)
_URL = re.compile(
    r"(?<![\w@.])(?:https?://[^\s<>\"]+|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:"
    + _TLDS
    + r")\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
# Trailing punctuation ends a sentence, not the URL (twitter-text does the same).
_URL_TRAILING = ".,:;!?)'\""

_PICTO = (
    "\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_MODIFIERS = "\ufe0f\U0001f3fb-\U0001f3ff"
_EMOJI = re.compile(
    "(?:"
    r"[0-9#*]\ufe0f?\u20e3"  # keycaps
    r"|[\U0001f1e6-\U0001f1ff]{2}"  # flags: two regional indicators
    r"|[\u00a9\u00ae]\ufe0f"  # (c) and (r) only when asked to render as emoji
    rf"|[{_PICTO}][{_MODIFIERS}]*(?:\u200d[{_PICTO}][{_MODIFIERS}]*)*[\U000e0020-\U000e007f]*"
    ")"
)


def _weight(char: str) -> int:
    code = ord(char)
    for start, end, weight in RANGES:
        if start <= code <= end:
            return weight
    return DEFAULT_WEIGHT


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        spans.append((match.start(), match.start() + len(url)))
    return spans


def weighted_length(text: str) -> int:
    """The length X counts for ``text`` (an int: every weight is a multiple of ``SCALE``)."""
    text = unicodedata.normalize("NFC", text)
    starts: dict[int, tuple[int, int]] = {}
    for start, end in _url_spans(text):
        starts[start] = (end, TRANSFORMED_URL_LENGTH * SCALE)
    for match in _EMOJI.finditer(text):
        if match.start() not in starts and not any(
            s <= match.start() < e for s, (e, _) in starts.items()
        ):
            starts[match.start()] = (match.end(), DEFAULT_WEIGHT)
    total = 0
    index = 0
    while index < len(text):
        span = starts.get(index)
        if span is not None:
            end, weight = span
            total += weight
            index = end
            continue
        total += _weight(text[index])
        index += 1
    return total // SCALE


def is_valid_length(text: str) -> bool:
    return 0 < weighted_length(text) <= MAX_WEIGHTED_LENGTH


# --- what the month's API use costs -------------------------------------------------------------
# (usage counter, settings name of its unit price, words for the admin). The counters are kept
# per channel and month in ``Channel.usage``: the poll adds the resources X returned (X bills
# reads per resource), ``channels.health.record_post`` the replies sent (writes, per request).
BILLED = (
    ("post_reads", "X_PRICE_POST_READ", "posts read"),
    ("user_reads", "X_PRICE_USER_READ", "users read"),
    ("dm_event_reads", "X_PRICE_DM_EVENT_READ", "DM events read"),
    ("posts", "X_PRICE_CONTENT_CREATE", "replies sent"),
)


def billed_units(page: dict, *, dm: bool = False) -> dict[str, int]:
    """The resources one API answer bills: its ``data`` (posts, or DM events) and what
    ``includes`` adds (users, referenced posts)."""
    data = page.get("data")
    includes = child(page, "includes")
    users = includes.get("users")
    tweets = includes.get("tweets")
    found = len(data) if isinstance(data, list) else 0
    units = {
        "dm_event_reads" if dm else "post_reads": found,
        "user_reads": len(users) if isinstance(users, list) else 0,
    }
    if isinstance(tweets, list):
        units["post_reads"] = units.get("post_reads", 0) + len(tweets)
    return {k: v for k, v in units.items() if v}


def estimated_cost(usage: dict, prices: dict[str, Decimal]) -> tuple[Decimal, list[str]]:
    """This month's cost from the usage counters at ``prices`` (settings name → USD), and the
    counts it is made of, in words. An estimate: X deduplicates a resource read twice in one
    UTC day, and bills a post with a link at a higher rate."""
    total = Decimal(0)
    parts = []
    for counter, price_name, words in BILLED:
        try:
            count = int((usage or {}).get(counter) or 0)
        except (TypeError, ValueError):
            count = 0
        if count:
            total += count * prices[price_name]
            parts.append(f"{count} {words}")
    return total.quantize(Decimal("0.01")), parts


def cost_summary(usage: dict) -> str:
    """ "≈ $1.23 this month (120 posts read, 4 replies sent)" at the configured prices."""
    from django.conf import settings

    prices = {name: Decimal(getattr(settings, name)) for _, name, _ in BILLED}
    total, parts = estimated_cost(usage, prices)
    detail = ", ".join(parts) if parts else "no billed use yet"
    return f"≈ ${total} this month ({detail})"
