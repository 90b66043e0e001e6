"""Each channel kind looks its own in the inbox, driven by the connector registry."""

import pytest
from django.urls import reverse

from channels import registry
from channels.base import Connector
from inbox.models import Team
from tests.factories import make_channel
from tests.personas import person, tickets

pytestmark = pytest.mark.django_db


def test_every_registered_kind_has_a_colour_rule_and_a_label():
    css = registry.kinds_css()
    for kind, _label in registry.kinds():
        icon, label, colour = registry.appearance(kind)
        assert f".chan-{kind} {{ --chan: {colour}; }}" in css and label and icon


def test_a_new_connector_plugs_in_by_setting_its_class_variables():
    class Pigeon(Connector):
        kind = "pigeon"
        label = "Carrier pigeon"
        short_label = "Pigeon"
        icon = "P"
        colour = "#0e7490"

    registry.register(Pigeon)
    try:
        assert registry.appearance("pigeon") == ("P", "Pigeon", "#0e7490")
        assert ".chan-pigeon { --chan: #0e7490; }" in registry.kinds_css()
    finally:
        registry._REGISTRY.pop("pigeon")


def test_the_list_and_thread_show_the_kinds_icon_and_name(client):
    team = Team.objects.create(name="Support")
    client.force_login(person("anna", team=team))
    ticket = tickets(1, team=team, channel=make_channel("x"))[0]
    html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    badge = '<span class="chan chan-x"><span class="chan-icon" aria-hidden="true">𝕏</span>'
    assert html.count(badge) >= 2  # the row and the thread head
    assert '<span class="chan-label">X</span>' in html
    css = client.get(reverse("channels:kinds_css"))
    assert css["Content-Type"].startswith("text/css") and b".chan-x" in css.content
