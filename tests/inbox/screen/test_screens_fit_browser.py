"""Every screen at a laptop's 1280×800 and a phone's 390×844: nothing sticks out past the edge,
axe-core finds nothing serious or critical (colour contrast included), every control has a
visible focus ring, and empty lists say something helpful instead of nothing."""

from __future__ import annotations

import pytest

from inbox.models import Team
from tests.browser import PHONE, axe_problems, overflows
from tests.personas import person, tickets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
SCREENS = [
    "/",
    "{thread}",
    "/dashboard/",
    "/incidents/",
    "/settings/",
    "/settings/people/",
    "/settings/people/teams/",
    "/settings/rules/",
    "/settings/hours/",
    "/settings/channels/",
    "/settings/audit/",
    "/settings/canned/",
    "/settings/webhooks/",
    "/profile/",
    "/profile/tokens/",
    "/review/",
    "/review/mine/",
]


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_every_screen_fits_and_passes_axe_core(web, live_server, size):
    team = Team.objects.create(name="Support")
    person("ada", "admin", team=team)
    ticket = tickets(3, team=team)[0]
    page = web.log_in(live_server, "ada", viewport=size)
    found = {}
    for screen in SCREENS:
        path = screen.format(thread=f"/inbox/t/{ticket.pk}/")
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        problems = overflows(page) + axe_problems(page)
        if problems:
            found[path] = problems
    assert found == {}
    assert page.errors == []


def test_a_focused_control_shows_a_focus_ring(web, live_server):
    team = Team.objects.create(name="Support")
    person("anna", team=team)
    tickets(1, team=team)
    page = web.log_in(live_server, "anna", viewport=LAPTOP)
    page.keyboard.press("/")  # the search box
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert ring[0] != "none" and ring[1] >= 2


@pytest.mark.parametrize(
    "path, sentence",
    [
        ("/", "Nothing here. Well done."),
        ("/?q=nothing-like-this", "No ticket matches these filters."),
        ("/incidents/", "No open incidents."),
        ("/settings/canned/", "No canned replies yet."),
    ],
)
def test_an_empty_list_says_why_it_is_empty(web, live_server, path, sentence):
    from playwright.sync_api import expect

    person("lotte", "lead")
    page = web.log_in(live_server, "lotte", viewport=LAPTOP)
    page.goto(live_server.url + path)
    expect(page.get_by_text(sentence).first).to_be_visible()


@pytest.mark.parametrize("path", ["/settings/audit/", "/settings/people/"])
def test_on_a_phone_a_wide_table_scrolls_sideways_with_its_first_column_in_view(
    web, live_server, path
):
    from inbox.tickets.services import ticket_close

    team = Team.objects.create(name="Support")
    ada = person("ada", "admin", team=team)
    for name in ("bram", "lotte"):
        person(name, team=team)
    for ticket in tickets(2, team=team):
        ticket_close(ticket_id=ticket.pk, user=ada)
    page = web.log_in(live_server, "ada", viewport=PHONE)
    page.goto(live_server.url + path)
    table = page.locator("main table.health").first
    shown = table.evaluate(
        """t => {
          const wide = t.scrollWidth > t.clientWidth + 1;
          t.scrollLeft = t.scrollWidth;
          const left = t.getBoundingClientRect().left;
          const firsts = [...t.querySelectorAll(':scope > * > tr > :first-child')];
          return {wide, scrolled: t.scrollLeft > 0, rows: firsts.length,
                  offsets: firsts.map(c => Math.round(c.getBoundingClientRect().left - left))};
        }"""
    )
    assert shown["wide"] and shown["scrolled"]  # it does scroll sideways on a phone …
    assert shown["rows"] >= 3
    assert set(shown["offsets"]) == {0}  # … and every row's first cell stays at the left edge
    assert overflows(page) == []
