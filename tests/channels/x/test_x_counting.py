"""X's weighted length (twitter-text v3): what the composer checks before a reply is queued."""

import pytest

from channels.x.connector import XConnector


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Where is my parcel?", 19),
        ("日本語", 6),  # CJK weighs 2
        ("안녕하세요", 10),  # so does Hangul
        ("café", 4),  # Latin-1 weighs 1
        ("cafe\u0301", 4),  # NFC first: e + combining accent is one é
        ("“quotes” – and ‘dashes’", 23),  # U+2010..U+201F are in the light ranges
        ("wait…", 6),  # the ellipsis U+2026 is not: it weighs 2
        ("👍", 2),  # an emoji weighs 2
        ("👍🏽", 2),  # with a skin tone: still one emoji
        ("👨‍👩‍👧‍👦", 2),  # a ZWJ family: one emoji
        ("🇳🇱", 2),  # a flag: one emoji
        ("https://example.com/a/very/long/path/that/goes/on/and/on?x=1", 23),  # URLs weigh 23
        ("see example.com.", 4 + 23 + 1),  # a bare domain too; the full stop is not in it
        ("a" * 280, 280),
    ],
)
def test_x_counts_text_by_weight(text, length):
    assert XConnector.count_text(text) == length


def test_the_limit_is_280_weighted_characters():
    assert XConnector.text_limit == 280
    assert XConnector.count_text("荷" * 140) == 280
    assert XConnector.count_text("荷" * 141) == 282


def test_the_browsers_list_of_domains_is_the_one_the_server_counts_with():
    """static/js/x-domains.js is generated from twitter-text-parser (manage.py x_domains_js):
    after an upgrade of the package the check fails until the file is written again."""
    from django.core.management import call_command

    call_command("x_domains_js", "--check")


def test_the_browsers_list_of_domains_holds_country_and_new_generic_endings():
    from channels.x.counting import browser_domains_js

    tlds = browser_domains_js().split('"tlds": "')[1].split('"')[0].split("|")
    assert {"nl", "amsterdam", "museum", "shop", "com", "co"} <= set(tlds)
