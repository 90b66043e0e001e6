"""The list as a person uses it in Chromium: the whole row opens the ticket, the preview uses
the row's width, filters apply as they change (and without JavaScript through the button), new
arrivals stand out and are counted in the tab title, and the chime follows the profile."""

from __future__ import annotations

import re

import pytest

from inbox.ingest.services import ingest_batch
from inbox.models import AgentProfile, Team, Ticket
from tests.browser import LIVE
from tests.factories import author, item, make_channel
from tests.personas import person, tickets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


def test_clicking_anywhere_on_a_row_opens_its_ticket_and_the_tick_box_still_ticks(
    web, live_server, support
):
    from playwright.sync_api import expect

    person("anna", team=support)
    first, second = tickets(2, team=support)
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    # The waiting time, far from the customer's name, opens the ticket.
    # (A click where a person would click: the row's link lies over the cell.)
    box = page.locator(f"#row-{first.pk} td.wait").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#thread")).to_have_attribute("data-ticket", str(first.pk))
    expect(page).to_have_url(re.compile(rf"/inbox/t/{first.pk}/"))
    # The tick box is above the row's link: ticking it opens nothing.
    page.get_by_label(f"Select ticket {second.pk}", exact=True).check()
    expect(page.get_by_label(f"Select ticket {second.pk}", exact=True)).to_be_checked()
    expect(page.locator("#thread")).to_have_attribute("data-ticket", str(first.pk))
    assert page.errors == []


