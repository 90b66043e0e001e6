"""The demo's Instagram-shaped simulated channel: comments and DMs, some with photos."""

import pytest

from channels.simulator.connector import SimulatedInstagramConnector
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


def test_the_simulated_instagram_account_brings_comments_and_dms_with_photos():
    channel = make_channel("simulator_instagram", settings={"seed": 3033, "per_poll": 120})
    result = SimulatedInstagramConnector(channel.context()).fetch({})
    kinds = {i.kind for i in result.items}
    assert kinds == {"comment", "dm"}
    photos = [a for i in result.items for a in i.attachments]
    assert photos and {a.kind for a in photos} == {"image"}
    again = SimulatedInstagramConnector(channel.context()).fetch({})
    assert [i.attachments for i in again.items] == [i.attachments for i in result.items]
