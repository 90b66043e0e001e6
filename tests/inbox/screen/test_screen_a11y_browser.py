"""Every main screen passes axe-core (no serious or critical violations), and the inbox works
on a 390×844 phone: one pane at a time, a way back, nothing cut off."""

from __future__ import annotations

import pytest

from inbox.models import Team
from tests.browser import PHONE, axe_problems, overflows
from tests.personas import person, tickets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_main_screen_passes_axe_core(web, live_server):
    team = Team.objects.create(name="Support")
    person("lotte", "lead", team=team)
    ticket = tickets(3, team=team)[0]
    page = web.log_in(live_server, "lotte")
    screens = [
        "/",
        f"/inbox/t/{ticket.pk}/",
        "/dashboard/",
        "/profile/",
        "/settings/",
        "/review/",
        "/review/mine/",
        "/incidents/",
        "/settings/audit/",
        "/settings/canned/",
    ]
    found = {}
    for path in screens:
        page.goto(live_server.url + path)
        problems = axe_problems(page)
        if problems:
            found[path] = problems
    assert found == {}


def test_on_a_phone_the_list_and_the_ticket_take_turns_and_nothing_is_cut_off(web, live_server):
    from playwright.sync_api import expect

    team = Team.objects.create(name="Support")
    person("anna", team=team)
    ticket = tickets(2, team=team)[0]
    page = web.log_in(live_server, "anna", viewport=PHONE)
    expect(page.locator("#list tr.row").first).to_be_visible()
    assert overflows(page) == []
    page.locator(f"#row-{ticket.pk} a.open").first.click()
    expect(page.locator("#thread")).to_be_visible()
    expect(page.locator("#list-pane")).to_be_hidden()
    expect(page.get_by_role("button", name="Claim and reply")).to_be_in_viewport()
    assert overflows(page) == []
    page.get_by_role("link", name="← Tickets").click()
    expect(page.locator("#list tr.row").first).to_be_visible()
    assert not page.errors