def test_the_preview_uses_the_width_of_the_row_and_ends_in_an_ellipsis(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    long_text = "My order arrived broken and " + "nobody answers my emails about it " * 8
    ingest_batch(
        channel_id=make_channel().pk,
        items=[item("p1", text=long_text, author=author("c1", display_name="Mia"))],
    )
    Ticket.objects.update(team=support)
    measure = (
        "el => ({width: el.clientWidth, full: el.scrollWidth, cell: el.closest('td').clientWidth,"
        " ellipsis: getComputedStyle(el).textOverflow})"
    )
    widths = []
    for size in (LAPTOP, {"width": 1800, "height": 900}):
        page = web.log_in(live_server, "anna", viewport=size)
        preview = page.locator("#list tr.row .preview").first
        expect(preview).to_be_visible()
        shown = preview.evaluate(measure)
        # The whole width of its column (less the cell's padding), cut at the end.
        assert shown["width"] >= shown["cell"] - 12
        assert shown["full"] > shown["width"] and shown["ellipsis"] == "ellipsis"
        widths.append(shown["width"])
    assert widths[1] > widths[0] + 100  # a wider window shows more of it, no fixed cut


def test_a_filter_applies_as_it_changes_without_pressing_the_button(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    ingest_batch(
        channel_id=make_channel().pk,
        items=[
            item("m1", thread="a", uid="a", kind="mention", text="A public mention"),
            item("d1", thread="b", uid="b", kind="dm", text="A private message"),
        ],
    )
    Ticket.objects.update(team=support)
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    expect(page.locator("#list tr.row")).to_have_count(2)
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()

    page.get_by_label("Kind").select_option("dm")
    expect(page.locator("#list tr.row")).to_have_count(1)
    expect(page.locator("#list")).to_contain_text("A private message")
    expect(page).to_have_url(re.compile(r"[?&]kind=dm"))

    # Typed filters apply after a pause in typing.
    page.get_by_label("Kind").select_option("")
    expect(page.locator("#list tr.row")).to_have_count(2)
    page.get_by_label("Search").press_sequentially("public", delay=30)
    expect(page.locator("#list tr.row")).to_have_count(1)
    expect(page.locator("#list")).to_contain_text("A public mention")
    expect(page).to_have_url(re.compile(r"[?&]q=public"))
    expect(page.get_by_label("Search")).to_be_focused()
    assert page.errors == []


def test_without_javascript_the_filter_button_applies_the_filters(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    ingest_batch(
        channel_id=make_channel().pk,
        items=[
            item("m1", thread="a", uid="a", kind="mention", text="A public mention"),
            item("d1", thread="b", uid="b", kind="dm", text="A private message"),
        ],
    )
    Ticket.objects.update(team=support)
    page = web.log_in(live_server, "anna", viewport=LAPTOP, java_script_enabled=False)
    page.get_by_label("Kind").select_option("dm")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]kind=dm"))
    expect(page.locator("#list tr.row")).to_have_count(1)


def test_a_ticket_arriving_while_the_list_is_open_is_highlighted_and_counted_in_the_title(
    web, live_server, support
):
    from playwright.sync_api import expect

    person("anna", team=support)
    old = tickets(1, team=support)[0]
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    expect(page).to_have_title("Inbox · Webcare")
    expect(page.locator(f"#row-{old.pk}")).not_to_have_class(re.compile("arrived"))

    ingest_batch(
        channel_id=old.channel_id,
        items=[item("n1", thread="new", uid="c9", text="Just arrived")],
    )
    Ticket.objects.update(team=support)
    new = Ticket.objects.exclude(pk=old.pk).get()
    expect(page.locator(f"#row-{new.pk}")).to_have_class(re.compile("arrived"), timeout=LIVE)
    expect(page).to_have_title("(1) Inbox · Webcare")
    expect(page.locator(f"#row-{old.pk}")).not_to_have_class(re.compile("arrived"))
    assert page.locator(".inbox").get_attribute("data-chimed") is None  # the sound is off

    # On screen for a few seconds, it counts as seen: the highlight and the count go.
    expect(page.locator(f"#row-{new.pk}")).not_to_have_class(re.compile("arrived"), timeout=LIVE)
    expect(page).to_have_title("Inbox · Webcare")
    assert page.errors == []


def test_the_arrival_sound_is_a_profile_choice_that_the_inbox_follows(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    channel = make_channel()
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    page.goto(f"{live_server.url}/profile/")
    sound = page.get_by_label("Play a sound for new tickets")
    expect(sound).not_to_be_checked()  # off unless asked for
    sound.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your settings are saved.")).to_be_visible()
    assert AgentProfile.objects.get(user__username="anna").arrival_sound is True
    expect(page.get_by_label("Play a sound for new tickets")).to_be_checked()

    page.goto(f"{live_server.url}/")
    expect(page.locator(".inbox")).to_have_attribute("data-chime", "on")
    ingest_batch(channel_id=channel.pk, items=[item("s1", thread="s", uid="s", text="Ding")])
    Ticket.objects.update(team=support)
    expect(page.locator("#list tr.row.arrived")).to_have_count(1, timeout=LIVE)
    expect(page.locator(".inbox")).to_have_attribute("data-chimed", "1")
    assert page.errors == []


def test_a_filter_applied_as_it_changes_is_kept_by_the_views_the_bulk_form_and_the_poll(
    web, live_server, support, monkeypatch
):
    from playwright.sync_api import expect

    anna = person("anna", team=support)
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="a", uid="a", kind="mention", text="Her public mention"),
            item("d1", thread="b", uid="b", kind="dm", text="Her private message"),
            item("d2", thread="c", uid="c", kind="dm", text="Nobody's private message"),
        ],
    )
    Ticket.objects.update(team=support)
    Ticket.objects.exclude(last_message_preview__startswith="Nobody").update(assignee=anna)
    # On PostgreSQL a search's matches are shared for SEARCH_TTL seconds, so a new match may
    # take longer than LIVE to show; this test is about the filters the poll carries.
    monkeypatch.setattr("inbox.tickets.selectors.SEARCH_TTL", 0)
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    expect(page.locator("#list tr.row")).to_have_count(3)

    page.get_by_label("Kind").select_option("dm")  # no button pressed
    expect(page.locator("#list tr.row")).to_have_count(2)
    expect(page.locator("#bulk-next")).to_have_value(re.compile(r"[?&]kind=dm"))

    page.get_by_role("link", name="Mine", exact=True).click()
    expect(page).to_have_url(re.compile(r"view=mine.*kind=dm|kind=dm.*view=mine"))
    expect(page.locator("#list tr.row")).to_have_count(1)
    expect(page.locator("#list")).to_contain_text("Her private message")
    expect(page.get_by_label("Kind")).to_have_value("dm")

    # Back to every open ticket, still private messages only, while new tickets arrive: the
    # list's poll asks with the filter, so the new mention stays out of it.
    page.get_by_role("link", name="All open", exact=True).click()
    expect(page.locator("#list tr.row")).to_have_count(2)
    page.get_by_label("Search").press_sequentially("private", delay=30)
    expect(page).to_have_url(re.compile(r"[?&]q=private"))
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m2", thread="d", uid="d", kind="mention", text="A new private mention"),
            item("d3", thread="e", uid="e", kind="dm", text="A new private message"),
        ],
    )
    Ticket.objects.update(team=support)
    expect(page.locator("#list")).to_contain_text("A new private message", timeout=LIVE)
    expect(page.locator("#list tr.row")).to_have_count(3)
    expect(page.locator("#list")).not_to_contain_text("A new private mention")
    expect(page.locator("#view-links a[data-view=mine]")).to_have_attribute(
        "href", re.compile(r"kind=dm.*q=private|q=private.*kind=dm")
    )
    assert page.errors == []
