"""The routing-rules page: leads and admins list, create, edit, reorder, toggle, delete and test
rules; every change is audited; agents get 403 and nothing changes."""

import pytest
from django.urls import reverse

from inbox.engines.routing import rule_create
from inbox.ingest.services import ingest_batch
from inbox.models import Activity, Rule, Tag, Team, Ticket, TicketStatus
from tests.factories import item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing():
    return Team.objects.create(name="Billing")


@pytest.fixture
def lotte():
    return person("lotte", "lead")


@pytest.fixture
def lead_client(client, lotte):
    client.force_login(lotte)
    return client


@pytest.fixture
def agent_client(client):
    client.force_login(person("anna"))
    return client


def _rule(name="Money", **fields) -> Rule:
    fields.setdefault("keywords", "refund, terugbetaling")
    fields.setdefault("priority_points", 5)
    return rule_create(actor=None, name=name, **fields)


def _form(**overrides) -> dict:
    data = {
        "name": "Money",
        "enabled": "on",
        "keywords": "refund\nterugbetaling",
        "languages": "",
        "verified": "",
        "close_reason": "",
        "tags": "",
    }
    data.update(overrides)
    return data


def _row(html: str, rule: Rule) -> str:
    row = html[html.index(f'data-rule="{rule.pk}"') :]
    return row[: row.index("</tr>")]


# --- the list ---------------------------------------------------------------------------------
def test_the_list_shows_rules_in_order_with_conditions_and_actions_in_plain_words(
    lead_client, billing
):
    first = _rule("Money", set_team=billing, min_rating=1, max_rating=2)
    second = _rule("VIPs", keywords="", min_followers=10000, verified=True, priority_points=15)
    html = lead_client.get(reverse("pages:rules")).content.decode()
    assert html.index(f'data-rule="{first.pk}"') < html.index(f'data-rule="{second.pk}"')
    row = _row(html, first)
    assert "mentions “refund” or “terugbetaling”" in row and "1 to 2 stars" in row
    assert "team → Billing" in row and "priority +5" in row
    row = _row(html, second)
    assert "author has 10000+ followers" in row and "verified author" in row


def test_the_list_counts_how_often_each_rule_matched_in_the_last_week(lead_client, billing):
    money = _rule("Money", set_team=billing)
    other = _rule("Other", keywords="parcel")
    channel = make_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[
            item("m1", thread="t1", uid="u1", text="I want a refund"),
            item("m2", thread="t2", uid="u2", text="Refund please"),
        ],
    )
    html = lead_client.get(reverse("pages:rules")).content.decode()
    assert '<td class="matches">2</td>' in _row(html, money)
    assert '<td class="matches">0</td>' in _row(html, other)


def test_the_list_costs_the_same_queries_for_many_rules(
    lead_client, billing, django_assert_max_num_queries
):
    for i in range(20):
        rule = _rule(f"Rule {i}", set_team=billing)
        rule.add_tags.add(Tag.objects.create(name=f"tag {i}"))
    lead_client.get(reverse("pages:rules"))
    with django_assert_max_num_queries(12):
        lead_client.get(reverse("pages:rules"))


# --- create and edit --------------------------------------------------------------------------
def test_a_lead_creates_a_rule_with_every_kind_of_condition_and_action(lead_client, billing):
    channel = make_channel()
    agent = person("bram")
    response = lead_client.post(
        reverse("pages:rules_new"),
        _form(
            channel=channel.pk,
            kinds=["mention", "review"],
            languages="nl, EN",
            min_rating="1",
            max_rating="3",
            min_followers="1000",
            verified="yes",
            intents=["complaint"],
            set_team=billing.pk,
            tags="Refund, urgent",
            priority_points="10",
            assign_to=agent.pk,
            stop_processing="on",
        ),
    )
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.channel == channel and rule.kinds == ["mention", "review"]
    assert rule.languages == ["nl", "en"] and (rule.min_rating, rule.max_rating) == (1, 3)
    assert rule.min_followers == 1000 and rule.verified is True and rule.intents == ["complaint"]
    assert rule.set_team == billing and rule.assign_to == agent and rule.priority_points == 10
    assert sorted(t.name for t in rule.add_tags.all()) == ["refund", "urgent"]
    assert rule.stop_processing and rule.enabled
    (row,) = Activity.objects.filter(verb="rule_created")
    assert row.after["name"] == "Money" and row.after["set_team"] == billing.pk


def test_a_rule_without_actions_is_refused_with_the_services_message(lead_client):
    response = lead_client.post(reverse("pages:rules_new"), _form(tags=""))
    assert response.status_code == 400
    assert "A rule needs at least one action." in response.content.decode()
    assert not Rule.objects.exists()
    assert not Activity.objects.filter(verb="rule_created").exists()


