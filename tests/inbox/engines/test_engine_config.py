"""The engines' configuration kept per worker: every change applies to the very next batch."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.engines.engine_config import engine_config
from inbox.engines.routing import rule_create, rule_delete, rule_move, rule_update
from inbox.ingest.services import ingest_batch
from inbox.models import (
    BusinessHours,
    EngineConfigStamp,
    Holiday,
    Rule,
    SlaTarget,
    Tag,
    Team,
    Ticket,
)
from tests.factories import item, make_channel
from tests.personas import person

pytestmark = pytest.mark.django_db

ROUND_THE_CLOCK: dict = {}
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def lead():
    return get_user_model().objects.create_user("lead")


@pytest.fixture
def channel():
    return make_channel()


def _ingest(channel, external_id, text="Where is my parcel?", **kwargs) -> Ticket:
    ingest_batch(
        channel_id=channel.pk, items=[item(external_id, thread=external_id, text=text, **kwargs)]
    )
    return Ticket.objects.get(thread_key=external_id)


def test_a_rule_edited_through_the_service_applies_to_the_next_batch(lead, channel):
    first, second = Team.objects.create(name="First"), Team.objects.create(name="Second")
    rule = rule_create(actor=lead, name="Parcels", keywords="parcel", set_team=first)
    assert _ingest(channel, "m1").team == first
    rule_update(rule=rule, actor=lead, set_team=second)
    ticket = _ingest(channel, "m2")
    assert ticket.team == second
    assert ticket.routing_trace[0]["actions"] == ["team → Second"]


def test_a_rule_changed_by_a_plain_save_applies_to_the_next_batch(lead, channel):
    rule = rule_create(actor=lead, name="Parcels", keywords="parcel", priority_points=3)
    assert _ingest(channel, "m1").routing_trace[0]["name"] == "Parcels"
    # What Django admin does: save the model, no service involved.
    rule.keywords = "refund"
    rule.save()
    assert _ingest(channel, "m2").routing_trace == []
    assert _ingest(channel, "m3", text="My refund?").routing_trace[0]["name"] == "Parcels"


def test_a_new_rule_and_a_deleted_rule_apply_to_the_next_batch(lead, channel):
    assert _ingest(channel, "m1").routing_trace == []
    rule = rule_create(actor=lead, name="Parcels", keywords="parcel", priority_points=3)
    assert [e["name"] for e in _ingest(channel, "m2").routing_trace] == ["Parcels"]
    rule_delete(rule=rule, actor=lead)
    assert _ingest(channel, "m3").routing_trace == []


def test_a_rules_new_tags_apply_to_the_next_batch(lead, channel):
    parcel, late = Tag.objects.create(name="parcel"), Tag.objects.create(name="late")
    rule = rule_create(actor=lead, name="Parcels", keywords="parcel", tags=[parcel])
    assert list(_ingest(channel, "m1").tags.all()) == [parcel]
    rule.add_tags.set([late])
    assert list(_ingest(channel, "m2").tags.all()) == [late]


def test_moving_rules_applies_to_the_next_batch(lead, channel):
    first, second = Team.objects.create(name="First"), Team.objects.create(name="Second")
    rule_create(actor=lead, name="A", keywords="parcel", set_team=first)
    b = rule_create(actor=lead, name="B", keywords="parcel", set_team=second)
    assert _ingest(channel, "m1").team == second  # B ran last
    rule_move(rule=b, actor=lead, position=0)
    assert _ingest(channel, "m2").team == first


def test_a_deactivated_assignee_gets_no_tickets_from_the_next_batch(lead, channel):
    anna = person("anna")
    rule_create(actor=lead, name="Anna", keywords="parcel", assign_to=anna)
    assert _ingest(channel, "m1").assignee == anna
    anna.is_active = False
    anna.save(update_fields=["is_active"])
    assert _ingest(channel, "m2").assignee is None


def test_a_renamed_team_shows_its_new_name_in_the_next_trace(lead, channel):
    team = Team.objects.create(name="Care")
    rule_create(actor=lead, name="Parcels", keywords="parcel", set_team=team)
    _ingest(channel, "m1")
    team.name = "Customer care"
    team.save()
    assert _ingest(channel, "m2").routing_trace[0]["actions"] == ["team → Customer care"]


def test_changed_hours_holidays_and_targets_apply_to_the_next_batch(channel):
    at = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)  # a Wednesday
    hours = BusinessHours.objects.create(team=None, week=ROUND_THE_CLOCK)
    assert _ingest(channel, "m1", at=at).due_at == at + HOUR  # the default target: 60 min

    target = SlaTarget.objects.create(first_response_minutes=30, next_response_minutes=30)
    assert _ingest(channel, "m2", at=at).due_at == at + HOUR / 2

    hours.week = {"wed": [["12:00", "18:00"]], "thu": [["12:00", "18:00"]]}
    hours.time_zone = "UTC"
    hours.save()
    noon = at.replace(hour=12)
    assert _ingest(channel, "m3", at=at).due_at == noon + HOUR / 2

    Holiday.objects.create(hours=hours, date=at.date())
    assert _ingest(channel, "m4", at=at).due_at == noon + dt.timedelta(days=1) + HOUR / 2

    target.delete()
    assert _ingest(channel, "m5", at=at).due_at == noon + dt.timedelta(days=1) + HOUR


def test_an_unchanged_configuration_is_not_read_again(lead, channel):
    rule_create(actor=lead, name="Parcels", keywords="parcel", priority_points=3)
    _ingest(channel, "m1")
    with CaptureQueriesContext(connection) as ctx:
        ticket = _ingest(channel, "m2")
    assert ticket.routing_trace[0]["name"] == "Parcels"
    read = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "inbox_rule" not in read and "inbox_slatarget" not in read
    assert "inbox_businesshours" not in read


def test_the_last_login_of_a_user_does_not_reload_the_configuration(lead):
    engine_config()
    token = EngineConfigStamp.objects.get().token
    lead.last_login = dt.datetime.now(dt.UTC)
    lead.save(update_fields=["last_login"])
    assert EngineConfigStamp.objects.get().token == token


def test_without_the_stamp_row_every_batch_reads_the_configuration(lead, channel):
    # A test database flushed by a transactional test has no row until the next change.
    EngineConfigStamp.objects.all().delete()
    rule = rule_create(actor=lead, name="Parcels", keywords="parcel", priority_points=3)
    assert EngineConfigStamp.objects.exists()
    EngineConfigStamp.objects.all().delete()
    _ingest(channel, "m1")
    Rule.objects.filter(pk=rule.pk).update(enabled=False)  # no signal, no new token
    assert _ingest(channel, "m2").routing_trace == []
