"""The hand-off inbox end to end, with real pieces around the app: an SMTP sink (aiosmtpd) for
the e-mails, a local HTTP receiver that checks the webhook's HMAC signature, and the public
API's history, where the customer reads a person's reply."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from bots.settings import Settings
from tests.conftest import free_port
from tests.public_api_support import ORIGIN, bearer, make_bot, publishable_key
from tests.scripted_openai import Reply

WEBHOOK_SECRET = "whsec-test-123"
TEAM = "support@shop.example"


class Sink:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    """The team's webhook endpoint: accepts a payload only with a valid signature."""

    received: list = []
    refused: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, self.headers.get("X-Prompteur-Signature", "")):
            type(self).received.append(json.loads(body))
            self.send_response(type(self).status)
        else:
            type(self).refused.append(body)
            self.send_response(401)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def receiver():
    Receiver.received, Receiver.refused, Receiver.status = [], [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def settings(isolated_home, sink, receiver) -> Settings:
    return Settings(
        home=isolated_home,
        smtp_host="127.0.0.1",
        smtp_port=sink[1],
        smtp_starttls=False,
        smtp_from="bot@shop.example",
        handoff_notify_emails=[TEAM],
        handoff_webhook_url=f"http://127.0.0.1:{receiver.server_port}/hooks/handoff",
        handoff_webhook_secret=WEBHOOK_SECRET,
    )


def until(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def customer_asks_for_a_person(api, model, email: str | None = "ana@customer.example"):
    bot = make_bot(api, model.base_url)
    pk = publishable_key(api, bot)
    session = api.post(f"/v1/bots/{bot}/sessions", json={}, headers={**bearer(pk), "Origin": ORIGIN}).json()
    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    asked = api.post(
        f"/v1/bots/{bot}/chat", json={"message": "Can I return an item?"}, headers=bearer(session["token"])
    )
    assert asked.status_code == 200
    contact = {"email": email} if email else {"phone": "+33 1 23 45 67 89"}
    created = api.post(
        f"/v1/bots/{bot}/conversations/{session['conversation_id']}/handoff",
        json={"name": "Ana", "message": "My parcel arrived broken.", **contact},
        headers=bearer(session["token"]),
    )
    assert created.status_code == 201, created.text
    return bot, session, created.json()["id"]


def test_a_reply_from_the_inbox_reaches_the_customer_in_the_chat_and_by_email(api, model, sink, receiver):
    messages = sink[0].messages
    bot, session, handoff = customer_asks_for_a_person(api, model)

    # The team hears of it: an e-mail and a webhook whose signature the receiver checked.
    until(lambda: Receiver.received)
    assert not Receiver.refused
    payload = Receiver.received[0]
    assert payload["event"] == "handoff.created" and payload["handoff"]["id"] == handoff
    assert payload["handoff"]["message"] == "My parcel arrived broken."
    team = until(lambda: [m for to, m in messages if to == [TEAM]])
    assert "Ana" in team[0]["Subject"] and "My parcel arrived broken." in team[0].get_content()

    # The inbox: filtered by status, with the conversation as context and the sends recorded.
    assert [h["id"] for h in api.get(f"/admin/bots/{bot}/handoffs", params={"status": "new"}).json()["handoffs"]] == [
        handoff
    ]
    assert api.get(f"/admin/bots/{bot}/handoffs", params={"status": "closed"}).json()["handoffs"] == []
    detail = api.get(f"/admin/bots/{bot}/handoffs/{handoff}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["channel"] == "widget"
    until(
        lambda: all(
            d["status"] == "sent" for d in api.get(f"/admin/bots/{bot}/handoffs/{handoff}").json()["deliveries"]
        )
    )

    assigned = api.post(f"/admin/bots/{bot}/handoffs/{handoff}/assign", json={"assignee": "Marie"}).json()
    assert assigned["handoff"]["status"] == "assigned" and assigned["handoff"]["assignee"] == "Marie"

    replied = api.post(
        f"/admin/bots/{bot}/handoffs/{handoff}/reply",
        json={"message": "Sorry about that: a new one leaves today.", "author": "Marie"},
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["handoff"]["status"] == "answered"

    # The customer's own history (what the widget polls) has the person's reply, as such,
    # and never says who on the team wrote it.
    history = api.get(f"/v1/bots/{bot}/conversations/{session['conversation_id']}", headers=bearer(session["token"]))
    last = history.json()["messages"][-1]
    assert last["role"] == "staff" and last["content"] == "Sorry about that: a new one leaves today."
    assert "Marie" not in history.text

    mail = until(lambda: [m for to, m in messages if to == ["ana@customer.example"]])
    assert "Sorry about that: a new one leaves today." in mail[0].get_content()
    assert mail[0]["From"] == "bot@shop.example"

    # Closed: listed as such, and a stray reply is refused rather than sent.
    assert api.post(f"/admin/bots/{bot}/handoffs/{handoff}/close").json()["handoff"]["status"] == "closed"
    assert [
        h["id"] for h in api.get(f"/admin/bots/{bot}/handoffs", params={"status": "closed"}).json()["handoffs"]
    ] == [handoff]
    refused = api.post(f"/admin/bots/{bot}/handoffs/{handoff}/reply", json={"message": "again"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "handoff_closed"
    assert len([m for to, m in messages if to == ["ana@customer.example"]]) == 1

    # The next question still works: the model gets the person's reply as an assistant turn.
    model.queue(Reply.answer("Delivery takes 3 to 5 business days [1]."))
    again = api.post(
        f"/v1/bots/{bot}/chat", json={"message": "How long does delivery take?"}, headers=bearer(session["token"])
    )
    assert again.status_code == 200, again.text
    sent = model.requests[-1]["messages"]
    assert {"role": "assistant", "content": "Sorry about that: a new one leaves today."} in sent


def test_failed_sends_never_break_the_request_and_are_shown(api, model, sink, receiver, settings):
    messages = sink[0].messages
    Receiver.status = 500  # the team's receiver is broken
    settings.smtp_port = free_port()  # and nothing listens where the SMTP server should be
    bot, _, handoff = customer_asks_for_a_person(api, model)

    def finished():
        d = api.get(f"/admin/bots/{bot}/handoffs/{handoff}").json()
        return d if all(x["status"] != "pending" for x in d["deliveries"]) else None

    detail = finished() or until(finished)
    kinds = {d["kind"]: d for d in detail["deliveries"]}
    assert set(kinds) == {"team_email", "team_webhook"}
    assert kinds["team_webhook"]["status"] == "failed" and "500" in kinds["team_webhook"]["error"]
    assert kinds["team_email"]["status"] == "failed" and kinds["team_email"]["error"]
    assert detail["handoff"]["failed_deliveries"] == 2
    listed = api.get(f"/admin/bots/{bot}/handoffs").json()["handoffs"][0]
    assert listed["failed_deliveries"] == 2
    assert messages == []


def test_a_webhook_url_without_a_secret_is_refused_at_start(isolated_home):
    with pytest.raises(ValueError, match="PROMPTEUR_HANDOFF_WEBHOOK_SECRET"):
        Settings(home=isolated_home, handoff_webhook_url="http://127.0.0.1:9/x")


def test_unknown_handoff_and_bad_reply_are_refused_clearly(api, model):
    bot, _, handoff = customer_asks_for_a_person(api, model, email=None)
    missing = api.get(f"/admin/bots/{bot}/handoffs/hnd_nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "handoff_not_found"
    assert api.post(f"/admin/bots/{bot}/handoffs/{handoff}/reply", json={"message": "   "}).status_code == 422
    assert api.get(f"/admin/bots/{bot}/handoffs", params={"status": "lost"}).status_code == 422
    # No e-mail address: the reply goes to the conversation only, and no e-mail is attempted.
    done = api.post(f"/admin/bots/{bot}/handoffs/{handoff}/reply", json={"message": "We will call you."}).json()
    assert done["messages"][-1]["role"] == "staff"
    assert [d["kind"] for d in done["deliveries"]] == ["team_email", "team_webhook"]
    # Taking the assignee off an answered request keeps it answered.
    other = api.post(f"/admin/bots/{bot}/handoffs/{handoff}/assign", json={"assignee": ""}).json()
    assert other["handoff"]["status"] == "answered" and other["handoff"]["assignee"] is None