def test_stars_outside_one_to_five_are_shown_on_the_field(lead_client):
    response = lead_client.post(
        reverse("pages:rules_new"), _form(min_rating="0", max_rating="6", priority_points="3")
    )
    assert response.status_code == 400
    assert response.content.decode().count("Stars go from 1 to 5.") == 2
    assert not Rule.objects.exists()


def test_tags_of_a_refused_rule_are_not_left_behind(lead_client):
    lead_client.post(reverse("pages:rules_new"), _form(tags="ghost", name=""))
    assert not Tag.objects.filter(name="ghost").exists()


def test_a_lead_edits_a_rule_and_the_audit_keeps_before_and_after(lead_client, billing):
    rule = _rule()
    rule.add_tags.add(Tag.objects.create(name="old"))
    page = lead_client.get(reverse("pages:rules_edit", args=[rule.pk])).content.decode()
    assert "refund, terugbetaling" in page and 'value="old"' in page
    response = lead_client.post(
        reverse("pages:rules_edit", args=[rule.pk]),
        _form(name="Refunds", keywords="refund", set_team=billing.pk, tags="money"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Refunds" and rule.set_team == billing and rule.priority_points is None
    assert [t.name for t in rule.add_tags.all()] == ["money"]
    (row,) = Activity.objects.filter(verb="rule_updated")
    assert row.before["name"] == "Money" and row.after["name"] == "Refunds"


def test_a_rule_created_through_the_page_routes_the_next_ingested_ticket(lead_client, billing):
    lead_client.post(
        reverse("pages:rules_new"), _form(set_team=billing.pk, tags="refund", priority_points="7")
    )
    channel = make_channel()
    result = ingest_batch(
        channel_id=channel.pk, items=[item("m1", text="Ik wil een terugbetaling!")]
    )
    ticket = Ticket.objects.get(pk=result.ticket_ids[0])
    assert ticket.team == billing
    assert [t.name for t in ticket.tags.all()] == ["refund"]
    assert ticket.routing_trace[0]["name"] == "Money"


def test_a_spam_rule_from_the_page_closes_the_next_ticket(lead_client):
    lead_client.post(
        reverse("pages:rules_new"),
        _form(name="Spam", keywords="crypto", close_reason="spam", tags=""),
    )
    result = ingest_batch(channel_id=make_channel().pk, items=[item("m1", text="Free crypto here")])
    ticket = Ticket.objects.get(pk=result.ticket_ids[0])
    assert ticket.status == TicketStatus.CLOSED and ticket.close_reason == "spam"


# --- order, toggle, delete --------------------------------------------------------------------
def test_moving_a_rule_up_changes_the_evaluation_order(lead_client):
    a, _b, c = _rule("A"), _rule("B"), _rule("C")
    lead_client.post(reverse("pages:rules_move", args=[c.pk]), {"direction": "up"})
    assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == [
        "A",
        "C",
        "B",
    ]
    lead_client.post(reverse("pages:rules_move", args=[a.pk]), {"direction": "down"})
    assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == [
        "C",
        "A",
        "B",
    ]
    assert Activity.objects.filter(verb="rule_moved").count() == 2


def test_disabling_a_rule_stops_it_routing_and_enabling_brings_it_back(lead_client, billing):
    rule = _rule(set_team=billing)
    lead_client.post(reverse("pages:rules_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.enabled
    result = ingest_batch(channel_id=make_channel().pk, items=[item("m1", text="refund")])
    assert Ticket.objects.get(pk=result.ticket_ids[0]).team != billing
    lead_client.post(reverse("pages:rules_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled
    (off, on) = Activity.objects.filter(verb="rule_updated").order_by("pk")
    assert off.after["enabled"] is False and on.after["enabled"] is True


def test_deleting_asks_for_confirmation_first(lead_client):
    rule = _rule()
    page = lead_client.get(reverse("pages:rules_delete", args=[rule.pk]))
    assert "Delete the rule “Money”?" in page.content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()
    lead_client.post(reverse("pages:rules_delete", args=[rule.pk]))
    assert not Rule.objects.filter(pk=rule.pk).exists()
    (row,) = Activity.objects.filter(verb="rule_deleted")
    assert row.before["id"] == rule.pk and row.before["keywords"] == "refund, terugbetaling"


# --- the test box -----------------------------------------------------------------------------
def test_the_test_box_says_which_rules_match_and_what_they_would_do(lead_client, billing):
    other = _rule("Parcels", keywords="parcel")
    money = _rule("Money", set_team=billing, stop_processing=True)
    later = _rule("Later", keywords="refund", priority_points=1)
    response = lead_client.get(
        reverse("pages:rules_test"),
        {"text": "Where is my refund?", "kind": "mention"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "team → Billing" in html and "keyword “refund”" in html
    assert "not tried (an earlier rule stopped the evaluation)" in html
    assert f'data-rule="{other.pk}" class="no-match"' in html
    assert f'data-rule="{later.pk}" class="skipped"' in html
    assert f'data-rule="{money.pk}" class="match"' in html
    assert not Activity.objects.filter(verb="routed").exists()


def test_the_test_box_checks_followers_kind_and_channel(lead_client):
    channel = make_channel()
    big = _rule(
        "Big", keywords="", min_followers=5000, kinds=["review"], channel=channel, priority_points=9
    )
    small = {"text": "hello", "kind": "review", "channel": channel.pk, "followers": "10"}
    html = lead_client.get(reverse("pages:rules_test"), small).content.decode()
    assert f'data-rule="{big.pk}" class="no-match"' in html
    html = lead_client.get(
        reverse("pages:rules_test"), {**small, "followers": "6000"}
    ).content.decode()
    assert f'data-rule="{big.pk}" class="match"' in html and "priority +9" in html


def test_the_test_box_on_a_rule_tries_that_rule_even_when_disabled(lead_client):
    rule = _rule(enabled=False)
    html = lead_client.get(
        reverse("pages:rules_test"), {"text": "refund", "kind": "dm", "rule": rule.pk}
    ).content.decode()
    assert f'data-rule="{rule.pk}" class="match"' in html


# --- forbidden --------------------------------------------------------------------------------
def test_an_agent_cannot_open_create_change_or_delete_rules(agent_client, billing):
    rule = _rule()
    before = Rule.objects.values().get(pk=rule.pk)
    for method, url, data in [
        ("get", reverse("pages:rules"), {}),
        ("get", reverse("pages:rules_test"), {"text": "refund"}),
        ("post", reverse("pages:rules_new"), _form(set_team=billing.pk)),
        ("post", reverse("pages:rules_edit", args=[rule.pk]), _form(name="Hacked")),
        ("post", reverse("pages:rules_toggle", args=[rule.pk]), {}),
        ("post", reverse("pages:rules_move", args=[rule.pk]), {"direction": "up"}),
        ("post", reverse("pages:rules_delete", args=[rule.pk]), {}),
    ]:
        assert getattr(agent_client, method)(url, data).status_code == 403, url
    assert list(Rule.objects.values()) == [before]
    assert not Activity.objects.filter(verb__startswith="rule_", actor__isnull=False).exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("pages:rules"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_audit_log_names_the_rule_a_change_was_about(lead_client, billing):
    channel = make_channel(name="Shop")
    rule = _rule(channel=channel, set_team=billing)
    lead_client.post(
        reverse("pages:rules_edit", args=[rule.pk]),
        _form(channel=channel.pk, set_team=billing.pk, name="Refunds"),
    )
    row = Activity.objects.get(verb="rule_updated")
    assert row.before["rule"] == row.after["rule"] == rule.pk
    html = lead_client.get(reverse("pages:audit"), {"verb": "rule_updated"}).content.decode()
    assert f"rule {rule.pk}" in html


def test_a_rules_test_box_starts_on_the_channel_and_kind_it_asks_for(lead_client):
    channel = make_channel(name="Reviews")
    rule = _rule(channel=channel, kinds=["review"])
    html = lead_client.get(reverse("pages:rules_edit", args=[rule.pk])).content.decode()
    box = html[html.index('class="settings-form rule-test"') :]
    assert f'<option value="{channel.pk}" selected>' in box
    assert '<option value="review" selected>' in box


def test_a_rule_assigning_to_a_deactivated_agent_can_still_be_saved(lead_client):
    bram = person("bram")
    rule = _rule(assign_to=bram)
    bram.is_active = False
    bram.save()
    html = lead_client.get(reverse("pages:rules")).content.decode()
    assert "assign to Bram (deactivated: skipped)" in html
    response = lead_client.post(
        reverse("pages:rules_edit", args=[rule.pk]),
        _form(name="Money 2", assign_to=bram.pk, priority_points="5"),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Money 2" and rule.assign_to == bram


def test_a_new_rule_offers_open_incidents_only(lead_client):
    from inbox.models import Incident, IncidentStatus

    Incident.objects.create(title="Deliveries delayed in Utrecht")
    Incident.objects.create(title="App down last week", status=IncidentStatus.RESOLVED)
    html = lead_client.get(reverse("pages:rules_new")).content.decode()
    assert "Deliveries delayed in Utrecht" in html and "App down last week" not in html


def test_a_rule_linked_to_a_resolved_incident_still_shows_it_when_edited(lead_client):
    from inbox.models import Incident, IncidentStatus

    gone = Incident.objects.create(title="App down last week", status=IncidentStatus.RESOLVED)
    rule = _rule(link_incident=gone)
    html = lead_client.get(reverse("pages:rules_edit", args=[rule.pk])).content.decode()
    assert "App down last week" in html
