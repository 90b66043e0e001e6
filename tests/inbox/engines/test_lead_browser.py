"""A lead's day in a real browser (Debian's Chromium through Playwright): business hours, a
routing rule that tags, "Why is this here?", an incident answered for all its customers, and the
dashboard. The fixtures and log-in come from the agent's browser tests."""

from __future__ import annotations

import pytest

from inbox.ingest.services import ingest_batch
from inbox.models import (
    DeliveryState,
    Direction,
    Incident,
    Message,
    Rule,
    Team,
    Ticket,
    TicketStatus,
)
from tests.factories import author, item, make_channel
from tests.inbox.screen.test_inbox_browser import LIVE, browser, eager, log_in  # noqa: F401 - fixtures
from tests.personas import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALWAYS = "00:00-24:00"


@pytest.fixture
def support():
    team = Team.objects.create(name="Support", time_zone="Europe/Amsterdam")
    person("lotte", "lead", team=team)
    return team


def _ingest(channel, key: str, text: str, name: str) -> Ticket:
    result = ingest_batch(
        channel_id=channel.pk,
        items=[item(key, thread=key, uid=key, text=text, author=author(key, display_name=name))],
    )
    return Ticket.objects.get(pk=result.ticket_ids[0])


def test_a_lead_sets_the_teams_business_hours_on_the_hours_page(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    support,
):
    from playwright.sync_api import expect

    page = log_in(browser, live_server, "lotte")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Hours and SLA").click()
    page.get_by_role("link", name="Support").click()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(day).fill(ALWAYS)
    page.get_by_role("button", name="Save hours").click()

    expect(page.get_by_text("Business hours saved.")).to_be_visible()
    expect(page.locator(".calendar-state")).to_have_text("Open now.")
    page.get_by_role("link", name="Hours and SLA").click()
    row = page.locator(f'tr[data-calendar="{support.pk}"]')
    expect(row.locator(".open-now")).to_have_text("open")
    expect(row).to_contain_text(f"Monday {ALWAYS}")
    assert page.errors == []


def test_a_leads_keyword_rule_tags_a_new_ticket_and_is_named_in_why_is_this_here(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    support,
):
    from playwright.sync_api import expect

    channel = make_channel()
    page = log_in(browser, live_server, "lotte")
    page.goto(f"{live_server.url}/settings/rules/")
    page.get_by_role("link", name="Add a rule").click()
    page.get_by_label("Name").fill("Outage words")
    page.get_by_label("Keywords").fill("storing")
    page.get_by_label("Add tags").fill("outage")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("Rule created.")).to_be_visible()
    assert Rule.objects.get().name == "Outage words"

    page.get_by_role("link", name="Inbox", exact=True).click()
    ticket = _ingest(channel, "r1", "Is er een storing? De app doet niets.", "Mia")
    row = page.locator(f"#row-{ticket.pk}")
    expect(row.locator(".tag")).to_have_text("outage", timeout=LIVE)
    row.get_by_role("link").click()
    why = page.locator("aside.why")
    expect(why.get_by_role("heading", name="Why is this here?")).to_be_visible()
    expect(why.locator(".why-rules")).to_contain_text("Outage words")
    expect(page.locator("#live .tags")).to_contain_text("outage")
    assert page.errors == []


def test_a_lead_links_a_ticket_to_an_incident_and_resolving_it_answers_and_closes_the_ticket(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    support,
    eager,  # noqa: F811
):
    from playwright.sync_api import expect

    channel = make_channel()
    ticket = _ingest(channel, "i1", "Ik kan niet inloggen, ligt het aan jullie?", "Sam")
    page = log_in(browser, live_server, "lotte")

    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Declare an incident").click()
    page.get_by_label("Title").fill("Log-in down")
    page.locator("#id_reply_template").fill("Hi {first_name}, you can log in again.")
    page.get_by_role("button", name="Declare").click()
    expect(page.get_by_text("Incident declared.")).to_be_visible()

    # From the thread, "Why is this here?" links the ticket.
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    page.get_by_label("Link to").select_option(label="Log-in down")
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator(".why-incident")).to_contain_text("Log-in down")

    # Resolve: the preview first, then the confirmation sends.
    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Log-in down").click()
    page.get_by_role("link", name="Resolve: answer all linked customers").click()
    preview = page.locator(f'table.preview tr[data-ticket="{ticket.pk}"]')
    expect(preview).to_contain_text("Hi Sam, you can log in again.")
    page.get_by_role("button", name="Send to 1 customer and resolve").click()
    expect(page.locator("h1 .badge")).to_have_text("resolved")

    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    expect(page.locator("#live .thread-head .status")).to_have_text("Closed")
    expect(page.locator("#live .msg-out")).to_contain_text("Hi Sam, you can log in again.")
    expect(page.locator("#live .msg-out .delivery")).to_have_text("Sent")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert Incident.objects.get().resolved_at is not None
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.delivery_state == DeliveryState.SENT
    assert page.errors == []


def test_a_lead_opens_the_dashboard_from_the_top_bar_and_sees_the_days_figures(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    support,
):
    from playwright.sync_api import expect

    channel = make_channel()
    for n in range(3):
        _ingest(channel, f"d{n}", f"Vraag {n}: waar blijft mijn pakket?", f"Klant {n}")
    page = log_in(browser, live_server, "lotte")
    page.get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator('[data-figure="tickets"] dd')).to_have_text("3")
    expect(page.get_by_role("heading", name="New tickets by channel and day")).to_be_visible()
    assert page.errors == []


@pytest.mark.parametrize("width", [1366, 1500, 1920])
def test_the_list_keeps_every_column_beside_an_open_thread_without_sideways_scrolling(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    support,
    width,
):
    from playwright.sync_api import expect

    channel = make_channel()
    ticket = _ingest(channel, "w1", "Mijn bestelling 54018 is nog steeds niet binnen", "Fleur")
    ticket.tags.create(name="delivery")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("lotte")
    page.get_by_label("Password").fill("pw-lotte")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")

    expect(page.get_by_role("heading", name="Why is this here?")).to_be_visible()
    pane = page.locator("#list-pane")
    assert pane.evaluate("el => el.scrollWidth <= el.clientWidth")
    right = pane.evaluate("el => el.getBoundingClientRect().right")
    for header in ("Assignee", "Tags"):
        box = page.get_by_role("columnheader", name=header).bounding_box()
        assert box["x"] + box["width"] <= right + 1
    # The reply box is on the first screen, not pushed down by the panel.
    composer = page.get_by_label("Reply text", exact=True).bounding_box()
    assert composer["y"] < 800
    context.close()
