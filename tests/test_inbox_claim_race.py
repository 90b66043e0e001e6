"""Two agents claim the same ticket at the same instant: the database lets exactly one win."""

import threading

import pytest
from django.db import connection

from inbox import services
from inbox.models import Activity, Ticket
from tests.personas import person, tickets

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_of_two_simultaneous_claims_exactly_one_wins():
    ticket = tickets(1)[0]
    agents = [person("anna"), person("bob")]
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(user):
        try:
            start.wait()
            services.ticket_claim(ticket_id=ticket.pk, user=user)
            outcomes[user.username] = "won"
        except services.AlreadyClaimed as exc:
            outcomes[user.username] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winner = Ticket.objects.get(pk=ticket.pk).assignee
    loser = next(a for a in agents if a != winner)
    assert outcomes[winner.username] == "won"
    assert outcomes[loser.username] == f"{winner.first_name} already has this ticket."
    assert Activity.objects.filter(ticket=ticket, verb="claimed").count() == 1
