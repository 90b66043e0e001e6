"""The inbox screen over HTTP: who sees what, every action and its forbidden path, live polling."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.core import bulk
from inbox.models import (
    Activity,
    AgentProfile,
    CannedReply,
    Direction,
    Message,
    Shift,
    Team,
    Ticket,
    TicketStatus,
)
from inbox.tickets import presence, selectors
from inbox.tickets.services import ticket_assign
from tests.personas import eager_celery, person, tickets

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_presence_from_earlier_tests():
    # Presence lives in the shared cache, which outlives each test's database rollback.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def billing():
    return Team.objects.create(name="Billing")


@pytest.fixture
def anna(support):
    return person("anna", team=support)


@pytest.fixture
def ticket(support):
    return tickets(1, team=support)[0]


@pytest.fixture
def agent_client(client, anna):
    client.force_login(anna)
    return client


def url(name, ticket):
    return reverse(f"inbox:{name}", args=[ticket.pk])


# --- who sees what ----------------------------------------------------------------------------
def test_the_inbox_needs_a_login(client):
    response = client.get(reverse("inbox:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_user_without_a_role_is_forbidden(client):
    client.force_login(person("visitor", role=None))
    assert client.get(reverse("inbox:index")).status_code == 403


def test_an_agent_sees_their_teams_tickets_and_unrouted_ones_not_other_teams(
    agent_client, support, billing
):
    ours = tickets(1, team=support, prefix="ours")[0]
    theirs = tickets(1, team=billing, prefix="theirs")[0]
    unrouted = tickets(1, prefix="nobody")[0]
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert f'id="row-{ours.pk}"' in html
    assert f'id="row-{unrouted.pk}"' in html
    assert f'id="row-{theirs.pk}"' not in html
    assert agent_client.get(url("thread", theirs)).status_code == 403


def test_an_agent_of_two_teams_sees_both_their_assigned_ticket_elsewhere_and_a_true_count(
    agent_client, anna, support, billing
):
    shipping = Team.objects.create(name="Shipping")
    shipping.members.add(anna)
    ours = tickets(1, team=support, prefix="ours")[0]
    shipped = tickets(1, team=shipping, prefix="shipped")[0]
    unrouted = tickets(1, prefix="nobody")[0]
    theirs, handed = tickets(2, team=billing, prefix="theirs")
    Ticket.objects.filter(pk=handed.pk).update(assignee=anna)
    page = selectors.ticket_page(anna, selectors.ListFilter())
    assert {t.pk for t in page.tickets} == {ours.pk, shipped.pk, unrouted.pk, handed.pk}
    assert page.count_label == "4"
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert f'id="row-{theirs.pk}"' not in html


def test_a_lead_sees_every_team(client, billing):
    client.force_login(person("lena", "lead"))
    theirs = tickets(1, team=billing)[0]
    assert client.get(url("thread", theirs)).status_code == 200


# --- list and thread --------------------------------------------------------------------------
def test_the_list_shows_customer_preview_status_and_waiting_time(agent_client, ticket):
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert ticket.identity.display_name in html
    assert "@" + ticket.identity.handle in html
    assert "Hello 0" in html
    assert "<time datetime=" in html


def test_an_htmx_request_gets_the_list_fragment_only(agent_client, ticket):
    html = agent_client.get(reverse("inbox:index"), **HTMX).content.decode()
    assert html.lstrip().startswith('<div id="list"')
    assert "<html" not in html


def test_the_thread_page_works_on_reload_and_as_a_fragment(agent_client, ticket):
    full = agent_client.get(url("thread", ticket)).content.decode()
    fragment = agent_client.get(url("thread", ticket), **HTMX).content.decode()
    assert "<html" in full and 'id="thread"' in full and 'id="list"' in full
    assert "<html" not in fragment and 'id="thread"' in fragment


def test_views_filter_by_status(agent_client, anna, support):
    open_t, closed_t = tickets(2, team=support)
    Ticket.objects.filter(pk=closed_t.pk).update(status=TicketStatus.CLOSED)
    html = agent_client.get(reverse("inbox:index") + "?view=closed").content.decode()
    assert f'id="row-{closed_t.pk}"' in html and f'id="row-{open_t.pk}"' not in html


def test_mine_shows_only_my_tickets(agent_client, anna, support):
    mine, other = tickets(2, team=support)
    Ticket.objects.filter(pk=mine.pk).update(assignee=anna)
    html = agent_client.get(reverse("inbox:index") + "?view=mine").content.decode()
    assert f'id="row-{mine.pk}"' in html and f'id="row-{other.pk}"' not in html


def test_search_finds_message_text(agent_client, support):
    found, other = tickets(2, team=support)
    Message.objects.filter(ticket=found).update(text="Mijn pakket is kapot")
    html = agent_client.get(reverse("inbox:index") + "?q=pakket").content.decode()
    assert f'id="row-{found.pk}"' in html and f'id="row-{other.pk}"' not in html


def test_a_search_that_matches_nothing_shows_an_empty_list(agent_client, support):
    tickets(3, team=support)
    response = agent_client.get(reverse("inbox:index") + "?q=onvindbaarwoord")
    assert response.status_code == 200
    assert 'id="row-' not in response.content.decode()


def test_search_finds_a_customer_by_handle(agent_client, support):
    found, other = tickets(2, team=support)
    found.identity.handle = "pakketfan"
    found.identity.save()
    html = agent_client.get(reverse("inbox:index") + "?q=pakketfan").content.decode()
    assert f'id="row-{found.pk}"' in html and f'id="row-{other.pk}"' not in html


def test_the_any_of_lookup_matches_a_list_or_an_id_array(support):
    a, b, c = tickets(3, team=support)
    as_list = Ticket.objects.filter(pk__any_of=[a.pk, c.pk, 10**12])
    as_array = Ticket.objects.filter(identity_id__any_of=bulk.id_array([b.identity_id]))
    assert sorted(t.pk for t in as_list) == sorted([a.pk, c.pk])
    assert [t.pk for t in as_array] == [b.pk]
    assert not Ticket.objects.filter(pk__any_of=[]).exists()


def test_keyset_pages_follow_each_other_without_gaps(anna, support):
    made = tickets(120, team=support)
    flt = selectors.ListFilter()
    seen = []
    while True:
        page = selectors.ticket_page(anna, flt)
        seen += [t.pk for t in page.tickets]
        if not page.next_after:
            break
        flt.after = page.next_after
    assert sorted(seen) == sorted(t.pk for t in made) and len(seen) == len(set(seen))
    assert selectors.ticket_page(anna, selectors.ListFilter()).count_label == "99+"


@pytest.mark.parametrize("n", [5, 100])
def test_the_list_uses_a_constant_number_of_queries(
    agent_client, support, n, django_assert_num_queries
):
    tickets(n, team=support)
    agent_client.get(reverse("inbox:index"))  # warm the session
    # Who asks (session; user with profile; roles from the cache), then one statement each for
    # the page's ids (a limited scan per way the agent sees tickets: no team, assigned to them,
    # each team), the page, its tags and the bounded count.
    with django_assert_num_queries(6):
        agent_client.get(reverse("inbox:index"), **HTMX)


@pytest.mark.parametrize("n", [5, 100])
def test_the_thread_uses_a_constant_number_of_queries(
    agent_client, ticket, anna, n, django_assert_num_queries
):
    for i in range(n):
        Message.objects.create(
            ticket=ticket, channel_id=ticket.channel_id, direction=Direction.INBOUND, text=f"m{i}"
        )
    agent_client.get(url("thread", ticket))
    # Session, user with profile, ticket, its tags, messages, the customer's group and their
    # other tickets, and the incidents beside the thread ("Why is this here?").
    with django_assert_num_queries(8):
        agent_client.get(url("thread", ticket), **HTMX)


def test_platform_text_is_escaped_and_links_are_inert(agent_client, ticket):
    Message.objects.filter(ticket=ticket).update(
        text='<script>alert(1)</script><a href="https://evil">x</a>'
    )
    ticket.identity.display_name = "<img src=x onerror=alert(2)>"
    ticket.identity.save()
    html = agent_client.get(url("thread", ticket)).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and '<a href="https://evil"' not in html


def test_the_page_carries_csrf_in_hx_headers_and_a_strict_csp(agent_client, ticket):
    response = agent_client.get(reverse("inbox:index"))
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


# --- live -------------------------------------------------------------------------------------
STAMP = re.compile(r"stamp=([0-9a-f]+)")


def _stamp(client, query: str = "") -> str:
    html = client.get(reverse("inbox:index") + query, **HTMX).content.decode()
    return STAMP.search(html).group(1)


def _poll(client, stamp: str, query: str = ""):
    return client.get(reverse("inbox:list") + f"?stamp={stamp}{query}", **HTMX)


def test_list_poll_answers_204_while_the_first_page_looks_the_same(agent_client, ticket):
    assert _poll(agent_client, _stamp(agent_client)).status_code == 204


def test_list_poll_answers_204_when_only_a_ticket_beyond_the_first_page_changed(
    agent_client, support
):
    made = tickets(selectors.PAGE_SIZE + 2, team=support)
    stamp = _stamp(agent_client)
    last = max(made, key=lambda t: (t.waiting_since, t.pk))
    Ticket.objects.filter(pk=last.pk).update(updated_at=timezone.now() + dt.timedelta(seconds=1))
    assert _poll(agent_client, stamp).status_code == 204


def test_list_poll_sends_the_list_when_a_ticket_on_it_changed(agent_client, ticket):
    stamp = _stamp(agent_client)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() + dt.timedelta(seconds=1))
    response = _poll(agent_client, stamp)
    assert response.status_code == 200 and f'id="row-{ticket.pk}"' in response.content.decode()


def test_list_poll_sends_the_list_when_a_new_ticket_joins_the_view(agent_client, support, ticket):
    stamp = _stamp(agent_client)
    new = tickets(1, team=support, prefix="new")[0]
    response = _poll(agent_client, stamp)
    assert response.status_code == 200 and f'id="row-{new.pk}"' in response.content.decode()


def test_list_poll_sends_the_list_when_a_colleague_opens_a_ticket_on_it(
    agent_client, support, ticket
):
    stamp = _stamp(agent_client)
    presence.presence_touch(ticket_id=ticket.pk, user=person("bram", team=support), typing=False)
    response = _poll(agent_client, stamp)
    assert response.status_code == 200 and "Bram is viewing" in response.content.decode()


def test_a_poll_of_another_view_never_takes_this_views_stamp(agent_client, anna, support):
    mine = tickets(1, team=support, prefix="mine")[0]
    Ticket.objects.filter(pk=mine.pk).update(assignee=anna)
    stamp = _stamp(agent_client, "?view=unassigned")
    assert _poll(agent_client, stamp, "&view=mine").status_code == 200


def test_thread_poll_answers_204_until_the_version_moves(agent_client, ticket):
    poll = url("thread_poll", ticket)
    assert agent_client.get(poll + f"?v={ticket.version}", **HTMX).status_code == 204
    Ticket.objects.filter(pk=ticket.pk).update(version=ticket.version + 1)
    response = agent_client.get(poll + f"?v={ticket.version}", **HTMX)
    assert response.status_code == 200
    assert 'id="composer"' not in response.content.decode()  # the draft is never replaced


def test_presence_shows_a_colleague_viewing_and_typing(agent_client, ticket, support):
    bob = person("bob", team=support)
    presence.presence_touch(ticket_id=ticket.pk, user=bob, typing=True)
    html = agent_client.post(url("presence", ticket), {"typing": "0"}, **HTMX).content.decode()
    assert "Bob is typing" in html


# --- actions ----------------------------------------------------------------------------------
def test_claim(agent_client, anna, ticket):
    response = agent_client.post(url("claim", ticket), **HTMX)
    assert response.status_code == 200 and "Claimed by Anna" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == anna


def test_claim_lost_shows_who_has_it(agent_client, ticket, support):
    Ticket.objects.filter(pk=ticket.pk).update(assignee=person("bob", team=support))
    html = agent_client.post(url("claim", ticket), **HTMX).content.decode()
    assert "Bob already has this ticket" in html


def test_release(agent_client, anna, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(assignee=anna)
    agent_client.post(url("release", ticket), **HTMX)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_tag_and_untag(agent_client, ticket):
    agent_client.post(url("tag", ticket), {"name": "refund"}, **HTMX)
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"]
    agent_client.post(url("untag", ticket), {"name": "refund"}, **HTMX)
    assert not ticket.tags.exists()


def test_tag_autocomplete_suggests_existing_tags(agent_client, ticket):
    agent_client.post(url("tag", ticket), {"name": "refund"}, **HTMX)
    html = agent_client.get(reverse("inbox:tags") + "?name=ref", **HTMX).content.decode()
    assert '<option value="refund">' in html


def test_close_and_reopen(agent_client, ticket):
    agent_client.post(url("close", ticket), {"reason": "no_reply_needed"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "no_reply_needed"
    agent_client.post(url("reopen", ticket), **HTMX)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_snooze(agent_client, ticket):
    agent_client.post(url("snooze", ticket), {"until": "2099-01-01T09:00"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING and ticket.snoozed_until.year == 2099


def test_reply_sends_and_returns_an_empty_composer(
    agent_client, ticket, django_capture_on_commit_callbacks
):
    seen = ticket.messages.order_by("-pk").first().pk
    with eager_celery(), django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("reply", ticket),
            {"text": "Sorry!", "mode": "public", "seen_message_id": seen},
            **HTMX,
        )
    html = response.content.decode()
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.text == "Sorry!\n^Anna" and reply.delivery_state == "sent"
    assert 'id="composer"' in html and 'hx-swap-oob="true"' in html


def test_reply_blocked_by_a_new_message_keeps_the_draft(agent_client, ticket):
    seen = ticket.messages.order_by("-pk").first().pk
    Message.objects.create(
        ticket=ticket, channel_id=ticket.channel_id, direction=Direction.INBOUND, text="Hello??"
    )
    html = agent_client.post(
        url("reply", ticket), {"text": "Draft", "mode": "public", "seen_message_id": seen}, **HTMX
    ).content.decode()
    assert "A new message arrived" in html and ">Draft</textarea>" in html
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_note(agent_client, ticket):
    agent_client.post(url("reply", ticket), {"text": "Internal", "mode": "note"}, **HTMX)
    assert Message.objects.get(direction=Direction.NOTE).text == "Internal"


def test_retry_a_failed_reply(agent_client, ticket, anna, django_capture_on_commit_callbacks):
    failed = Message.objects.create(
        ticket=ticket,
        channel_id=ticket.channel_id,
        direction=Direction.OUTBOUND,
        text="x",
        delivery_state="failed",
        idempotency_key="k1",
        author_user=anna,
    )
    with eager_celery(), django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url("retry", ticket), {"message": failed.pk}, **HTMX)
    failed.refresh_from_db()
    assert failed.delivery_state == "sent" and failed.external_id == "sim-out-k1"


def test_merge_and_unmerge_customers(agent_client, support, ticket):
    other = tickets(1, team=support, prefix="o")[0]
    agent_client.post(url("merge", ticket), {"other_ticket": other.pk}, **HTMX)
    ticket.customer.refresh_from_db()
    assert ticket.customer.merged_into_id == other.customer_id
    html = agent_client.get(url("thread", ticket), **HTMX).content.decode()
    assert f"#{other.pk}" in html  # the customer's other ticket shows beside the thread
    agent_client.post(url("unmerge", ticket), **HTMX)
    ticket.customer.refresh_from_db()
    assert ticket.customer.merged_into_id is None


def test_canned_replies_are_searchable_and_filled(agent_client, ticket):
    CannedReply.objects.create(title="Delay", body="Hi {customer_name}, sorry! {agent_first_name}")
    html = agent_client.get(url("canned", ticket) + "?q=dela", **HTMX).content.decode()
    assert f"Hi {ticket.identity.display_name}, sorry! Anna" in html


def test_bulk_close_and_tag(agent_client, support):
    batch = tickets(3, team=support)
    ids = [t.pk for t in batch]
    agent_client.post(reverse("inbox:bulk"), {"action": "tag", "tag": "vip", "ticket": ids})
    agent_client.post(reverse("inbox:bulk"), {"action": "close", "ticket": ids})
    assert Ticket.objects.filter(status=TicketStatus.CLOSED, tags__name="vip").count() == 3


def test_a_lead_assigns(client, anna, ticket):
    client.force_login(person("lena", "lead"))
    client.post(url("assign", ticket), {"assignee": anna.pk}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.assignee == anna


# --- forbidden paths: 403 and nothing changes -------------------------------------------------
FORBIDDEN_ACTIONS = [
    ("claim", {}),
    ("release", {}),
    ("tag", {"name": "x"}),
    ("untag", {"name": "x"}),
    ("close", {}),
    ("reopen", {}),
    ("snooze", {"until": "2099-01-01T09:00"}),
    ("reply", {"text": "hi", "mode": "public"}),
    ("retry", {"message": "1"}),
    ("merge", {"other_ticket": "1"}),
    ("unmerge", {}),
    ("assign", {"assignee": "1"}),
]


@pytest.mark.parametrize(("action", "data"), FORBIDDEN_ACTIONS)
def test_an_agent_of_another_team_is_forbidden(client, billing, ticket, action, data):
    client.force_login(person("olga", team=billing))
    before = Ticket.objects.values().get(pk=ticket.pk)
    activities = Activity.objects.count()
    assert client.post(url(action, ticket), data, **HTMX).status_code == 403
    assert Ticket.objects.values().get(pk=ticket.pk) == before
    assert Activity.objects.count() == activities


@pytest.mark.parametrize(("action", "data"), FORBIDDEN_ACTIONS)
def test_a_user_without_a_role_is_forbidden_every_action(client, ticket, action, data):
    client.force_login(person("visitor", role=None))
    before = Ticket.objects.values().get(pk=ticket.pk)
    assert client.post(url(action, ticket), data, **HTMX).status_code == 403
    assert Ticket.objects.values().get(pk=ticket.pk) == before


def test_an_agent_cannot_assign_to_others(agent_client, ticket, support):
    bob = person("bob", team=support)
    assert agent_client.post(url("assign", ticket), {"assignee": bob.pk}, **HTMX).status_code == 403
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_an_agent_cannot_bulk_assign(agent_client, anna, support):
    batch = tickets(2, team=support)
    response = agent_client.post(
        reverse("inbox:bulk"),
        {"action": "assign", "assignee": anna.pk, "ticket": [t.pk for t in batch]},
    )
    assert response.status_code == 403
    assert not Ticket.objects.filter(assignee=anna).exists()


def test_bulk_on_another_teams_ticket_is_forbidden_and_changes_nothing(
    agent_client, billing, support
):
    ours = tickets(1, team=support, prefix="a")[0]
    theirs = tickets(1, team=billing, prefix="b")[0]
    response = agent_client.post(
        reverse("inbox:bulk"), {"action": "close", "ticket": [ours.pk, theirs.pk]}
    )
    assert response.status_code == 403
    assert not Ticket.objects.filter(status=TicketStatus.CLOSED).exists()


def test_actions_need_post(agent_client, ticket):
    assert agent_client.get(url("claim", ticket)).status_code == 405


# --- habits of the trade ----------------------------------------------------------------------
def test_the_screen_speaks_dutch_to_an_agent_who_chose_it(agent_client, anna, ticket):
    anna.profile.language = "nl"
    anna.profile.save()
    html = agent_client.get(url("thread", ticket)).content.decode()
    assert ">Oppakken</button>" in html and ">Sluiten</button>" in html
    assert ">Oppakken en beantwoorden</button>" in html  # nobody holds it yet


def test_after_the_inbox_the_other_pages_speak_the_profiles_language_too(
    agent_client, anna, ticket
):
    anna.profile.language = "nl"
    anna.profile.save()
    response = agent_client.get(reverse("inbox:index"))
    assert response.cookies["django_language"].value == "nl"
    html = agent_client.get(reverse("pages:review_mine")).content.decode()
    assert "Uitloggen" in html and "Log out" not in html


def test_the_language_cookie_is_not_set_again_once_it_matches(agent_client, anna, ticket):
    agent_client.cookies["django_language"] = "en"
    response = agent_client.get(reverse("inbox:index"))
    assert "django_language" not in response.cookies


def test_times_are_relative_with_the_exact_time_in_the_agents_zone(agent_client, anna, ticket):
    anna.profile.time_zone = "America/New_York"
    anna.profile.save()
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert re.search(r'<time datetime="[^"]+" title="[^"]+ (EST|EDT)">', html)


def test_the_page_has_no_inline_script_or_style(agent_client, ticket):
    html = agent_client.get(url("thread", ticket)).content.decode()
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert " style=" not in html and " hx-on" not in html and "<style" not in html
    assert "vendor/htmx-2.0.11/htmx.min.js" in html


def test_the_back_button_after_htmx_navigation_gets_the_whole_page(agent_client, ticket):
    html = agent_client.get(
        url("thread", ticket), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in html and 'id="list"' in html


def test_the_server_counts_the_reply_with_the_signature_for_the_live_counter(agent_client, ticket):
    html = agent_client.post(url("count", ticket), {"text": "Hello"}, **HTMX).content.decode()
    assert "11 / 1000" in html  # "Hello" + newline + "^Anna"


def test_the_list_shows_who_is_viewing_a_ticket(agent_client, ticket, support):
    presence.presence_touch(ticket_id=ticket.pk, user=person("bob", team=support), typing=False)
    html = agent_client.get(reverse("inbox:index")).content.decode()
    assert "Bob is viewing" in html


def test_keyset_pages_run_on_into_tickets_nobody_waits_on(anna, support):
    made = tickets(70, team=support)
    Ticket.objects.filter(pk__in=[t.pk for t in made[::3]]).update(waiting_since=None)
    flt = selectors.ListFilter()
    seen = []
    while True:
        page = selectors.ticket_page(anna, flt)
        seen += [t.pk for t in page.tickets]
        if not page.next_after:
            break
        flt.after = page.next_after
    assert sorted(seen) == sorted(t.pk for t in made) and len(seen) == len(set(seen))


# --- the inbox's assign control ---------------------------------------------------------------
def test_the_assign_control_shows_each_agents_load(client, support):
    lotte = person("lotte", "lead")
    anna = person("anna", team=support)
    AgentProfile.objects.filter(user=anna).update(capacity=2)
    bram = person("bram", team=support)
    AgentProfile.objects.filter(user=bram).update(available=False)
    cara = person("cara", team=support)
    elsewhen = (timezone.now().weekday() + 3) % 7
    Shift.objects.create(user=cara, weekday=elsewhen, start=dt.time(9), end=dt.time(17))
    made = tickets(3, team=support)
    for t in made[:2]:
        ticket_assign(ticket_id=t.pk, user=lotte, assignee=anna)
    client.force_login(lotte)
    html = client.get(reverse("inbox:thread", args=[made[2].pk])).content.decode()
    assert f'<option value="{anna.pk}">Anna — 2/2 open · full</option>' in html
    assert f'<option value="{bram.pk}">Bram — 0/10 open · away</option>' in html
    assert f'<option value="{cara.pk}">Cara — 0/10 open · off shift</option>' in html


@pytest.mark.parametrize("n", [2, 20])
def test_the_assign_control_costs_the_same_queries_for_many_agents(
    client, support, n, django_assert_num_queries
):
    lead = person("lotte", "lead")
    for i in range(n):
        person(f"agent{i}", team=support)
    (ticket,) = tickets(1, team=support)
    client.force_login(lead)
    client.get(url("thread", ticket))
    # 10, plus one for the incidents beside the thread (linked, and the open ones to pick).
    with django_assert_num_queries(11):
        client.get(url("thread", ticket), **HTMX)


def test_an_agents_thread_has_no_assign_control(client, support):
    anna = person("anna", team=support)
    (ticket,) = tickets(1, team=support)
    client.force_login(anna)
    html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "— 0/10 open" not in html


@pytest.mark.parametrize(
    "query", ["q=999999999999999999999999999999", "q=%C2%B2", "channel=" + "9" * 30]
)
def test_a_number_beyond_any_ticket_id_in_the_list_filters_shows_an_empty_list(agent_client, query):
    response = agent_client.get(reverse("inbox:index") + "?" + query)
    assert response.status_code == 200
