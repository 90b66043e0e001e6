"""10,000 forged or replayed webhook deliveries: none is processed.

One genuine delivery is processed; then forgeries cycle through a missing signature, a random
one, one made with the wrong secret, a real signature of another (older) body, malformed
headers, and replays of the genuine delivery. The count is ``WEBCARE_FORGERY_REQUESTS``.
"""

import base64
import hashlib
import hmac
import json
import os
import random

import pytest

from channels.models import WebhookDelivery
from channels.x.webhook import XIntake
from inbox.models import Message
from tests.channels.x.conftest import make_x_channel, raw

pytestmark = pytest.mark.django_db

REQUESTS = int(os.environ.get("WEBCARE_FORGERY_REQUESTS", "10000"))


def _sign(secret: str, body: bytes) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )


def test_forged_and_replayed_x_deliveries_are_never_processed(client, monkeypatch):
    channel = make_x_channel()
    secret = channel.credentials["consumer_secret"]
    processed = []
    real_process = XIntake.process
    monkeypatch.setattr(
        XIntake, "process", lambda *a, **k: (processed.append(a), real_process(*a, **k))[1]
    )
    genuine = raw("webhook_tweet_create.json")
    older = json.loads(genuine)
    older["tweet_create_events"][0]["text"] = "an older delivery"
    older_body = json.dumps(older).encode()
    url = "/webhooks/x/"

    def post(body, signature):
        headers = {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": signature} if signature is not None else {}
        return client.post(url, data=body, content_type="application/json", **headers)

    assert post(genuine, _sign(secret, genuine)).status_code == 200
    assert len(processed) == 1
    rng = random.Random(7)
    forgeries = [
        lambda: (genuine, None),
        lambda: (genuine, "sha256=" + base64.b64encode(rng.randbytes(32)).decode()),
        lambda: (genuine, _sign("not-the-secret", genuine)),
        lambda: (genuine, _sign(secret, older_body)),  # a stale signature of another body
        lambda: (genuine, "sha1=" + hashlib.sha1(genuine).hexdigest()),  # noqa: S324
        lambda: (genuine, ""),
        lambda: (genuine + b" ", _sign(secret, genuine)),  # body altered after signing
        lambda: (genuine, _sign(secret, genuine)),  # a replay
    ]
    statuses: dict[int, int] = {}
    for n in range(REQUESTS):
        body, signature = forgeries[n % len(forgeries)]()
        status = post(body, signature).status_code
        statuses[status] = statuses.get(status, 0) + 1
    assert len(processed) == 1  # only the genuine first delivery
    assert Message.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    assert set(statuses) <= {200, 403}  # replays get 200 (so X stops retrying), forgeries 403
