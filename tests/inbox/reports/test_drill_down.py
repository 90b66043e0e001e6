"""Every dashboard figure links to the inbox list of exactly the tickets behind it."""

import datetime as dt
import re
from html import unescape

import pytest
from django.utils import timezone

from inbox.models import Intent, Tag, Ticket
from inbox.tickets.selectors import ListFilter, filtered_tickets
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


def _links(client) -> dict[str, str]:
    page = client.get("/dashboard/", {"range": "7d"}).content.decode()
    return {
        unescape(m.group(2)).strip(): unescape(m.group(1))
        for m in re.finditer(r'<a href="/\?([^"]+)">([^<]+)</a>', page)
    }


def _selected(user, query: str) -> set[int]:
    from django.http import QueryDict

    flt = ListFilter.from_query(QueryDict(query))
    return set(filtered_tickets(user, flt).values_list("pk", flat=True))


def test_the_new_tickets_figure_links_to_exactly_the_periods_tickets(client):
    lead = person("lotte", "lead")
    client.force_login(lead)
    old, *recent = tickets(3)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    links = _links(client)
    assert _selected(lead, links["2"]) == {t.pk for t in recent}


def test_an_intent_count_links_to_the_tickets_of_that_intent(client):
    lead = person("lotte", "lead")
    client.force_login(lead)
    a, b, c = tickets(3)
    Ticket.objects.filter(pk__in=[a.pk, b.pk]).update(intent=Intent.COMPLAINT)
    Ticket.objects.filter(pk=c.pk).update(intent=Intent.QUESTION)
    page = client.get("/dashboard/", {"range": "7d"}).content.decode()
    row = re.search(r'data-intent="complaint">.*?</tr>', page, re.S).group(0)
    query = unescape(re.search(r'href="/\?([^"]*intent=complaint[^"]*)"', row).group(1))
    assert _selected(lead, query) == {a.pk, b.pk}


def test_a_tag_count_links_to_the_tagged_tickets(client):
    lead = person("lotte", "lead")
    client.force_login(lead)
    a, _b = tickets(2)
    a.tags.add(Tag.objects.create(name="late delivery"))
    page = client.get("/dashboard/", {"range": "7d"}).content.decode()
    query = unescape(re.search(r'href="/\?([^"]*tag=late[^"]*)"', page).group(1))
    assert _selected(lead, query) == {a.pk}


def test_sla_breached_links_to_late_and_overdue_tickets(client):
    lead = person("lotte", "lead")
    client.force_login(lead)
    late, met, overdue = tickets(3)
    now = timezone.now()
    due = now - dt.timedelta(hours=1)
    Ticket.objects.filter(pk=late.pk).update(
        first_response_due_at=due, first_response_at=due + dt.timedelta(minutes=5)
    )
    Ticket.objects.filter(pk=met.pk).update(
        first_response_due_at=due, first_response_at=due - dt.timedelta(minutes=5)
    )
    Ticket.objects.filter(pk=overdue.pk).update(first_response_due_at=due, first_response_at=None)
    page = client.get("/dashboard/", {"range": "7d"}).content.decode()
    breached = unescape(re.search(r'href="/\?([^"]*sla=breached[^"]*)"', page).group(1))
    met_q = unescape(re.search(r'href="/\?([^"]*sla=met[^"]*)"', page).group(1))
    assert _selected(lead, breached) == {late.pk, overdue.pk}
    assert _selected(lead, met_q) == {met.pk}


def test_the_inbox_list_shows_the_drilled_tickets(client):
    lead = person("lotte", "lead")
    client.force_login(lead)
    (a,) = tickets(1)
    links = _links(client)
    page = client.get("/?" + links["1"]).content.decode()
    assert f'data-id="{a.pk}"' in page
