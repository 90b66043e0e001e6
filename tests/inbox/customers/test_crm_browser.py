"""The CRM panel in a real browser: the thread shows at once, the panel fills in after, and a
slow CRM leaves the thread usable."""

from __future__ import annotations

import re
import time

import pytest

from tests.inbox.customers.crm_double import CrmDouble
from tests.inbox.screen.test_inbox_browser import browser, log_in  # noqa: F401 - fixtures
from tests.personas import person, tickets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def crm(settings):
    double = CrmDouble(
        "s", {"Plan": "Gold <script>x()</script>", "Profile": "https://crm.example/1"}
    )
    settings.CRM_LOOKUP_URL = double.url
    settings.CRM_SECRET = "s"
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    yield double
    double.close()


def test_the_crm_panel_fills_in_after_the_thread_and_a_slow_crm_never_blocks_it(
    browser,  # noqa: F811
    live_server,
    crm,
):
    from playwright.sync_api import expect

    person("lotte", "lead")
    (ticket,) = tickets(1)
    page = log_in(browser, live_server, "lotte")
    page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
    panel = page.locator("section.crm-panel")
    expect(panel).to_contain_text("Gold <script>x()</script>", timeout=10_000)
    expect(panel.get_by_role("link", name="https://crm.example/1")).to_have_attribute(
        "href", "https://crm.example/1"
    )
    assert crm.bad_signatures == 0

    # A slow CRM: the thread of another customer renders at once, the panel says so quietly.
    crm.delay = 5
    (other,) = tickets(1, prefix="slow")
    started = time.monotonic()
    page.goto(f"{live_server.url}/inbox/t/{other.pk}/")
    expect(page.get_by_text("Hello 0").first).to_be_visible(timeout=3_000)
    assert time.monotonic() - started < 3
    expect(page.locator("section.crm-panel")).to_contain_text(
        re.compile("not answering"), timeout=10_000
    )
    assert not page.errors
