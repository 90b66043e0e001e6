"""Every inbox filter, alone and in pairs, for every role: the list answers and shows the match.

An agent's list is read through other code than a lead's (one scan per way the agent sees
tickets, ``inbox.tickets.selectors._Scans``), so a filter can break for one role alone: ``?tag=``
did,
with a 500 for agents only. Each case here builds a ticket that matches the filters, asks for
the full page and for the list poll (which reads the first page's keys first), and expects the
ticket's row. A plain test: CI's PostgreSQL pass runs it against PostgreSQL too.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.ingest.services import ingest_batch
from inbox.models import AgentProfile, Intent, Tag, Team, Ticket, TicketStatus
from tests.factories import item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db

# (role group or None, needs a lead's approval, superuser)
ROLES = {
    "agent": ("agent", False, False),
    "trainee": ("agent", True, False),
    "lead": ("lead", False, False),
    "admin": ("admin", False, False),
    "superuser": (None, False, True),
}
LEADS = {"lead", "admin", "superuser"}
VIEWS = ("mine", "unassigned", "open", "pending", "closed", "compliments", "at_risk")
FILTERS = ("channel", "kind", "tag", "assignee", "team", "q", "sort", "after")
# Filters that cannot both match one ticket.
EXCLUSIVE = {frozenset({"view=unassigned", "assignee"})}


def _cases() -> list[tuple[str, ...]]:
    singles = [(f"view={v}",) for v in VIEWS] + [(f,) for f in FILTERS]
    pairs = [(f"view={v}", f) for v in VIEWS for f in FILTERS]
    pairs += list(itertools.combinations(FILTERS, 2))
    return [c for c in singles + pairs if frozenset(c) not in EXCLUSIVE]


CASES = _cases()


def _world(role: str):
    support = Team.objects.create(name="Support")
    group, approval, superuser = ROLES[role]
    user = person(role, role=group, team=support, is_superuser=superuser)
    if approval:
        AgentProfile.objects.filter(user=user).update(needs_approval=True)
    channel = make_channel()
    result = ingest_batch(
        channel_id=channel.pk,
        items=[item("m1", thread="t1", uid="u1", text="My zebra parcel never came")],
    )
    ticket = Ticket.objects.get(pk__in=result.ticket_ids)
    Ticket.objects.filter(pk=ticket.pk).update(team=support)
    # Someone else's ticket in another team that matches nothing but the defaults.
    other = Team.objects.create(name="Billing")
    decoy = ingest_batch(
        channel_id=make_channel().pk,
        items=[item("m2", thread="t2", uid="u2", text="Invoice question")],
    )
    Ticket.objects.filter(pk__in=decoy.ticket_ids).update(team=other)
    return user, support, ticket


def _matching(case: tuple[str, ...], user, support: Team, ticket: Ticket) -> dict[str, str]:
    """Shape ``ticket`` so it matches every filter of ``case``; the query string that asks."""
    now = timezone.now()
    changes: dict = {}
    params: dict[str, str] = {}
    for part in case:
        key, _, value = part.partition("=")
        if key == "view":
            params["view"] = value
            changes.update(
                {
                    "mine": {"assignee": user, "status": TicketStatus.OPEN},
                    "unassigned": {"assignee": None},
                    "open": {"status": TicketStatus.OPEN},
                    "pending": {"status": TicketStatus.PENDING},
                    "closed": {"status": TicketStatus.CLOSED},
                    "compliments": {"intent": Intent.COMPLIMENT},
                    "at_risk": {"due_at": now + dt.timedelta(minutes=10)},
                }[value]
            )
        elif key == "channel":
            params["channel"] = str(ticket.channel_id)
        elif key == "kind":
            params["kind"] = ticket.kind
        elif key == "tag":
            ticket.tags.add(Tag.objects.create(name="refund"))
            params["tag"] = "refund"
        elif key == "assignee":
            changes["assignee"] = user
            params["assignee"] = str(user.pk)
        elif key == "team":
            params["team"] = str(support.pk)
        elif key == "q":
            params["q"] = "zebra"
        elif key == "sort":
            params["sort"] = "due"
        elif key == "after":
            # A cursor before every ticket: the deeper-page path, which must still find it.
            params["after"] = f"{(now - dt.timedelta(days=1)).isoformat()}|0"
    if changes:
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
    return params


def _ids(case: tuple[str, ...]) -> str:
    return "+".join(case)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_filter_and_pair_lists_the_matching_ticket_for_every_role(client, role, case):
    user, support, ticket = _world(role)
    params = _matching(case, user, support, ticket)
    client.force_login(user)
    if params.get("view") == "at_risk" and role not in LEADS:
        # "At risk" is a lead's view: refused, not broken.
        assert client.get(reverse("inbox:index"), params).status_code == 403
        return
    page = client.get(reverse("inbox:index"), params)
    assert page.status_code == 200
    assert f'id="row-{ticket.pk}"' in page.content.decode()
    poll = client.get(reverse("inbox:list"), {**params, "stamp": "-"}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    assert f'id="row-{ticket.pk}"' in poll.content.decode()
