"""Four-eyes review in real browsers: a trainee's reply waits, a lead approves it, it is sent."""

from __future__ import annotations

import pytest

from inbox.ingest.services import ingest_batch
from inbox.models import AgentProfile, DeliveryState, Direction, Message, Team, Ticket
from tests.factories import author, item, make_channel
from tests.inbox.screen.test_inbox_browser import LIVE, browser, eager, log_in  # noqa: F401 - fixtures
from tests.personas import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_approves_a_trainees_reply_and_the_trainee_sees_it_sent(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    eager,  # noqa: F811
):
    from playwright.sync_api import expect

    team = Team.objects.create(name="Support")
    tim = person("tim", team=team)
    AgentProfile.objects.filter(user=tim).update(needs_approval=True)
    person("lotte", "lead", team=team)
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item("r1", text="Is my refund coming?", author=author("c1", display_name="Mia"))],
    )
    ticket = Ticket.objects.get()

    # The trainee is told before sending, replies, and sees the reply waiting.
    trainee = log_in(browser, live_server, "tim")
    trainee.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    expect(trainee.locator("#composer .approval-notice")).to_contain_text(
        "go to a lead for approval"
    )
    trainee.get_by_label("Reply text", exact=True).fill("Yes, it is on its way.")
    # Nobody holds the ticket: replying claims it, and the button says so.
    trainee.get_by_role("button", name="Claim and reply", exact=True).click()
    expect(trainee.locator("#live .msg-out .review-wait")).to_contain_text(
        "Waiting for a lead's approval"
    )
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.delivery_state == DeliveryState.AWAITING_APPROVAL

    # A lead, in another browser context, approves it from the review queue.
    lead = log_in(browser, live_server, "lotte")
    lead.goto(f"{live_server.url}/review/")
    row = lead.locator(f"#held-{reply.pk}")
    expect(row).to_contain_text("Yes, it is on its way.")
    expect(row).to_contain_text("Is my refund coming?")
    expect(lead.locator("#review-count")).to_have_text("1")
    expect(lead.locator(".mainnav .nav-count")).to_have_text("1")
    row.get_by_role("button", name="Approve", exact=True).click()
    expect(row).to_contain_text("Approved; it is being sent.")
    expect(lead.locator("#review-count")).to_have_text("0")
    expect(lead.locator(".mainnav .nav-count")).to_have_text("")

    # The trainee's open thread shows it sent, without a reload.
    expect(trainee.locator("#live .msg-out .delivery")).to_have_text("Sent", timeout=LIVE)
    expect(trainee.locator("#live .msg-out .review-wait")).to_have_count(0)
    reply.refresh_from_db()
    assert reply.delivery_state == DeliveryState.SENT and reply.text.endswith("^Tim")
    assert trainee.errors == [] and lead.errors == []
