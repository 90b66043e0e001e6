"""A simulated WhatsApp number for the demo: Cloud API webhook bodies (texts, photos, a
location now and then) generated from the simulator's corpus and stored through the real
WhatsApp normaliser; replies get "sent", "delivered" and "read" statuses a few seconds later
through the real status path (``channels.whatsapp.services.webhook_process``)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, ClassVar

from celery import shared_task
from django.utils import timezone

from ..base import ConnectionInfo, FetchResult, OutboundReply, SendResult
from ..registry import register
from ..whatsapp import normalize
from ..whatsapp.connector import WhatsAppConnector
from . import corpus
from .connector import Simulation

log = logging.getLogger(__name__)

DEMO_NUMBER_ID = "100000000000001"


class WhatsAppSimulation(Simulation):
    def value(self, seq: int, sent_at: dt.datetime) -> dict[str, Any]:
        """One ``messages`` webhook value, shaped as the Cloud API sends it."""
        rng = self._rng("wa", seq)
        opening = self._opening(seq)
        customer = rng.randrange(40)  # a small pool, so conversations continue
        author = self.customer(customer)
        wa_id = f"3161{customer:07d}"
        roll = rng.random()
        message: dict[str, Any] = {
            "from": wa_id,
            "id": f"wamid.sim{self.seed}-{seq}",
            "timestamp": str(int(sent_at.timestamp())),
        }
        if roll < 0.15:
            message.update(
                type="image",
                image={
                    "caption": opening["text"],
                    "mime_type": "image/jpeg",
                    "sha256": "c2ltdWxhdGVk",
                    "id": f"sim-media-{seq}",
                },
            )
        elif roll < 0.22:
            city = rng.choice(corpus.SLOTS["city"])
            message.update(
                type="location",
                location={
                    "latitude": 52.0 + rng.random(),
                    "longitude": 4.5 + rng.random(),
                    "name": f"Afhaalpunt {city}",
                    "address": f"Stationsplein 1, {city}",
                },
            )
        else:
            message.update(type="text", text={"body": opening["text"]})
        return {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "3120000000", "phone_number_id": DEMO_NUMBER_ID},
            "contacts": [{"profile": {"name": author.display_name}, "wa_id": wa_id}],
            "messages": [message],
        }


@register
class WhatsAppDemoConnector(WhatsAppConnector):
    kind = "whatsapp_demo"
    label = "WhatsApp (simulated)"
    short_label = "WhatsApp"
    icon = "✆"
    colour = "#15803d"
    default_poll_interval = 5
    credential_fields: ClassVar[dict[str, str]] = {}
    settings_fields = {
        "seed": "Same seed, same traffic.",
        "rate_per_minute": "New messages per minute (live).",
    }
    settings_types = {"seed": "int"}
    settings_defaults: ClassVar[dict[str, Any]] = {"read_receipts": False}
    # The demo's messages arrive through its poll, not a webhook.
    webhook = None
    demo_number = DEMO_NUMBER_ID

    @property
    def simulation(self) -> WhatsAppSimulation:
        return WhatsAppSimulation(int(self.channel.settings.get("seed", self.channel.id or 1)))

    @property
    def phone_number_id(self) -> str:
        return DEMO_NUMBER_ID

    def fetch(self, cursor: dict[str, Any]) -> FetchResult:
        now = timezone.now()
        seq = int(cursor.get("seq", 0))
        last = cursor.get("at")
        elapsed = (now - dt.datetime.fromisoformat(last)).total_seconds() if last else 60.0
        rate = float(self.channel.settings.get("rate_per_minute", 2))
        count = int(self.channel.settings.get("per_poll", 0)) or min(
            20, int(max(0.0, elapsed) * rate / 60.0 + 0.5)
        )
        items = []
        for n in range(seq, seq + count):
            sent_at = now - dt.timedelta(seconds=(seq + count - n) * 30)
            items.extend(normalize.value_result(self.simulation.value(n, sent_at)).items)
        return FetchResult(items=items, cursor={"seq": seq + count, "at": now.isoformat()})

    def send(self, reply: OutboundReply) -> SendResult:
        wamid = f"wamid.sim-out-{reply.idempotency_key}"
        to = reply.recipient_id or reply.thread_key.removeprefix("wa:")
        try:
            demo_statuses.apply_async((self.channel.id, wamid, to), countdown=3)
        except Exception:  # noqa: BLE001 - no broker: the demo reply simply gets no ticks
            log.warning("demo statuses for %s not queued (broker unreachable)", wamid)
        return SendResult(external_id=wamid)

    def find_sent(self, reply: OutboundReply) -> SendResult | None:
        return None  # the same idempotency key is the same simulated message

    def test_connection(self) -> ConnectionInfo:
        return ConnectionInfo(
            account_id=DEMO_NUMBER_ID,
            handle="+31 20 000 0000",
            display_name="Demo shop",
            detail="quality GREEN, messaging limit TIER_1K (simulated)",
        )

    def media_request(self, attachment):
        from ..base import PermanentError

        raise PermanentError("Simulated photos have no bytes.")


@shared_task(name="channels.simulator.whatsapp_demo_statuses", ignore_result=True)
def demo_statuses(channel_id: int, wamid: str, to: str) -> str:
    """The simulated customer's phone: sent, delivered and read, as Cloud API status bodies
    through the real status path."""
    from ..whatsapp.services import webhook_process

    stamp = str(int(timezone.now().timestamp()))
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "demo-waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "3120000000",
                                "phone_number_id": DEMO_NUMBER_ID,
                            },
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": s,
                                    "timestamp": stamp,
                                    "recipient_id": to,
                                }
                                for s in ("sent", "delivered", "read")
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return webhook_process(body, channel_ids=[channel_id])
