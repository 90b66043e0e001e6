"""Users, roles, teams, capacity and shifts: what admins and leads can do, and what it leaves."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from inbox.ingest.services import ingest_batch
from inbox.models import Activity, AgentProfile, Rule, Shift, Team, Ticket, TicketStatus
from inbox.people import services as people
from inbox.tickets.services import ActionError, ticket_assign, ticket_close
from tests.factories import item, make_channel
from tests.personas import eager_celery, person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def ada():
    return person("ada", "admin")


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


@pytest.fixture
def lotte(support):
    return person("lotte", "lead", team=support)


@pytest.fixture
def lead_client(client, lotte):
    client.force_login(lotte)
    return client


def _audit(verb: str) -> list[Activity]:
    return list(Activity.objects.filter(verb=verb, ticket__isnull=True).order_by("pk"))


# --- the user list ----------------------------------------------------------------------------
def test_the_user_list_shows_role_teams_activity_and_open_tickets(admin_client, support, ada):
    anna = person("anna", team=support)
    made = tickets(3, team=support)
    for t in made[:2]:
        ticket_assign(ticket_id=t.pk, user=ada, assignee=anna)
    ticket_close(ticket_id=made[1].pk, user=anna)
    html = admin_client.get(reverse("pages:people")).content.decode()
    row = html[html.index(f'data-user="{anna.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Anna" in row and "anna" in row and "Agent" in row and "Support" in row
    assert "never" in row  # last log-in
    assert re.search(r"<td>1</td>\s*$", row)  # one open ticket now (the other is closed)


def test_the_user_list_costs_the_same_queries_for_many_users(
    admin_client, support, django_assert_max_num_queries
):
    for i in range(30):
        person(f"agent{i}", team=support)
    admin_client.get(reverse("pages:people"))
    with django_assert_max_num_queries(8):
        admin_client.get(reverse("pages:people"))


def test_a_lead_reads_the_user_list_but_cannot_change_users(lead_client, support):
    anna = person("anna", team=support)
    html = lead_client.get(reverse("pages:people")).content.decode()
    assert "anna" in html and reverse("pages:people_edit", args=[anna.pk]) not in html
    assert lead_client.get(reverse("pages:people_edit", args=[anna.pk])).status_code == 403
    response = lead_client.post(
        reverse("pages:people_edit", args=[anna.pk]), {"role": "admin", "is_active": "on"}
    )
    assert response.status_code == 403
    assert people.role_of(User.objects.get(pk=anna.pk)) == "agent"


# --- creating users ---------------------------------------------------------------------------
def test_an_admin_creates_a_user_and_sees_the_generated_password_once(
    admin_client, client, support
):
    response = admin_client.post(
        reverse("pages:people_new"),
        {
            "username": "bram",
            "first_name": "Bram",
            "last_name": "Jansen",
            "email": "bram@example.com",
            "role": "lead",
            "teams": [support.pk],
            "password": "",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(r"data-password>([^<]+)<", response.content.decode()).group(1)
    bram = User.objects.get(username="bram")
    assert people.role_of(bram) == "lead"
    assert list(bram.teams.all()) == [support]
    assert AgentProfile.objects.filter(user=bram).exists()
    assert bram.check_password(password)
    # Not stored anywhere readable: the audit says only that it was generated.
    (row,) = _audit("user_created")
    assert row.after["password"] == "generated" and password not in str(row.after)
    assert (
        password
        not in admin_client.get(reverse("pages:people_edit", args=[bram.pk])).content.decode()
    )


def test_an_admin_may_set_the_password_and_weak_ones_are_refused(admin_client):
    weak = admin_client.post(
        reverse("pages:people_new"), {"username": "bram", "role": "agent", "password": "12345678"}
    )
    assert weak.status_code == 200 and not User.objects.filter(username="bram").exists()
    assert "This password is too common." in weak.content.decode()
    ok = admin_client.post(
        reverse("pages:people_new"),
        {"username": "bram", "role": "agent", "password": "kalm-Zeeland-42!"},
    )
    assert ok.status_code == 302
    assert User.objects.get(username="bram").check_password("kalm-Zeeland-42!")
    assert _audit("user_created")[0].after["password"] == "set"


def test_a_username_is_taken_whatever_its_case(admin_client):
    person("anna")
    response = admin_client.post(reverse("pages:people_new"), {"username": "Anna", "role": "agent"})
    assert "That username is taken." in response.content.decode()
    assert User.objects.filter(username__iexact="anna").count() == 1


# --- editing users and roles ------------------------------------------------------------------
def _edit(client, user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": people.role_of(user) or "agent",
        "teams": [t.pk for t in user.teams.all()],
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return client.post(reverse("pages:people_edit", args=[user.pk]), data)


def test_an_admin_changes_role_and_teams_and_it_is_audited(admin_client, support, ada):
    billing = Team.objects.create(name="Billing")
    anna = person("anna", team=support)
    response = _edit(admin_client, anna, role="lead", teams=[billing.pk])
    assert response.status_code == 302
    anna = User.objects.get(pk=anna.pk)
    assert people.role_of(anna) == "lead" and list(anna.teams.all()) == [billing]
    assert anna.has_perm("inbox.assign_tickets")
    (row,) = _audit("user_updated")
    assert row.actor == ada
    assert row.before == {"user": anna.pk, "role": "agent", "teams": [support.pk]}
    assert row.after == {"user": anna.pk, "role": "lead", "teams": [billing.pk]}


def test_an_admin_cannot_remove_their_own_admin_role_or_access(admin_client, ada):
    person("second", "admin")
    for change in ({"role": "lead"}, {"is_active": ""}):
        response = _edit(admin_client, ada, **change)
        assert "You cannot take away your own admin role or access." in response.content.decode()
    ada.refresh_from_db()
    assert ada.is_active and people.role_of(ada) == "admin"


def test_the_last_active_admin_stays_admin(ada):
    other = person("root", "admin")
    people.user_update(
        actor=other,
        user=ada,
        role="agent",
        teams=[],
        is_active=True,
        first_name="",
        last_name="",
        email="",
    )
    with pytest.raises(ActionError, match="last active admin"):
        people.user_update(
            actor=ada,
            user=other,
            role="agent",
            teams=[],
            is_active=True,
            first_name="",
            last_name="",
            email="",
        )


# --- deactivation: the hand-over rule ---------------------------------------------------------
def test_deactivating_returns_their_unclosed_tickets_to_the_team_queue(admin_client, support, ada):
    anna = person("anna", team=support)
    new, open_, pending, closed = tickets(4, team=support)
    for t in (new, open_, pending, closed):
        ticket_assign(ticket_id=t.pk, user=ada, assignee=anna)
    Ticket.objects.filter(pk=open_.pk).update(status=TicketStatus.OPEN)
    Ticket.objects.filter(pk=pending.pk).update(status=TicketStatus.PENDING)
    ticket_close(ticket_id=closed.pk, user=anna)

    response = _edit(admin_client, anna, is_active="")

    assert response.status_code == 302
    assert not User.objects.get(pk=anna.pk).is_active
    held = dict(Ticket.objects.values_list("pk", "assignee_id"))
    assert held[new.pk] is None and held[open_.pk] is None and held[pending.pk] is None
    assert held[closed.pk] == anna.pk  # reports keep who handled it
    released = Activity.objects.filter(verb="released", after__reason="deactivated")
    assert sorted(released.values_list("ticket_id", flat=True)) == sorted(
        [new.pk, open_.pk, pending.pk]
    )
    (row,) = _audit("user_deactivated")
    assert row.after == {"user": anna.pk, "active": False, "tickets": 3, "handed_to": None}
    page = admin_client.get(reverse("pages:people")).content.decode()
    assert "deactivated" in page


def test_deactivating_can_hand_everything_to_a_colleague(admin_client, support, ada):
    anna, bram = person("anna", team=support), person("bram", team=support)
    made = tickets(2, team=support)
    for t in made:
        ticket_assign(ticket_id=t.pk, user=ada, assignee=anna)
    response = _edit(admin_client, anna, is_active="", hand_over_to=bram.pk)
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {bram.pk}
    assert _audit("user_deactivated")[0].after["handed_to"] == bram.pk


def test_deactivated_tickets_of_an_automatic_team_go_to_the_next_available_agent(
    support, ada, django_capture_on_commit_callbacks
):
    support.assignment = "auto"
    support.save()
    anna, bram = person("anna", team=support), person("bram", team=support)
    made = tickets(2, team=support)
    for t in made:
        ticket_assign(ticket_id=t.pk, user=ada, assignee=anna)
    with eager_celery(), django_capture_on_commit_callbacks(execute=True):
        people.user_update(
            actor=ada,
            user=anna,
            role="agent",
            teams=[support],
            is_active=False,
            first_name="Anna",
            last_name="",
            email="",
        )
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {bram.pk}


def test_a_deactivated_user_cannot_log_in_and_gets_no_tickets_from_rules(client, support, ada):
    anna = person("anna", team=support)
    channel = make_channel()
    Rule.objects.create(name="To Anna", keywords="parcel", assign_to=anna)
    people.user_update(
        actor=ada,
        user=anna,
        role="agent",
        teams=[support],
        is_active=False,
        first_name="Anna",
        last_name="",
        email="",
    )
    response = client.post(reverse("login"), {"username": "anna", "password": "pw-anna"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    result = ingest_batch(channel_id=channel.pk, items=[item("x1", text="Where is my parcel?")])
    assert Ticket.objects.get(pk=result.ticket_ids[0]).assignee_id is None


def test_a_deactivated_user_is_logged_out_at_the_next_request(client, support, ada):
    anna = person("anna", team=support)
    client.force_login(anna)
    assert client.get(reverse("inbox:index")).status_code == 200
    people.user_update(
        actor=ada,
        user=anna,
        role="agent",
        teams=[support],
        is_active=False,
        first_name="Anna",
        last_name="",
        email="",
    )
    assert client.get(reverse("inbox:index")).status_code == 302


# --- passwords --------------------------------------------------------------------------------
def test_an_admin_resets_a_password_which_ends_the_users_sessions(admin_client, client, support):
    anna = person("anna", team=support)
    from django.test import Client

    annas_browser = Client()
    annas_browser.force_login(anna)
    response = admin_client.post(reverse("pages:people_password", args=[anna.pk]), {})
    password = re.search(r"data-password>([^<]+)<", response.content.decode()).group(1)
    assert User.objects.get(pk=anna.pk).check_password(password)
    assert annas_browser.get(reverse("inbox:index")).status_code == 302
    (row,) = _audit("user_password_reset")
    assert row.after == {"user": anna.pk, "password": "generated"}


def test_a_typed_password_is_checked_before_it_is_set(admin_client, support):
    anna = person("anna", team=support)
    response = admin_client.post(
        reverse("pages:people_password", args=[anna.pk]), {"password": "anna"}
    )
    assert response.status_code == 400
    assert User.objects.get(pk=anna.pk).check_password("pw-anna")
    assert not _audit("user_password_reset")


# --- teams ------------------------------------------------------------------------------------
def test_an_admin_creates_and_edits_a_team(admin_client, ada):
    anna, bram = person("anna"), person("bram")
    response = admin_client.post(
        reverse("pages:people_team_new"),
        {
            "name": "Social",
            "time_zone": "Europe/Amsterdam",
            "members": [anna.pk],
            "assignment": "manual",
        },
    )
    team = Team.objects.get(name="Social")
    assert response.status_code == 302 and list(team.members.all()) == [anna]
    response = admin_client.post(
        reverse("pages:people_team_edit", args=[team.pk]),
        {
            "name": "Social media",
            "time_zone": "Europe/London",
            "members": [anna.pk, bram.pk],
            "assignment": "auto",
        },
    )
    team.refresh_from_db()
    assert team.name == "Social media" and team.time_zone == "Europe/London"
    assert team.assignment == "auto" and team.members.count() == 2
    assert _audit("team_created")[0].after["members"] == [anna.pk]
    (row,) = _audit("team_updated")
    assert row.before == {
        "team": team.pk,
        "name": "Social",
        "time_zone": "Europe/Amsterdam",
        "members": [anna.pk],
    }
    assert _audit("team_assignment")[0].after == {"team": team.pk, "assignment": "auto"}


def test_the_team_page_shows_each_agents_load_and_the_queue(lead_client, support, lotte):
    anna = person("anna", team=support)
    AgentProfile.objects.filter(user=anna).update(capacity=4)
    bram = person("bram", team=support)
    AgentProfile.objects.filter(user=bram).update(available=False)
    made = tickets(5, team=support)
    for t in made[:3]:
        ticket_assign(ticket_id=t.pk, user=lotte, assignee=anna)
    Shift.objects.create(user=bram, weekday=0, start=dt.time(8), end=dt.time(12))

    html = lead_client.get(reverse("pages:people_team", args=[support.pk])).content.decode()

    assert "Unassigned open tickets in the queue: <strong>2</strong>" in html
    anna_row = html[html.index(f'data-agent="{anna.pk}"') :]
    anna_row = anna_row[: anna_row.index("</tr>")]
    assert re.findall(r"<td>(\d+)</td>", anna_row)[:2] == ["3", "4"]
    bram_row = html[html.index(f'data-agent="{bram.pk}"') :]
    bram_row = bram_row[: bram_row.index("</tr>")]
    assert "away" in bram_row and "Monday 08:00–12:00" in bram_row


def test_a_lead_sets_assignment_and_capacity_of_their_own_team(lead_client, support, lotte):
    anna = person("anna", team=support)
    response = lead_client.post(
        reverse("pages:people_team_settings", args=[support.pk]),
        {"assignment": "auto", f"capacity_{anna.pk}": 3, f"capacity_{lotte.pk}": 10},
    )
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.assignment == "auto"
    assert AgentProfile.objects.get(user=anna).capacity == 3
    (row,) = _audit("agent_capacity")
    assert row.actor == lotte
    assert row.before == {"user": anna.pk, "capacity": 10}
    assert row.after == {"user": anna.pk, "capacity": 3}


def test_a_lead_makes_a_team_member_a_trainee_whose_replies_wait_for_approval(
    lead_client, support, lotte
):
    anna = person("anna", team=support)
    page = lead_client.get(reverse("pages:people_team", args=[support.pk])).content.decode()
    assert f'name="review_{anna.pk}"' in page

    response = lead_client.post(
        reverse("pages:people_team_settings", args=[support.pk]),
        {
            "assignment": "manual",
            f"capacity_{anna.pk}": 10,
            f"capacity_{lotte.pk}": 10,
            f"review_{anna.pk}": "on",
        },
    )

    assert response.status_code == 302
    assert AgentProfile.objects.get(user=anna).needs_approval is True
    assert not AgentProfile.objects.filter(user=lotte, needs_approval=True).exists()
    (row,) = _audit("agent_needs_approval")
    assert row.actor == lotte
    assert row.after == {"user": anna.pk, "needs_approval": True}
    page = lead_client.get(reverse("pages:people_team", args=[support.pk])).content.decode()
    assert re.search(rf'name="review_{anna.pk}"[^>]*checked', page)


def test_a_lead_cannot_change_another_teams_settings_or_shifts(lead_client):
    billing = Team.objects.create(name="Billing")
    bob = person("bob", team=billing)
    shift = Shift.objects.create(user=bob, weekday=1, start=dt.time(9), end=dt.time(17))
    posts = [
        ("pages:people_team_settings", [billing.pk], {"assignment": "auto"}),
        (
            "pages:people_shift_add",
            [billing.pk],
            {"user": bob.pk, "weekday": 2, "start": "09:00", "end": "17:00"},
        ),
        ("pages:people_shift_delete", [billing.pk, shift.pk], {}),
        ("pages:people_availability", [billing.pk], {"user": bob.pk, "available": "0"}),
    ]
    for name, args, data in posts:
        assert lead_client.post(reverse(name, args=args), data).status_code == 403, name
    billing.refresh_from_db()
    assert billing.assignment == "manual"
    assert list(Shift.objects.values_list("pk", flat=True)) == [shift.pk]
    assert AgentProfile.objects.get(user=bob).available
    # Reading the team's load is fine; its settings form is not offered.
    html = lead_client.get(reverse("pages:people_team", args=[billing.pk])).content.decode()
    assert reverse("pages:people_team_settings", args=[billing.pk]) not in html


def test_a_lead_cannot_create_or_rename_teams(lead_client, support):
    assert lead_client.get(reverse("pages:people_team_new")).status_code == 403
    response = lead_client.post(
        reverse("pages:people_team_edit", args=[support.pk]),
        {"name": "Mine now", "time_zone": "UTC", "assignment": "manual"},
    )
    assert response.status_code == 403 and Team.objects.get(pk=support.pk).name == "Support"


def test_a_lead_adds_and_removes_shifts_in_their_team(lead_client, support, lotte):
    anna = person("anna", team=support)
    response = lead_client.post(
        reverse("pages:people_shift_add", args=[support.pk]),
        {"user": anna.pk, "weekday": 4, "start": "22:00", "end": "06:00"},
    )
    assert response.status_code == 302
    shift = Shift.objects.get(user=anna)
    assert (shift.weekday, shift.start, shift.end) == (4, dt.time(22), dt.time(6))
    added = _audit("shift_added")[0]
    assert added.after == {
        "shift": shift.pk,
        "user": anna.pk,
        "weekday": 4,
        "start": "22:00",
        "end": "06:00",
    }
    lead_client.post(reverse("pages:people_shift_delete", args=[support.pk, shift.pk]))
    assert not Shift.objects.exists()
    assert _audit("shift_removed")[0].before["user"] == anna.pk


def test_a_shift_for_someone_outside_the_team_is_refused(lead_client, support):
    outsider = person("olga", team=Team.objects.create(name="Other"))
    response = lead_client.post(
        reverse("pages:people_shift_add", args=[support.pk]),
        {"user": outsider.pk, "weekday": 0, "start": "09:00", "end": "17:00"},
    )
    assert response.status_code == 400 and not Shift.objects.exists()


def test_a_shift_that_ends_when_it_starts_is_refused(lead_client, support):
    anna = person("anna", team=support)
    response = lead_client.post(
        reverse("pages:people_shift_add", args=[support.pk]),
        {"user": anna.pk, "weekday": 0, "start": "09:00", "end": "09:00"},
    )
    assert response.status_code == 400
    assert "A shift ends at another time than it starts." in response.content.decode()


def test_a_lead_marks_a_member_away_and_back(lead_client, support, lotte):
    anna = person("anna", team=support)
    url = reverse("pages:people_availability", args=[support.pk])
    lead_client.post(url, {"user": anna.pk, "available": "0"})
    assert not AgentProfile.objects.get(user=anna).available
    lead_client.post(url, {"user": anna.pk, "available": "1"})
    assert AgentProfile.objects.get(user=anna).available
    rows = Activity.objects.filter(verb="agent_availability").order_by("pk")
    assert [r.after["available"] for r in rows] == [False, True]
    assert {r.actor_id for r in rows} == {lotte.pk}


def test_the_team_list_shows_members_mode_and_queue(lead_client, support):
    person("anna", team=support)
    tickets(2, team=support)
    html = lead_client.get(reverse("pages:people_teams")).content.decode()
    row = html[html.index(f'data-team="{support.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "your team" in row and "manual" in row
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "2"]  # lotte and anna; two unassigned


def test_saving_a_team_keeps_its_deactivated_members(admin_client, support, ada):
    anna = person("anna", team=support)
    gone = person("gone", team=support)
    gone.is_active = False
    gone.save()
    page = admin_client.get(reverse("pages:people_team_edit", args=[support.pk])).content.decode()
    assert "Gone (deactivated)" in page
    admin_client.post(
        reverse("pages:people_team_edit", args=[support.pk]),
        {
            "name": "Support",
            "time_zone": "Europe/Amsterdam",
            "members": [anna.pk, gone.pk],
            "assignment": "manual",
        },
    )
    assert set(support.members.values_list("pk", flat=True)) == {anna.pk, gone.pk}
    assert not _audit("team_updated")
