"""Small faults a person noticed on the inbox screen, each pinned to what they see."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from inbox.models import BusinessHours, Team, Ticket, TicketStatus
from inbox.replies.services import reply_queue
from inbox.screen.thread_html import span
from inbox.screen.thread_pane import priority_reason_label
from inbox.tickets.services import ticket_claim, ticket_snooze
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db

# A Monday 10:00 UTC, for the tests that read a clock.
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def anna(support):
    return person("anna", team=support)


def test_a_snoozed_ticket_says_until_when_not_until_now(client, anna, support):
    ticket = tickets(1, team=support)[0]
    with time_machine.travel(MONDAY, tick=False):
        ticket_snooze(
            ticket_id=ticket.pk, user=anna, until=MONDAY.replace(hour=9) + dt.timedelta(days=1)
        )
        client.force_login(anna)
        html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    head = html[html.index('class="thread-head"') :]
    head = head[: head.index("</header>")]
    assert "until" in head and "tomorrow 09:00" in head
    assert "until <time" in head and ">now<" not in head


def test_a_snooze_two_days_ahead_names_the_day(client, anna, support):
    ticket = tickets(1, team=support)[0]
    with time_machine.travel(MONDAY, tick=False):
        ticket_snooze(ticket_id=ticket.pk, user=anna, until=MONDAY + dt.timedelta(days=2))
        client.force_login(anna)
        html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "Wed 4 Mar 10:00" in html


def test_an_answer_clears_overdue_at_once(client, anna, support):
    ticket = tickets(1, team=support)[0]
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(anna)
    assert "overdue" in client.get(reverse("inbox:index")).content.decode()
    ticket_claim(ticket_id=ticket.pk, user=anna)
    reply_queue(ticket=Ticket.objects.get(pk=ticket.pk), author=anna, text="On its way")
    ticket.refresh_from_db()
    assert ticket.due_at is None and ticket.status == TicketStatus.OPEN
    assert "overdue" not in client.get(reverse("inbox:index")).content.decode()


def test_the_acknowledgement_preview_during_hours_names_the_next_opening_not_now(client):
    BusinessHours.objects.create(
        time_zone="UTC",
        week={d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    with time_machine.travel(MONDAY, tick=False):  # open now
        # Logged in at that moment, so the session is fresh whatever the real date.
        client.force_login(person("lotte", "lead"))
        response = client.get(
            reverse("pages:hours_ack_preview"),
            {"text": "Back {opening}", "language": "en"},
            headers={"HX-Request": "true"},
        )
    html = response.content.decode()
    assert "Back Tuesday 8:00" in html and "10:00" not in html


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (2 * 3600 + 56 * 60, "3 h"),
        (2 * 3600 + 10 * 60, "2 h"),
        (89, "1 min"),
        (47 * 3600 + 59 * 60, "2 days"),
    ],
)
def test_durations_round_to_the_nearest_unit(seconds, shown):
    assert span(seconds) == shown


def test_a_waiting_priority_reason_reads_rounded_in_dutch_units():
    with translation.override("nl"):
        assert priority_reason_label("waiting 2 h 59 min") == "wacht 3 u"
    with translation.override("en"):
        assert priority_reason_label("waiting 1 d 3 h") == "waiting 27 h"
