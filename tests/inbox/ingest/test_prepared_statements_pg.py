"""Prepared statements on PostgreSQL: the ORM's repeated statements are prepared, so a ticket's
lookup is not planned again on every request; the list's id scans never are, because a generic
plan for them walks a whole queue (docs/inbox.md, "Prepared statements")."""

import pytest
from django.db import connection

from inbox.models import Team, Ticket
from inbox.tickets import selectors
from tests.personas import tickets

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_statement_repeated_on_a_connection_is_prepared_with_its_parameters_bound():
    made = tickets(3)
    for ticket in made * 3:
        Ticket.objects.filter(pk=ticket.pk).values_list("status", flat=True).get()
    assert any(
        "inbox_ticket" in statement and '"inbox_ticket"."id" = $1' in statement
        for statement in _prepared()
    ), _prepared()


def test_the_list_id_scans_are_never_prepared():
    support = Team.objects.create(name="Support")
    tickets(3, team=support)
    scans = [Ticket.objects.filter(team=support).order_by("waiting_since", "pk").values("pk")[:5]]
    for _ in range(10):
        assert len(selectors.ids_of(scans)) == 3
    assert not [s for s in _prepared() if "UNION ALL" in s or "AS way0" in s], _prepared()
