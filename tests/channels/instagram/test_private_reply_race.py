"""Two agents move the same comment to DM at the same moment: one private reply is queued.

Instagram allows one private reply per comment
(https://developers.facebook.com/documentation/instagram-platform/private-replies); the claim
is taken under the ticket's row lock and a unique constraint, so a race cannot make two.
"""

import threading

import pytest
from django.db import connection

from inbox.models import Message, PrivateReply, Team
from inbox.replies.services import PrivateReplyRefused, reply_queue
from tests.channels.instagram.support import C1, channel
from tests.channels.instagram.test_send import comment_ticket
from tests.personas import person

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_agents_racing_to_move_one_comment_to_dm_queue_one_private_reply():
    team = Team.objects.create(name="Social")
    anna, bram = person("anna", team=team), person("bram", team=team)
    ticket = comment_ticket(channel())
    barrier = threading.Barrier(2)
    refused: list[str] = []
    unexpected: list[Exception] = []

    def move_to_dm(agent):
        try:
            barrier.wait()
            reply_queue(ticket=ticket, author=agent, text=f"DM from {agent}", mode="private")
        except PrivateReplyRefused as exc:
            refused.append(exc.message)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=move_to_dm, args=(a,)) for a in (anna, bram)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert unexpected == []
    assert Message.objects.filter(ticket=ticket, reply_mode="private").count() == 1
    assert list(PrivateReply.objects.values_list("comment_id", flat=True)) == [C1]
    assert len(refused) == 1
    assert "already being sent" in refused[0]
