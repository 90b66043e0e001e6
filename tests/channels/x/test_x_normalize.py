"""The normaliser: X JSON in, items out, the same for a polled tweet and a webhook event."""

from channels.x import normalize
from channels.x.webhook import webhook_items

from .conftest import OWN_ID, load


def test_a_webhook_tweet_and_the_polled_tweet_normalise_to_the_same_item():
    polled = {
        i.external_id: i
        for i in normalize.tweets_page_to_items(
            load("mentions_thread_reply.json"), own_id=OWN_ID, source="mentions"
        )
    }["1860000000000000030"]
    (pushed,) = webhook_items(
        load("webhook_tweet_create.json"),
        own_id=OWN_ID,
        known={"1860000000000000020": "1860000000000000010"},
    )
    same = ("external_id", "thread_key", "kind", "text", "sent_at", "parent_external_id")
    assert {f: getattr(pushed, f) for f in same} == {f: getattr(polled, f) for f in same}
    assert pushed.author.handle == polled.author.handle == "jan_de_vries"


def test_a_tweet_with_only_the_default_fields_is_still_an_item():
    page = {"data": [{"id": "1860000000000000777", "text": "@acme_care hello"}]}

    (item,) = normalize.tweets_page_to_items(page, own_id=OWN_ID, source="mentions")

    assert item.thread_key == "conv:1860000000000000777"
    assert item.author is None
    assert item.sent_at.year >= 2024  # from the id itself


def test_junk_in_a_page_is_skipped_not_fatal():
    page = {"data": [None, "x", {"text": "no id"}, {"id": "1860000000000000778", "text": "ok"}]}

    items = normalize.tweets_page_to_items(page, own_id=OWN_ID, source="mentions")

    assert [i.external_id for i in items] == ["1860000000000000778"]


def test_one_to_one_dm_conversation_ids_put_the_lower_id_first():
    assert normalize.dm_conversation_id(OWN_ID, "2244994945") == f"2244994945-{OWN_ID}"


def test_an_edit_polled_and_the_same_edit_by_webhook_normalise_to_the_same_version():
    (polled,) = normalize.tweets_page_to_items(
        load("mention_edited.json"), own_id=OWN_ID, source="mentions"
    )
    (pushed,) = webhook_items(load("webhook_tweet_edited.json"), own_id=OWN_ID)

    for item in (polled, pushed):
        assert item.external_id == "2123733088465850514"  # the original's id
        assert item.version == "2123734095098810514"  # this edit's id
        assert item.edited
        assert item.thread_key == "conv:2123733088465850514"
    assert polled.text == pushed.text
    assert polled.version_at == pushed.version_at


def test_an_edited_item_survives_the_trip_through_a_task_argument():
    import json

    from channels.serial import item_from_dict, item_to_dict

    (item,) = normalize.tweets_page_to_items(
        load("mention_edited.json"), own_id=OWN_ID, source="mentions"
    )

    assert item_from_dict(json.loads(json.dumps(item_to_dict(item)))) == item
