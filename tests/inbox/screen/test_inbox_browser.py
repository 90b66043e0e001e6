"""The agent flow in a real browser (Debian's Chromium through Playwright), live server and all."""

from __future__ import annotations

import os
import re

import pytest

from inbox.ingest.services import ingest_batch
from inbox.models import CannedReply, DeliveryState, Direction, Message, Team, Ticket, TicketStatus
from tests.factories import author, item, make_channel
from tests.personas import eager_celery, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE = 10_000  # ms: polling runs every 4 s


@pytest.fixture
def browser():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()
        # While Playwright's event loop runs in this thread, Django keeps the test's database
        # connections per async context (asgiref's thread-critical Local), apart from the
        # thread's own ones that pytest-django closes: close them here, or they outlive the
        # test database and PostgreSQL refuses to drop it at the end of the run.
        connections.close_all()


@pytest.fixture
def eager():
    with eager_celery():
        yield


def log_in(browser, live_server, username: str):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append("dialog: " + dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))
    page.errors = errors
    return page


def test_an_agent_works_a_new_message_live_and_a_colleague_cannot_send_over_the_claim(
    browser, live_server, eager
):
    from playwright.sync_api import expect

    team = Team.objects.create(name="Support")
    person("anna", team=team)
    person("bob", team=team)
    CannedReply.objects.create(
        title="Thanks for waiting", body="Hi {customer_name}, it is on its way. {agent_first_name}"
    )
    channel = make_channel()
    anna = log_in(browser, live_server, "anna")
    expect(anna.get_by_text("Nothing here")).to_be_visible()

    # A message arrives while the page is open.
    ingest_batch(
        channel_id=channel.pk,
        items=[item("live1", text="Where is my parcel?", author=author("c1", display_name="Mia"))],
    )
    row = anna.locator("#list tr.row", has_text="Where is my parcel?")
    expect(row).to_be_visible(timeout=LIVE)
    row.get_by_role("link").click()
    expect(anna.locator("#thread")).to_contain_text("Where is my parcel?")
    anna.get_by_role("button", name="Claim", exact=True).click()
    expect(anna.locator("#live")).to_contain_text("Claimed by Anna")

    # Bob opens the same ticket: he sees the claim and cannot send over it.
    ticket = Ticket.objects.get()
    bob = log_in(browser, live_server, "bob")
    bob.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    expect(bob.locator("#live")).to_contain_text("Claimed by Anna")
    expect(bob.get_by_role("button", name="Claim", exact=True)).to_have_count(0)
    # Before he types, the composer tells him and offers only a note.
    expect(bob.locator("#owner-hint")).to_contain_text("Anna has this ticket")
    expect(bob.get_by_label("Public reply")).to_be_disabled()
    expect(bob.get_by_role("button", name="Add note", exact=True)).to_be_visible()
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()

    # Anna replies with a canned reply, tags and closes.
    anna.get_by_label("Search canned replies").fill("thanks")
    anna.get_by_role("button", name="Thanks for waiting").click()
    expect(anna.get_by_label("Reply text", exact=True)).to_have_value(
        "Hi Mia, it is on its way. Anna"
    )
    anna.get_by_role("button", name="Reply", exact=True).click()
    expect(anna.locator("#live .msg-out")).to_contain_text("it is on its way")
    expect(anna.locator("#live .msg-out .delivery")).to_have_text("Sent")
    anna.get_by_label("Add tag").fill("parcel")
    anna.get_by_role("button", name="Add tag").click()
    expect(anna.locator("#live .tags")).to_contain_text("parcel")
    anna.locator("#live").get_by_role("button", name="Close", exact=True).click()
    expect(anna.locator("#live .thread-head .status")).to_have_text("Closed")

    ticket.refresh_from_db()
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.delivery_state == DeliveryState.SENT and reply.text.endswith("^Anna")
    assert ticket.status == TicketStatus.CLOSED
    assert list(ticket.tags.values_list("name", flat=True)) == ["parcel"]
    # Bob's list shows the change without a reload.
    expect(bob.locator("#live .thread-head .status")).to_have_text("Closed", timeout=LIVE)
    assert anna.errors == [] and bob.errors == []


def test_script_in_a_message_and_a_name_renders_as_text_and_fires_nothing(browser, live_server):
    from playwright.sync_api import expect

    person("anna")
    channel = make_channel()
    payload = "<script>alert('body')</script><img src=x onerror=alert('img')>"
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item(
                "x1",
                text=payload,
                author=author("evil", display_name="<script>alert('name')</script>"),
                url="javascript:alert('link')",
            )
        ],
    )
    ticket = Ticket.objects.get()
    page = log_in(browser, live_server, "anna")
    expect(page.locator("#list")).to_contain_text("<script>alert('name')</script>")
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    expect(page.locator("#live .msg-in .text")).to_have_text(payload)
    page.wait_for_timeout(1000)
    assert page.errors == []
    assert page.locator("#live a[href^='javascript']").count() == 0


def test_keyboard_moves_opens_and_shows_help(browser, live_server):
    from playwright.sync_api import expect

    person("anna")
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item(f"k{i}", thread=f"k{i}", uid=f"k{i}", text=f"Question {i}") for i in range(3)],
    )
    page = log_in(browser, live_server, "anna")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#thread")).to_be_visible()
    page.keyboard.press("r")
    expect(page.get_by_label("Reply text", exact=True)).to_be_focused()
    page.keyboard.type("Hello")
    # The browser counts at once, with the signature "^Anna" as the server does.
    expect(page.locator("#counter")).to_have_text("11 / 1000")
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Keyboard shortcuts")
    assert page.errors == []


def test_bulk_close_of_selected_rows(browser, live_server):
    from playwright.sync_api import expect

    person("anna")
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item(f"b{i}", thread=f"b{i}", uid=f"b{i}", text=f"Bulk {i}") for i in range(3)],
    )
    page = log_in(browser, live_server, "anna")
    first, second, third = Ticket.objects.order_by("pk")
    page.get_by_label(f"Select ticket {first.pk}", exact=True).check()
    page.get_by_label(f"Select ticket {second.pk}", exact=True).check()
    page.get_by_role("button", name="Close selected").click()
    expect(page.locator("#bulk-error")).to_have_text("Closed 2 tickets.")
    expect(page.locator("#list tr.row")).to_have_count(1)
    expect(page.locator('#list input[name="ticket"]:checked')).to_have_count(0)
    page.get_by_role("button", name="Close selected").click()
    expect(page.locator("#bulk-error")).to_contain_text("Nothing is ticked")
    assert set(Ticket.objects.filter(status=TicketStatus.CLOSED).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert page.errors == []
