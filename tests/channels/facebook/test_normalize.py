"""The one normaliser: the same comment or message gives the same item by webhook and poll."""

from channels.facebook import normalize
from tests.channels.facebook.support import C1, C3, PAGE_ID, POST_ID, PSID, R2, load


def feed_value(name):
    return load(name)["entry"][0]["changes"][0]["value"]


def test_a_webhook_comment_and_the_polled_comment_are_the_same_item():
    by_webhook = normalize.feed_change(feed_value("webhook_comment_add.json"), page_id=PAGE_ID)
    polled = next(c for c in load("comments_page_post_later.json")["data"] if c["id"] == C3)
    by_poll = normalize.comment_item(polled, page_id=PAGE_ID, post_id=POST_ID)
    for field in ("external_id", "thread_key", "kind", "text", "sent_at", "is_ours"):
        assert getattr(by_webhook, field) == getattr(by_poll, field), field
    assert by_webhook.author.platform_user_id == by_poll.author.platform_user_id


def test_a_polled_reply_threads_under_its_top_level_comment():
    reply = next(c for c in load("comments_page_post.json")["data"] if c["id"] == R2)
    item = normalize.comment_item(reply, page_id=PAGE_ID, post_id=POST_ID)
    assert item.thread_key == f"comment:{C1}"
    assert item.parent_external_id == C1


def test_a_photo_comment_without_text_carries_the_photo_not_a_placeholder():
    value = dict(feed_value("webhook_comment_add.json"), message=None, photo="https://x/p.jpg")
    found = normalize.feed_change(value, page_id=PAGE_ID)
    assert found.text == ""
    assert [(a.kind, a.url) for a in found.attachments] == [("image", "https://x/p.jpg")]


def test_reactions_and_unknown_verbs_are_not_items():
    value = dict(feed_value("webhook_comment_add.json"), item="reaction", reaction_type="like")
    assert normalize.feed_change(value, page_id=PAGE_ID) is None
    value = dict(feed_value("webhook_comment_add.json"), verb="block")
    assert normalize.feed_change(value, page_id=PAGE_ID) is None


def test_hostile_or_broken_payloads_are_skipped_not_raised():
    assert normalize.feed_change("not a dict", page_id=PAGE_ID) is None
    assert normalize.feed_change({"item": "comment", "verb": "add"}, page_id=PAGE_ID) is None
    assert normalize.messaging_event({"message": "x"}, page_id=PAGE_ID) is None
    assert normalize.messaging_event(None, page_id=PAGE_ID) is None
    broken_time = dict(feed_value("webhook_comment_add.json"), created_time="yesterday")
    assert normalize.feed_change(broken_time, page_id=PAGE_ID) is None


def test_a_webhook_dm_and_the_polled_dm_are_the_same_item():
    event = load("webhook_messaging_message.json")["entry"][0]["messaging"][0]
    by_webhook = normalize.messaging_event(event, page_id=PAGE_ID)
    conversation = load("conversations.json")["data"][0]
    polled = conversation["messages"]["data"][1]
    by_poll = normalize.conversation_message_item(polled, page_id=PAGE_ID, psid=PSID)
    for field in ("external_id", "thread_key", "kind", "text", "sent_at", "is_ours"):
        assert getattr(by_webhook, field) == getattr(by_poll, field), field


def test_an_echo_is_ours_in_the_customers_thread():
    event = load("webhook_messaging_echo.json")["entry"][0]["messaging"][0]
    item = normalize.messaging_event(event, page_id=PAGE_ID)
    assert item.is_ours and item.author is None
    assert item.thread_key == f"dm:{PSID}"


def test_a_button_tap_reads_as_the_buttons_title():
    event = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1795176000000,
        "postback": {"mid": "m_tap1", "title": "Track my order", "payload": "TRACK"},
    }
    item = normalize.messaging_event(event, page_id=PAGE_ID)
    assert item.text == "Track my order" and item.thread_key == f"dm:{PSID}"


def test_a_polled_visitor_photo_post_without_text_says_what_it_is():
    # GET /{page-id}/feed with status_type (Graph Post reference: added_photos, added_video).
    post = {
        "id": "104857600123456_900000000000025",
        "from": {"id": "7001000000000020", "name": "Lotte Vos"},
        "created_time": "2026-11-24T09:00:00+0000",
        "status_type": "added_photos",
    }
    found = normalize.visitor_post_item(post, page_id=PAGE_ID)
    assert found.text == "[photo]"
    assert found.url == "https://www.facebook.com/104857600123456_900000000000025"
