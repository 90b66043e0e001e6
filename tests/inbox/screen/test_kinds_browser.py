"""Each kind of channel as a person sees it in Chromium: its own icon in the list, and a
composer that offers what that platform allows (no public reply on a DM, no DM on a review,
X's weighted count, the same in the browser as on the server)."""

from __future__ import annotations

import json

import pytest

from channels.registry import appearance, connector_class
from inbox.ingest.services import ingest_batch
from inbox.models import Team, Ticket
from tests.factories import author, item, make_channel
from tests.personas import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = [
    ("x_demo", "mention"),
    ("x_demo", "dm"),
    ("facebook_demo", "comment"),
    ("messenger_demo", "dm"),
    ("reviews_demo", "review"),
    ("simulator_instagram", "comment"),
    ("whatsapp_demo", "dm"),
]
# Texts X counts differently from their code points: a long URL (23), emoji (2 each, a family
# sequence once), CJK (2 each), accents (1).
SAMPLES = [
    "Plain words, nothing special.",
    "See https://example.com/orders/2026/track?id=1234567890&lang=nl for the status.",
    "Thanks! 😀👍🏽 Bedankt 🇳🇱",
    "家族 👨‍👩‍👧 café ©",
    "Visit example.nl, or www.webcare.shop/help.",
    # Bare domains on any of X's top-level domains (static/js/x-domains.js), as the server sees.
    "Order at shop.amsterdam or example.nl today.",
    "münchen.de, xn--bcher-kva.ch/x, sub.example.co.uk/path?x=1 and example.museum.",
    "Not a domain: v1.2, a@b.nl, e.g. this.",
]


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def _ticket(support, kind: str, ticket_kind: str, n: int) -> Ticket:
    channel = make_channel(
        kind=kind, name=f"{kind} {ticket_kind}", default_team=support, settings={"per_poll": 0}
    )
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                f"{kind}-{n}",
                thread=f"{ticket_kind}:{n}",
                kind=ticket_kind,
                text=f"Message {n} on {kind}",
                author=author(f"c{n}", display_name=f"Customer {n}"),
                rating=2 if ticket_kind == "review" else None,
            )
        ],
    )
    return Ticket.objects.get(channel=channel)


def test_each_kind_shows_its_own_icon_and_label_in_the_list(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    tickets = {(k, tk): _ticket(support, k, tk, n) for n, (k, tk) in enumerate(KINDS)}
    page = web.log_in(live_server, "anna")
    for (kind, _ticket_kind), ticket in tickets.items():
        icon, label, _colour = appearance(kind)
        row = page.locator(f"#row-{ticket.pk}")
        expect(row.locator(f".chan-{kind} .chan-label")).to_have_text(label)
        expect(row.locator(f".chan-{kind} .chan-icon")).to_have_text(icon)
    # Told apart by more than the icon's colour: X and Messenger differ in colour too.
    colours = page.evaluate(
        """() => [...document.querySelectorAll('#list .chan')].map(
             el => getComputedStyle(el).getPropertyValue('--chan').trim())"""
    )
    assert len(set(colours)) >= 5
    assert not page.errors


def _modes(page) -> list[str]:
    return page.locator('#composer input[name="mode"]').evaluate_all("els => els.map(e => e.value)")


def test_a_dm_offers_no_public_reply_and_a_review_no_private_message(web, live_server, support):
    person("anna", team=support)
    dm = _ticket(support, "x_demo", "dm", 1)
    review = _ticket(support, "reviews_demo", "review", 2)
    comment = _ticket(support, "facebook_demo", "comment", 3)
    page = web.log_in(live_server, "anna")

    page.goto(f"{live_server.url}/inbox/t/{dm.pk}/")
    assert _modes(page) == ["dm", "note"]
    assert page.get_by_label("Public reply").count() == 0

    page.goto(f"{live_server.url}/inbox/t/{review.pk}/")
    assert _modes(page) == ["public", "note"]
    assert page.get_by_label("Private message").count() == 0
    assert page.get_by_role("button", name="Hide on platform").count() == 0

    page.goto(f"{live_server.url}/inbox/t/{comment.pk}/")
    assert _modes(page) == ["public", "private", "note"]
    assert page.get_by_role("button", name="Hide on platform").count() == 1
    assert not page.errors


def test_the_x_counter_weighs_urls_and_emoji_as_the_server_does(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    ticket = _ticket(support, "x_demo", "mention", 1)
    page = web.log_in(live_server, "anna")
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    page.get_by_role("button", name="Claim", exact=True).click()

    text = "Track it at https://example.com/a/very/long/path/to/your/parcel 😀"
    page.get_by_label("Reply text", exact=True).fill(text)
    # Text 12 + URL 23 + space 1 + emoji 2, a newline and the signature "^Anna" (6).
    expect(page.locator("#counter")).to_have_text("44 / 280")

    rule = json.dumps(connector_class("x_demo").count_rule())
    in_browser = page.evaluate(
        "([texts, rule]) => texts.map(t => window.webcareCount(t, rule))", [SAMPLES, rule]
    )
    assert in_browser == [connector_class("x_demo").count_text(t) for t in SAMPLES]
    assert not page.errors
