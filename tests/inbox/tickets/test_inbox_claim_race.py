"""Agents claim the same tickets at the same instant: the database lets exactly one win each."""

import os
import random
import threading

import pytest
from django.db import connection

from inbox.models import Activity, Ticket
from inbox.tickets import services
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


def test_fifty_agents_racing_for_the_same_thousand_tickets_leave_exactly_one_owner_each():
    """Every agent tries every ticket, each in its own shuffled order, all starting at once."""
    count = int(os.environ.get("WEBCARE_CLAIM_RACE_TICKETS", "1000"))
    pool = tickets(count)
    ids = [t.pk for t in pool]
    agents = [person(f"agent{n:02}") for n in range(50)]
    start = threading.Barrier(len(agents))
    won: dict[int, list[int]] = {a.pk: [] for a in agents}
    told: dict[int, set[str]] = {}
    errors: list[BaseException] = []

    def race(agent, order):
        try:
            start.wait()
            for ticket_id in order:
                try:
                    services.ticket_claim(ticket_id=ticket_id, user=agent)
                    won[agent.pk].append(ticket_id)
                except services.AlreadyClaimed as exc:
                    told.setdefault(ticket_id, set()).add(exc.message)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's agent
            errors.append(exc)
        finally:
            connection.close()

    threads = []
    for n, agent in enumerate(agents):
        order = ids[:]
        random.Random(n).shuffle(order)
        threads.append(threading.Thread(target=race, args=(agent, order)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    owners = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))
    claims = sorted(ticket_id for mine in won.values() for ticket_id in mine)
    assert claims == sorted(ids)  # each ticket claimed once, by someone
    assert all(
        owners[ticket_id] == agent_id for agent_id, mine in won.items() for ticket_id in mine
    )
    names = {a.pk: a.first_name for a in agents}
    # Every loser was told who has the ticket: the owner's name, and nobody else's.
    assert all(
        told[ticket_id] == {f"{names[owners[ticket_id]]} already has this ticket."}
        for ticket_id in ids
    )
    claimed = Activity.objects.filter(ticket_id__in=ids, verb="claimed")
    assert claimed.count() == count
