"""The hand-off inbox on the Conversations page, through Streamlit's AppTest against a real
server: filter by status, open a request with its conversation, assign, reply (the customer's
own history then holds the reply), close. The bot answers extractively: no model is called."""

from __future__ import annotations

import httpx

from tests.builder import test_pages
from tests.builder.test_pages import app, goto, texts
from tests.public_api_support import ORIGIN, bearer

ui_env = test_pages.ui_env  # the same fixture: a real server, the builder pointed at it


def customer_asks_for_a_person(client, url: str) -> tuple[str, dict]:
    spec = {"name": "Shop", "answer": {"style": "extractive"}, "allowed_origins": [ORIGIN]}
    bot = client.create_bot("Shop", "en", spec).id
    client.publish(bot, "v1")
    pk = client.create_key(bot, "publishable").key
    session = httpx.post(f"{url}/v1/bots/{bot}/sessions", json={}, headers={**bearer(pk), "Origin": ORIGIN}).json()
    asked = httpx.post(
        f"{url}/v1/bots/{bot}/chat",
        json={"message": "Where is my parcel?"},
        headers=bearer(session["token"]),
        timeout=60,
    )
    assert asked.status_code == 200, asked.text
    created = httpx.post(
        f"{url}/v1/bots/{bot}/conversations/{session['conversation_id']}/handoff",
        json={"name": "Ana", "phone": "+33 1 23 45 67 89", "message": "Parcel 4411 never came."},
        headers=bearer(session["token"]),
    )
    assert created.status_code == 201, created.text
    return bot, session


def test_the_inbox_assigns_replies_and_closes(ui_env, live_server):
    client = ui_env
    bot, session = customer_asks_for_a_person(client, live_server.url)
    [request] = client.handoff_inbox(bot)

    at = app()
    goto(at, "conversations")
    at.selectbox(key=f"ho_status_{bot}").select("new")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key=f"ho_open_{bot}").value == request.id
    # The context: who, how to reach them, what they asked, and the conversation itself.
    shown = texts(at) + "\n".join(x.value for x in at.text)
    assert "Ana" in shown and "+33 1 23 45 67 89" in shown and "Parcel 4411 never came." in shown
    assert "Where is my parcel?" in shown

    at.text_input(key=f"ho_assignee_{bot}_{request.id}").input("Marie")
    at.button(key=f"ho_assign_{bot}_{request.id}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Assigned." in s.value for s in at.success)
    assert client.handoff(bot, request.id).handoff.assignee == "Marie"
    # Filtered on "new", it has left the list: now it is assigned.
    assert "No hand-off request with this status." in texts(at)

    at.selectbox(key=f"ho_status_{bot}").select("assigned")
    at.run()
    at.text_area(key=f"ho_reply_{bot}_{request.id}").input("We found it: it arrives tomorrow.")
    at.button(key=f"ho_send_{bot}_{request.id}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Reply sent." in s.value for s in at.success), [e.value for e in at.error]
    detail = client.handoff(bot, request.id)
    assert detail.handoff.status == "answered"
    history = httpx.get(
        f"{live_server.url}/v1/bots/{bot}/conversations/{session['conversation_id']}",
        headers=bearer(session["token"]),
    ).json()
    assert history["messages"][-1] == {
        **history["messages"][-1],
        "role": "staff",
        "content": "We found it: it arrives tomorrow.",
    }

    at.selectbox(key=f"ho_status_{bot}").select(None)
    at.run()
    assert "Support team" in texts(at)  # the reply in the context, labelled as the team's
    at.button(key=f"ho_close_{bot}_{request.id}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.handoff(bot, request.id).handoff.status == "closed"
    assert "This request is closed." in texts(at)
