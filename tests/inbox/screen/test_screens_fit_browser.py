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
