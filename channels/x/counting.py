"""X's weighted character count, so a reply is checked before it is queued.

X counts text with twitter-text's "v3" configuration (config/v3.json in twitter/twitter-text):
the text is NFC-normalised; every code point weighs 200 except those in the ranges below, which
weigh 100; a URL weighs ``transformedURLLength`` (23) × scale whatever its length; an emoji
sequence (a ZWJ family, a flag, a skin-tone variant) weighs ``defaultWeight`` once; the length is
the total divided by ``scale`` (100) and may be at most 280. See docs/channels/x.md.

The count is twitter-text's own, through its Python port (the ``twitter-text-parser`` package,
module ``twitter_text``, which passes twitter-text's conformance suite): recognising URLs needs
the full list of top-level domains and emoji the Unicode emoji list, which a hand-written
approximation gets wrong at the edges. The composer's live counter mirrors the same rule in the
browser (:func:`count_rule`, ``static/js/reply-count.js``, with the domain lists of
``static/js/x-domains.js`` generated from the same package); X itself stays the final judge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels.payload import child

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
# (start, end, weight), inclusive code point ranges.
RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))


def weighted_length(text: str) -> int:
    """The length X counts for ``text``."""
    # Imported here: the library compiles its URL and emoji patterns on import (~0.5 s), which
    # only a process that counts X text should pay.
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def is_valid_length(text: str) -> bool:
    return 0 < weighted_length(text) <= MAX_WEIGHTED_LENGTH


def count_rule() -> dict[str, Any]:
    """The same rule for the composer's counter in the browser (``static/js/inbox.js``)."""
    return {
        "kind": "weighted",
        "scale": SCALE,
        "default_weight": DEFAULT_WEIGHT,
        "url_length": TRANSFORMED_URL_LENGTH,
        "ranges": [list(r) for r in RANGES],
    }


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


# --- the same domains in the browser ------------------------------------------------------------
BROWSER_DOMAINS_JS = "static/js/x-domains.js"


def _alternatives(pattern: str) -> str:
    """The names of one of twitter-text's TLD patterns, ``(?:(?:a|b|…)(?=…))``, as ``a|b|…``."""
    head, tail = "(?:(?:", ")(?=[^0-9a-zA-Z@+-]|$))"
    if not (pattern.startswith(head) and pattern.endswith(tail)):
        raise ValueError("twitter-text's TLD pattern changed shape; see browser_domains_js().")
    return pattern[len(head) : -len(tail)]


def browser_domains_js() -> str:
    """``static/js/x-domains.js``: the top-level domains (generic, country, punycode) and the
    accented letters twitter-text accepts in a bare domain ("example.nl", "shop.amsterdam"),
    taken from the Python port's own patterns, so the composer's counter recognises exactly the
    domains the server does. Written by ``manage.py x_domains_js``; a test keeps it current."""
    import json

    from twitter_text.regexp.latin_accent_chars import latin_accent_chars
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld
    from twitter_text.regexp.valid_punycode import valid_punycode

    data = {
        "tlds": _alternatives(valid_gtld.pattern) + "|" + _alternatives(valid_cctld.pattern),
        "punycode": valid_punycode.pattern,
        "accents": latin_accent_chars.pattern,
    }
    return (
        "// Generated by `manage.py x_domains_js` from twitter-text-parser's patterns "
        "(channels/x/counting.py): do not edit.\n"
        "// The domains X recognises without https:// (static/js/reply-count.js uses them).\n"
        f"window.webcareXDomains = {json.dumps(data, ensure_ascii=True, indent=1)};\n"
    )
