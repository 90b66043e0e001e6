"""The Graph error policy: what each kind of failure becomes."""

import threading

import facebook
import pytest
import requests
import responses

from channels.base import AuthError, OutcomeUnknown, PermanentError, RateLimited, TemporaryError
from channels.facebook import client
from tests.channels.facebook.support import graph, load


def graph_error(code, subcode=None, **extra):
    error = {"message": f"error {code}", "type": "OAuthException", "code": code, **extra}
    if subcode:
        error["error_subcode"] = subcode
    return facebook.GraphAPIError({"error": error})


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80006])
def test_meta_rate_limit_codes_back_off(code):
    assert isinstance(client.translate(graph_error(code)), RateLimited)


@pytest.mark.parametrize("subcode", [None, 458, 460, 463, 467])
def test_token_errors_need_reconnect_with_metas_message(subcode):
    error = client.translate(graph_error(190, subcode))
    assert isinstance(error, AuthError)
    assert "error 190" in error.message


def test_the_password_change_subcode_is_explained():
    assert "password was changed" in client.translate(graph_error(190, 460)).message


def test_a_missing_permission_while_reading_needs_an_admin_but_fails_only_the_send():
    assert isinstance(client.translate(graph_error(200)), AuthError)
    assert isinstance(client.translate(graph_error(200), sending=True), PermanentError)


def test_transient_errors_are_temporary():
    assert isinstance(client.translate(graph_error(2)), TemporaryError)
    assert isinstance(client.translate(graph_error(100, is_transient=True)), TemporaryError)


def test_the_libraries_non_json_error_is_temporary():
    error = facebook.GraphAPIError("Maintype was not text, image, or querystring")
    assert error.code is None
    assert isinstance(client.translate(error), TemporaryError)


def test_outside_the_messenger_window_is_permanent_and_says_why():
    error = client.translate(graph_error(10, client.OUTSIDE_WINDOW_SUBCODE), sending=True)
    assert isinstance(error, PermanentError)
    assert "24-hour" in error.message and "HUMAN_AGENT" in error.message


@responses.activate
def test_a_timeout_while_sending_is_an_unknown_outcome():
    responses.post(graph("123/comments"), body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        client.post(client.graph_api("t"), "123/comments", message="hi")


@responses.activate
def test_a_refused_connection_while_sending_is_temporary():
    responses.post(graph("123/comments"), body=requests.exceptions.ConnectTimeout("down"))
    with pytest.raises(TemporaryError):
        client.post(client.graph_api("t"), "123/comments", message="hi")


@responses.activate
def test_a_response_without_content_type_is_temporary():
    responses.get(graph("me"), body=b"", content_type=None)
    with pytest.raises(TemporaryError):
        client.get(client.graph_api("t"), "me")


@responses.activate
def test_nested_send_fields_are_json_encoded_not_flattened():
    responses.post(graph("1/messages"), json=load("send_message_ok.json"))
    client.post(client.graph_api("t"), "1/messages", recipient={"id": "42"}, tag="HUMAN_AGENT")
    body = responses.calls[0].request.body
    assert "recipient=%7B%22id%22%3A+%2242%22%7D" in body
    assert "tag=HUMAN_AGENT" in body and "access_token=t" in body


@responses.activate
def test_paging_follows_the_after_cursor_without_needing_a_token_in_next():
    responses.get(
        graph("p/feed"),
        json={"data": [{"id": "a"}], "paging": {"cursors": {"after": "C1"}, "next": "https://x"}},
    )
    responses.get(graph("p/feed"), json={"data": [{"id": "b"}], "paging": {"cursors": {}}})
    seen = [
        item["id"]
        for batch, _ in client.pages(client.graph_api("t"), "p/feed", max_pages=5)
        for item in batch
    ]
    assert seen == ["a", "b"]
    assert "after=C1" in responses.calls[1].request.url


def test_graph_times_and_webhook_epochs_parse_to_utc():
    a = client.parse_time("2026-11-20T11:00:00+0000")
    b = client.parse_time(1795172400)
    c = client.parse_time(1795172400000)
    assert a == b == c and a.utcoffset().total_seconds() == 0
    assert client.parse_time("not a time") is None


def test_a_json_error_without_a_code_is_reported_with_metas_own_message():
    error = client.translate(facebook.GraphAPIError(load("error_without_code.json")))
    assert isinstance(error, PermanentError)
    assert "An unknown error has occurred." in error.message
    assert "non-JSON" not in error.message


def test_a_transient_json_error_without_a_code_is_temporary():
    body = load("error_without_code.json")
    body["error"]["is_transient"] = True
    error = client.translate(facebook.GraphAPIError(body))
    assert isinstance(error, TemporaryError)
    assert "An unknown error has occurred." in error.message


def _in_a_new_thread(make):
    made = []
    thread = threading.Thread(target=lambda: made.append(make()))
    thread.start()
    thread.join()
    return made[0]


def test_graph_clients_of_one_thread_share_its_session_and_other_threads_have_their_own():
    first, second = client.graph_api("token-a"), client.graph_api("token-b")
    assert first.session is second.session
    assert first.access_token == "token-a" and second.access_token == "token-b"
    assert _in_a_new_thread(lambda: client.graph_api("token-a").session) is not first.session


def test_a_threads_session_takes_the_proxy_from_the_environment_when_it_is_made(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = _in_a_new_thread(client.thread_session)
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.trust_env is False  # not read again on every call


@responses.activate
def test_a_threads_session_keeps_no_cookie_between_accounts():
    responses.add(
        responses.GET,
        graph("me"),
        json={"id": "1"},
        headers={"Set-Cookie": "fr=abc; Domain=.facebook.com; Path=/"},
    )
    session = _in_a_new_thread(lambda: _call_me(client.graph_api("token-a")))
    assert len(session.cookies) == 0


def _call_me(graph):
    client.get(graph, "me")
    return graph.session
