"""Routing rules: conditions, actions, order, stop-processing and the "why is this here?" trace."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from inbox.engines.routing import rule_create, rule_delete, rule_move, rule_update, rules_explain
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, Rule, Tag, Team, Ticket, TicketStatus
from tests.factories import author, item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    return get_user_model().objects.create_user("lead")


def _ingest(channel, *items):
    ingest_batch(channel_id=channel.pk, items=list(items))


def test_a_keyword_rule_sends_the_ticket_to_a_team_and_tags_it(lead):
    billing = Team.objects.create(name="Billing")
    refund = Tag.objects.create(name="refund")
    rule_create(
        actor=lead, name="Money", keywords="refund, terugbetaling", set_team=billing, tags=[refund]
    )
    channel = make_channel()
    _ingest(channel, item("m1", text="Waar blijft mijn terugbetaling?"))
    ticket = Ticket.objects.get()
    assert ticket.team == billing
    assert list(ticket.tags.all()) == [refund]
    [entry] = rules_explain(ticket=ticket)
    assert entry["name"] == "Money"
    assert entry["matched"] == ["keyword “terugbetaling”"]
    assert entry["actions"] == ["team → Billing", "tags + refund"]


def test_keywords_match_whole_words_only(lead):
    rule_create(actor=lead, name="Cars", keywords="car", priority_points=5)
    channel = make_channel()
    _ingest(channel, item("m1", text="I care about this"))
    assert Ticket.objects.get().routing_trace == []


def test_all_set_conditions_must_hold(lead):
    team = Team.objects.create(name="Escalations")
    rule_create(
        actor=lead,
        name="Loud and angry",
        intents=["complaint"],
        min_followers=10_000,
        verified=True,
        set_team=team,
    )
    channel = make_channel()
    _ingest(
        channel,
        item(
            "m1",
            thread="a",
            text="Worst service ever 😡",
            author=author("big", followers=50_000, verified=True),
        ),
        item("m2", thread="b", text="Worst service ever 😡", author=author("small", followers=20)),
        item(
            "m3",
            thread="c",
            text="Thanks a lot!",
            author=author("nice", followers=90_000, verified=True),
        ),
    )
    assert Ticket.objects.get(thread_key="a").team == team
    assert Ticket.objects.get(thread_key="b").team is None
    assert Ticket.objects.get(thread_key="c").team is None


def test_channel_kind_language_and_stars_are_conditions(lead):
    channel, other = make_channel(), make_channel()
    rule_create(
        actor=lead,
        name="Bad Dutch reviews",
        channel=channel,
        kinds=["review"],
        languages=["nl"],
        max_rating=2,
        priority_points=20,
    )
    _ingest(channel, item("r1", thread="a", kind="review", rating=1, language="nl", text="Slecht"))
    _ingest(channel, item("r2", thread="b", kind="review", rating=4, language="nl", text="Goed"))
    _ingest(other, item("r3", thread="c", kind="review", rating=1, language="nl", text="Slecht"))
    hit = Ticket.objects.get(channel=channel, thread_key="a")
    assert hit.routing_trace[0]["matched"] == [
        f"channel {channel.pk}",
        "kind review",
        "language nl",
        "1 stars",
    ]
    assert ["rule “Bad Dutch reviews”", 20] in hit.priority_parts
    assert Ticket.objects.get(channel=channel, thread_key="b").routing_trace == []
    assert Ticket.objects.get(channel=other).routing_trace == []


def test_spam_is_closed_and_nobody_waits_for_an_answer(lead):
    rule_create(actor=lead, name="Spam", keywords="bit.ly", close_reason="spam")
    channel = make_channel()
    _ingest(channel, item("m1", text="Free gift cards bit.ly/xyz"))
    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "spam"
    assert ticket.waiting_since is None and ticket.due_at is None and ticket.closed_at


def test_a_rule_can_assign_the_ticket(lead):
    anna = person("anna")
    rule_create(actor=lead, name="Anna does reviews", kinds=["review"], assign_to=anna)
    channel = make_channel()
    _ingest(channel, item("r1", kind="review", rating=3, text="Meh"))
    ticket = Ticket.objects.get()
    assert ticket.assignee == anna
    assert ticket.routing_trace[0]["actions"] == ["assigned to anna"]


def test_rules_run_in_order_and_stop_processing_ends_the_evaluation(lead):
    first = Team.objects.create(name="First")
    second = Team.objects.create(name="Second")
    rule_create(actor=lead, name="B", keywords="parcel", set_team=second)
    rule_create(
        actor=lead, name="A", keywords="parcel", set_team=first, stop_processing=True, position=0
    )
    channel = make_channel()
    _ingest(channel, item("m1", text="Where is my parcel?"))
    ticket = Ticket.objects.get()
    assert ticket.team == first
    assert [e["name"] for e in ticket.routing_trace] == ["A"]
    assert ticket.routing_trace[0]["stopped"] is True


def test_later_rules_see_and_override_earlier_ones(lead):
    first = Team.objects.create(name="First")
    second = Team.objects.create(name="Second")
    rule_create(actor=lead, name="A", keywords="parcel", set_team=first)
    rule_create(actor=lead, name="B", keywords="parcel", set_team=second)
    _ingest(make_channel(), item("m1", text="Where is my parcel?"))
    ticket = Ticket.objects.get()
    assert ticket.team == second
    assert [e["name"] for e in ticket.routing_trace] == ["A", "B"]


def test_rules_apply_to_new_tickets_not_to_follow_ups(lead):
    team = Team.objects.create(name="Care")
    channel = make_channel()
    _ingest(channel, item("m1", text="Hello"))
    rule_create(actor=lead, name="Late", keywords="parcel", set_team=team)
    _ingest(channel, item("m2", text="About my parcel"))
    assert Ticket.objects.get().team is None


def test_disabled_rules_do_nothing(lead):
    rule_create(actor=lead, name="Off", keywords="parcel", priority_points=9, enabled=False)
    _ingest(make_channel(), item("m1", text="parcel"))
    assert Ticket.objects.get().routing_trace == []


def test_routing_is_logged_as_an_activity(lead):
    rule = rule_create(actor=lead, name="P", keywords="parcel", priority_points=3)
    _ingest(make_channel(), item("m1", text="parcel"))
    activity = Activity.objects.get(verb="routed")
    assert activity.after["rules"] == [rule.pk]


# --- the rule editor's services --------------------------------------------------------------
def test_a_rule_without_an_action_is_refused(lead):
    with pytest.raises(ValidationError):
        rule_create(actor=lead, name="Nothing", keywords="x")


def test_unknown_kinds_intents_and_stars_are_refused(lead):
    with pytest.raises(ValidationError) as caught:
        rule_create(
            actor=lead, name="Bad", kinds=["fax"], intents=["rant"], min_rating=9, priority_points=1
        )
    assert set(caught.value.message_dict) == {"kinds", "intents", "min_rating"}


def test_updating_a_rule_is_audited_with_before_and_after(lead):
    rule = rule_create(actor=lead, name="P", keywords="parcel", priority_points=3)
    rule_update(rule=rule, actor=lead, keywords="pakket", priority_points=5)
    rule.refresh_from_db()
    assert rule.keywords == "pakket" and rule.priority_points == 5
    activity = Activity.objects.get(verb="rule_updated")
    assert activity.before["keywords"] == "parcel" and activity.after["keywords"] == "pakket"
    assert activity.actor == lead


def test_moving_a_rule_renumbers_the_order(lead):
    a = rule_create(actor=lead, name="A", priority_points=1)
    b = rule_create(actor=lead, name="B", priority_points=1)
    c = rule_create(actor=lead, name="C", priority_points=1)
    rule_move(rule=c, actor=lead, position=0)
    assert list(Rule.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    rule_move(rule=a, actor=lead, position=99)
    assert list(Rule.objects.values_list("name", flat=True)) == ["C", "B", "A"]
    assert b.pk in Rule.objects.values_list("pk", flat=True)


def test_deleting_a_rule_keeps_it_in_the_audit_log(lead):
    rule = rule_create(actor=lead, name="Gone", priority_points=1)
    rule_delete(rule=rule, actor=lead)
    assert not Rule.objects.exists()
    assert Activity.objects.get(verb="rule_deleted").before["name"] == "Gone"


def test_the_engines_cost_the_same_queries_for_small_and_large_batches(
    lead, django_assert_max_num_queries, monkeypatch
):
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox.models import AutoAck, BusinessHours, Holiday, SlaTarget

    saturday = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("inbox.engines.signals.timezone.now", lambda: saturday)
    team = Team.objects.create(name="Care")
    hours = BusinessHours.objects.create(team=None, week={"mon": [["08:00", "18:00"]]})
    Holiday.objects.create(hours=hours, date=dt.date(2026, 12, 25))
    SlaTarget.objects.create(first_response_minutes=30)
    AutoAck.objects.create(text="Back {opening}.")
    tag = Tag.objects.create(name="parcel")
    rule_create(actor=lead, name="Parcels", keywords="parcel", set_team=team, tags=[tag])

    def run(channel, n, authors="u"):
        batch = [
            item(
                f"m{k}",
                thread=f"t{k % (n // 3)}",
                uid=f"{authors}{k % (n // 3)}",
                text="my parcel?",
            )
            for k in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            ingest_batch(channel_id=channel.pk, items=batch)
        return len(ctx.captured_queries)

    # The first batch loads the rules, calendars and targets each worker keeps (engine_config).
    run(make_channel(), 15, authors="warm-up")
    # SQLite splits bulk statements above ~1000 parameters, so both batches stay under that.
    small, large = run(make_channel(), 15), run(make_channel(), 60)
    assert small == large
    assert Ticket.objects.filter(team=team).count() == 30
