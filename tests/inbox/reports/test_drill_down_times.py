"""The time figures link to the inbox list of exactly the tickets they are computed over: the
list behind each figure holds as many tickets as the figure's sample."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.http import QueryDict
from django.utils import timezone

from inbox.models import Intent, Ticket
from inbox.tickets.selectors import ListFilter, filtered_tickets
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(client, recorded_clock):
    user = person("lotte", "lead")
    client.force_login(user)
    return user


def dashboard(client) -> str:
    return client.get("/dashboard/", {"range": "7d"}).content.decode()


def cells(page: str, marker: str) -> list[tuple[str, str]]:
    """(list query, figure) of each linked cell in the element marked ``marker``."""
    block = re.search(rf"{marker}.*?</(?:tr|div)>", page, re.S).group(0)
    return [
        (unescape(m.group(1)), unescape(m.group(2)).strip())
        for m in re.finditer(r'<a href="/\?([^"]+)">([^<]+)</a>', block)
    ]


def selected(user, query: str) -> set[int]:
    return set(
        filtered_tickets(user, ListFilter.from_query(QueryDict(query))).values_list("pk", flat=True)
    )


def answered(ticket, after: dt.timedelta, business: int | None, opened_ago=dt.timedelta(hours=3)):
    opened = timezone.now() - opened_ago
    Ticket.objects.filter(pk=ticket.pk).update(
        first_inbound_at=opened,
        first_response_at=opened + after,
        first_response_business_seconds=business,
    )


def closed(ticket, after: dt.timedelta, business: int | None, inbound=True):
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        status="closed",
        first_inbound_at=now - after if inbound else None,
        closed_at=now,
        resolution_business_seconds=business,
    )


def test_first_response_times_link_to_the_answered_tickets_opened_in_the_period(client, lead):
    on_time, no_business, unanswered, last_month = tickets(4)
    answered(on_time, dt.timedelta(minutes=10), 600)
    answered(no_business, dt.timedelta(minutes=20), None)
    Ticket.objects.filter(pk=unanswered.pk).update(first_response_at=None)
    answered(last_month, dt.timedelta(minutes=5), 300, opened_ago=dt.timedelta(days=30))
    count, median, p90, business_count, business_median, _ = cells(
        dashboard(client), 'data-measure="first_response"'
    )
    assert count[1] == "2"
    for query, _figure in (count, median, p90):
        assert selected(lead, query) == {on_time.pk, no_business.pk}
    assert business_count[1] == "1"
    assert selected(lead, business_median[0]) == {on_time.pk}


def test_resolution_times_link_to_the_tickets_closed_in_the_period_with_a_time(client, lead):
    measured, no_business, no_inbound, still_open = tickets(4)
    closed(measured, dt.timedelta(hours=2), 7200)
    closed(no_business, dt.timedelta(hours=1), None)
    closed(no_inbound, dt.timedelta(hours=1), None, inbound=False)
    count, _median, _p90, business_count, business_median, _ = cells(
        dashboard(client), 'data-measure="resolution"'
    )
    assert count[1] == "2"
    assert selected(lead, count[0]) == {measured.pk, no_business.pk}
    assert business_count[1] == "1"
    assert selected(lead, business_median[0]) == {measured.pk}


def test_the_time_cards_link_to_the_same_tickets_as_their_table_rows(client, lead):
    a, b = tickets(2)
    answered(a, dt.timedelta(minutes=10), 600)
    page = dashboard(client)
    (clock, _), (business, _) = cells(page, 'data-figure="first_response"')
    assert selected(lead, clock) == {a.pk}
    assert selected(lead, business) == {a.pk}


def test_the_sla_figures_link_to_met_decided_and_pending_tickets(client, lead):
    met, late, overdue, waiting = tickets(4)
    now = timezone.now()
    due = now - dt.timedelta(hours=1)
    for ticket, response in (
        (met, due - dt.timedelta(minutes=5)),
        (late, due + dt.timedelta(minutes=5)),
    ):
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_due_at=due, first_response_at=response
        )
    Ticket.objects.filter(pk=overdue.pk).update(first_response_due_at=due, first_response_at=None)
    Ticket.objects.filter(pk=waiting.pk).update(
        first_response_due_at=now + dt.timedelta(hours=1), first_response_at=None
    )
    page = dashboard(client)
    figures = {
        outcome: cells(page, f'data-sla="{outcome}"')[0]
        for outcome in ("pending", "decided", "rate")
    }
    assert figures["pending"][1] == "1"
    assert selected(lead, figures["pending"][0]) == {waiting.pk}
    assert figures["decided"][1] == "3"
    assert selected(lead, figures["decided"][0]) == {met.pk, late.pk, overdue.pk}
    (rate, _), (met_of_decided, label) = cells(page, 'data-figure="sla"')
    assert selected(lead, rate) == {met.pk}
    assert label == "1 of 3"
    assert selected(lead, met_of_decided) == {met.pk, late.pk, overdue.pk}


def test_an_agents_first_response_times_link_to_the_tickets_they_answered_first(client, lead):
    anna, bert = person("anna"), person("bert")
    hers, his, _nobodys = tickets(3)
    for ticket, agent in ((hers, anna), (his, bert)):
        # Held and closed by the agent (so the agent has a row); no reply by anyone else, so
        # the first answer counts for the assignee.
        answered(ticket, dt.timedelta(minutes=10), 600)
        Ticket.objects.filter(pk=ticket.pk).update(
            assignee=agent, status="closed", closed_at=timezone.now()
        )
    page = dashboard(client)
    for agent, ticket in ((anna, hers), (bert, his)):
        (_closed, _), (median, _), (p90, _) = cells(page, f'data-agent="{agent.pk}">')
        assert selected(lead, median) == selected(lead, p90) == {ticket.pk}


def test_complaints_answered_links_to_the_answered_complaints(client, lead):
    answered_one, waiting, question = tickets(3)
    Ticket.objects.filter(pk__in=[answered_one.pk, waiting.pk]).update(intent=Intent.COMPLAINT)
    Ticket.objects.filter(pk=question.pk).update(intent=Intent.QUESTION)
    answered(answered_one, dt.timedelta(minutes=10), 600)
    answered(question, dt.timedelta(minutes=10), 600)
    (rate, _), (of, label) = cells(dashboard(client), 'data-figure="complaints"')
    assert label == "1 of 2"
    assert selected(lead, rate) == {answered_one.pk}
    assert selected(lead, of) == {answered_one.pk, waiting.pk}
