"""The inbox without a mouse: a whole ticket worked from the keyboard alone (only key presses
and typing, no click), the shortcuts for snooze, assign and canned replies, and no shortcut
firing while a text field has the keys, apart from the send chord."""

from __future__ import annotations

import pytest

from inbox.models import CannedReply, Direction, Message, Team, Ticket, TicketStatus
from tests.personas import eager_celery, person, tickets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def eager():
    with eager_celery():
        yield


def _log_in_by_keyboard(web, live_server, username: str):
    page = web.page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    for field, text in (("username", username), ("password", "pw-" + username)):
        for _ in range(10):
            if page.evaluate("document.activeElement.name") == field:
                break
            page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_an_agent_claims_replies_tags_and_closes_with_the_keyboard_only(
    web, live_server, support, eager
):
    from playwright.sync_api import expect

    person("anna", team=support)
    ticket = tickets(1, team=support)[0]
    page = _log_in_by_keyboard(web, live_server, "anna")

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_have_attribute("data-ticket", str(ticket.pk))
    page.keyboard.press("c")
    expect(page.locator("#live .owner")).to_contain_text("Claimed by Anna")

    page.keyboard.press("r")
    page.keyboard.type("It is on its way.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#live .msg-out")).to_contain_text("It is on its way.")

    page.keyboard.press("Escape")
    page.keyboard.press("t")
    page.keyboard.type("parcel")
    page.keyboard.press("Enter")
    expect(page.locator("#live .tags")).to_contain_text("parcel")

    page.keyboard.press("Escape")
    page.keyboard.press("e")
    expect(page.locator("#live .thread-head .status")).to_have_text("Closed")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.assignee.username == "anna"
    assert list(ticket.tags.values_list("name", flat=True)) == ["parcel"]
    assert Message.objects.get(direction=Direction.OUTBOUND).text.startswith("It is on its way.")
    assert page.errors == []


def test_snooze_assign_and_canned_reply_shortcuts_go_to_their_fields(web, live_server, support):
    from playwright.sync_api import expect

    person("lotte", "lead", team=support)
    CannedReply.objects.create(title="Thanks for waiting", body="Thanks for waiting!")
    ticket = tickets(1, team=support)[0]
    page = web.log_in(live_server, "lotte", viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    page.keyboard.press("s")
    expect(page.get_by_label("Pending until")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(page.get_by_label("Assign to")).to_be_focused()
    page.keyboard.press("ArrowDown")  # from "Nobody" to the first person: Lotte
    page.keyboard.press("Enter")
    expect(page.locator("#live .owner")).to_contain_text("Lotte")
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    expect(page.get_by_label("Search canned replies")).to_be_focused()
    page.keyboard.type("thanks")
    expect(page.get_by_role("button", name="Thanks for waiting")).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("button", name="Thanks for waiting")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Reply text", exact=True)).to_have_value("Thanks for waiting!")
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    for what in ("Snooze", "Assign", "Insert a canned reply", "Send the reply or note"):
        expect(help_box).to_contain_text(what)
    assert page.errors == []


def test_letters_typed_in_a_text_field_are_text_not_shortcuts(web, live_server, support):
    from playwright.sync_api import expect

    person("anna", team=support)
    ticket = tickets(1, team=support)[0]
    page = web.log_in(live_server, "anna", viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    page.keyboard.press("r")
    page.keyboard.type("cease this")  # c (claim), e (close), s (snooze), a, i, t ...
    page.keyboard.press("Enter")  # a new line, not a send
    expect(page.get_by_label("Reply text", exact=True)).to_have_value("cease this\n")
    expect(page.get_by_label("Reply text", exact=True)).to_be_focused()
    page.get_by_label("Add tag").focus()
    page.keyboard.type("ecsa")
    expect(page.get_by_label("Add tag")).to_have_value("ecsa")
    page.wait_for_timeout(500)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and ticket.status != TicketStatus.CLOSED
    assert not Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND).exists()
    assert Ticket.objects.count() == 1
    assert page.errors == []
