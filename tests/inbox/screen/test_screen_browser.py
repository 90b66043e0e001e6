"""The inbox screen in Chromium as a person sees it: what clears after sending, layouts."""

from __future__ import annotations

import pytest

from inbox.ingest.services import ingest_batch
from inbox.models import Team, Ticket
from tests.factories import author, item, make_channel
from tests.personas import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def _one_ticket(support, text="Where is my parcel?") -> Ticket:
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item("b1", text=text, author=author("c1", display_name="Mia"))],
    )
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(team=support)
    return ticket


def test_after_sending_the_counter_starts_again_and_the_tag_box_is_empty(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    ticket = _one_ticket(support)
    page = web.log_in(live_server, "anna")
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    page.get_by_role("button", name="Claim", exact=True).click()
    text = page.get_by_label("Reply text", exact=True)
    text.fill("It left our warehouse today.")
    expect(page.locator("#counter")).to_contain_text("34 /")  # with "\n^Anna", as sent
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.locator("#live .msg-out")).to_contain_text("It left our warehouse")
    page.wait_for_timeout(1000)  # past the count's pause: a late count must not come back
    expect(page.get_by_label("Reply text", exact=True)).to_have_value("")
    expect(page.locator("#counter")).to_contain_text("0 /")

    page.get_by_label("Add tag").fill("parcel")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#live .tags")).to_contain_text("parcel")
    expect(page.get_by_label("Add tag")).to_have_value("")
    assert not page.errors


def test_the_dashboards_top_tags_is_a_table_with_its_header_above_the_rows(
    web, live_server, support
):
    from playwright.sync_api import expect

    from inbox.tickets.services import ticket_tag

    lead = person("lotte", "lead", team=support)
    ticket = _one_ticket(support)
    ticket_tag(ticket_id=ticket.pk, user=lead, name="parcel")
    page = web.log_in(live_server, "lotte")
    page.goto(f"{live_server.url}/dashboard/")
    table = page.locator("#tags table")
    expect(table).to_contain_text("parcel")
    header = table.locator("thead th").first.bounding_box()
    cell = table.locator("tbody td").first.bounding_box()
    assert cell["y"] >= header["y"] + header["height"] - 1  # below, not beside
    assert abs(cell["x"] - header["x"]) < 2  # in the same column
