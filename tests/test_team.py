"""Team use (issue #15, item 10) through the real app: the first owner and the admin token,
signing in, sessions that expire, revoked tokens, disabled users, password hashes, and the
audit log's row for each kind of change."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store import tables as t
from tests.conftest import create_bot, upload, wait_ingested
from tests.security.published_bots import bearer

PASSWORD = "correct horse battery"


def _user(api, name: str, role: str, password: str = PASSWORD) -> dict:
    made = api.post("/admin/users", json={"name": name, "role": role, "password": password})
    assert made.status_code == 201, made.text
    return made.json()


def _login(api, name: str, password: str = PASSWORD):
    return api.post("/admin/login", json={"name": name, "password": password}, headers={"Authorization": ""})


def _wait_sync(api, bot: str, sync_id: str) -> None:
    deadline = time.monotonic() + 60
    while api.get(f"/admin/bots/{bot}/web-syncs/{sync_id}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the web sync did not finish"
        time.sleep(0.1)


def test_the_first_owner_is_the_admin_token_and_can_choose_a_password(api, runtime):
    me = api.get("/admin/me").json()
    assert me["user"]["role"] == "owner" and me["user"]["name"] == "owner"
    assert me["token_kind"] == "api" and not me["user"]["has_password"]
    assert _login(api, "owner", "").status_code == 422  # no password yet: nothing to sign in with
    changed = api.patch("/admin/me", json={"name": "Ana", "password": PASSWORD})
    assert changed.status_code == 200, changed.text
    signed_in = _login(api, "Ana")
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "owner"
    # A set password is changed only with the current one.
    refused = api.patch("/admin/me", json={"password": "another long one"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "wrong_password"
    # A restart keeps the same owner and token, and does not make a second owner.
    Runtime.build(runtime.settings, embedders=runtime.embedders).engine.dispose()
    with runtime.sessions() as s:
        assert [u.name for u in s.scalars(select(t.User))] == ["Ana"]
        assert len(list(s.scalars(select(t.ApiToken).where(t.ApiToken.kind == "api")))) == 1


def test_passwords_are_stored_as_bcrypt_hashes_only(api, runtime):
    _user(api, "bea", "editor")
    created = api.post("/admin/users", json={"name": "cy", "role": "viewer"}).json()
    one_time = created["one_time_password"]
    assert one_time and _login(api, "cy", one_time).status_code == 200
    with runtime.engine.connect() as conn:
        dump = "\n".join(
            str(row) for table in ("users", "api_tokens") for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
        hashes = [
            row[0] for row in conn.execute(text("SELECT password_hash FROM users WHERE password_hash IS NOT NULL"))
        ]
    assert PASSWORD not in dump and one_time not in dump and runtime.admin_token not in dump
    assert len(hashes) == 2 and all(h.startswith("$2b$") for h in hashes)
    assert api.post("/admin/users", json={"name": "dee", "role": "viewer", "password": "short"}).status_code == 422
    assert api.post("/admin/users", json={"name": "bea", "role": "viewer"}).json()["error"]["code"] == "name_taken"


def test_a_wrong_name_and_a_wrong_password_get_the_same_answer_and_attempts_are_limited(isolated_home, embedders):
    settings = Settings(home=isolated_home, login_attempts_per_minute=3)
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        _user(api, "eve", "viewer")
        unknown, wrong = _login(api, "nobody"), _login(api, "eve", "not the password")
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json() == wrong.json()
        assert _login(api, "eve").status_code == 200
        limited = _login(api, "eve")  # the fourth attempt from this address in a minute
        assert limited.status_code == 429 and limited.headers["retry-after"]


def test_a_session_expires_and_is_ended_by_signing_out(api, runtime):
    _user(api, "fay", "editor")
    session = _login(api, "fay").json()
    assert datetime.fromisoformat(session["expires_at"]) > datetime.now(UTC) + timedelta(hours=11)
    assert api.get("/admin/me", headers=bearer(session["token"])).json()["token_kind"] == "session"
    with runtime.sessions() as s:  # time passes: the session's end is now behind us
        row = s.scalar(select(t.ApiToken).where(t.ApiToken.kind == "session"))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    expired = api.get("/admin/bots", headers=bearer(session["token"]))
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "unauthorized"

    again = _login(api, "fay").json()["token"]
    assert api.post("/admin/logout", headers=bearer(again)).status_code == 204
    assert api.get("/admin/bots", headers=bearer(again)).status_code == 401


def test_revoked_tokens_and_disabled_users_are_refused(api):
    gus = _user(api, "gus", "editor")
    session = _login(api, "gus").json()["token"]
    made = api.post("/admin/tokens", json={"name": "laptop"}, headers=bearer(session)).json()
    token = made["token"]
    assert api.get("/admin/bots", headers=bearer(token)).status_code == 200
    listed = api.get("/admin/tokens", headers=bearer(token)).json()["tokens"]
    assert "token" not in listed[0] and {x["name"] for x in listed} == {"laptop", "builder session"}
    assert api.delete(f"/admin/tokens/{made['id']}", headers=bearer(session)).status_code == 204
    assert api.get("/admin/bots", headers=bearer(token)).status_code == 401

    spare = api.post("/admin/tokens", json={"name": "spare"}, headers=bearer(session)).json()["token"]
    assert api.patch(f"/admin/users/{gus['id']}", json={"disabled": True}).status_code == 200
    for credential in (session, spare):
        assert api.get("/admin/bots", headers=bearer(credential)).status_code == 401
    assert _login(api, "gus").status_code == 401


def test_the_last_owner_cannot_be_demoted_disabled_or_deleted(api):
    me = api.get("/admin/me").json()["user"]["id"]
    for change in ({"role": "editor"}, {"disabled": True}):
        refused = api.patch(f"/admin/users/{me}", json=change)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_owner"
    assert api.delete(f"/admin/users/{me}").status_code == 409
    second = _user(api, "hal", "owner")
    assert api.patch(f"/admin/users/{me}", json={"role": "editor"}).status_code == 200
    assert api.get("/admin/users").status_code == 403  # now an editor
    assert api.delete(f"/admin/users/{second['id']}").status_code == 403


def test_each_change_leaves_an_audit_row_naming_who(api):
    _user(api, "ivy", "editor")
    ivy = bearer(_login(api, "ivy").json()["token"])
    bot = create_bot(api, "Shop")["id"]
    assert api.patch(f"/admin/bots/{bot}", json={"spec": {"persona": {"tone": "warm"}}}, headers=ivy).status_code == 200
    job = upload(api, bot, {"refunds.md": b"# Refunds\n\nRefunds take 5 business days.\n"})["job_id"]
    wait_ingested(api, job)
    doc = api.get(f"/admin/bots/{bot}/documents").json()["documents"][0]["id"]
    assert api.delete(f"/admin/bots/{bot}/documents/{doc}", headers=ivy).status_code in (200, 202, 204)
    assert api.post(f"/admin/bots/{bot}/versions", json={"note": "v1"}, headers=ivy).status_code == 201
    assert api.post(f"/admin/bots/{bot}/versions", json={"note": "v2"}).status_code == 201
    assert api.post(f"/admin/bots/{bot}/versions/1/rollback", headers=ivy).status_code == 200
    key = api.post(f"/admin/bots/{bot}/keys", json={"kind": "secret"}, headers=ivy).json()
    assert api.delete(f"/admin/bots/{bot}/keys/{key['id']}").status_code == 204
    source = api.post(f"/admin/bots/{bot}/web-sources", json={"url": "https://help.example.invalid/"}, headers=ivy)
    assert source.status_code in (200, 201, 202), source.text
    source_id = source.json()["source"]["id"]
    _wait_sync(api, bot, source.json()["sync_id"])  # fails at once: .invalid never resolves
    synced = api.post(f"/admin/bots/{bot}/web-sources/{source_id}/sync", headers=ivy)
    assert synced.status_code in (200, 201, 202), synced.text
    _wait_sync(api, bot, synced.json()["sync_ids"][0])
    assert api.delete(f"/admin/bots/{bot}/web-sources/{source_id}", headers=ivy).status_code == 204
    token = api.post("/admin/tokens", json={"name": "ci"}, headers=ivy).json()
    assert api.delete(f"/admin/tokens/{token['id']}").status_code == 204
    assert api.delete(f"/admin/bots/{bot}").status_code == 204
    # Asking is not changing: a search leaves no row.
    other = create_bot(api, "Other")["id"]
    assert api.post(f"/admin/bots/{other}/search", json={"query": "refunds"}).status_code == 200

    page = api.get("/admin/audit", params={"limit": 500}).json()
    rows = [(e["user_name"], e["action"], e["target_id"]) for e in reversed(page["entries"])]
    assert page["total"] == len(rows)
    expected = [
        ("owner", "user.create", None),
        ("ivy", "session.login", None),
        ("owner", "bot.create", bot),
        ("ivy", "bot.update", bot),
        ("owner", "document.upload", None),
        ("ivy", "document.delete", doc),
        ("ivy", "bot.publish", None),
        ("owner", "bot.publish", None),
        ("ivy", "bot.rollback", "1"),
        ("ivy", "key.create", key["id"]),
        ("owner", "key.revoke", key["id"]),
        ("ivy", "web_source.create", None),
        ("ivy", "web_source.sync", source_id),
        ("ivy", "web_source.delete", source_id),
        ("ivy", "token.create", token["id"]),
        ("owner", "token.revoke", token["id"]),
        ("owner", "bot.delete", bot),
        ("owner", "bot.create", other),
    ]
    assert [(who, action) for who, action, _ in rows] == [(who, action) for who, action, _ in expected]
    for (_, _, got), (_, action, want) in zip(rows, expected, strict=True):
        if want is not None:
            assert got == want, action
    # A publish is about the bot (its column), not a target of its own.
    assert {e["target_id"] for e in page["entries"] if e["action"] == "bot.publish"} == {None}
    # Filters: by bot, by user (name or id), by action; paged.
    assert {e["action"] for e in api.get("/admin/audit", params={"bot_id": bot}).json()["entries"]} >= {"bot.publish"}
    by_ivy = api.get("/admin/audit", params={"user": "ivy"}).json()
    assert by_ivy["total"] == 10 and {e["user_name"] for e in by_ivy["entries"]} == {"ivy"}
    publishes = api.get("/admin/audit", params={"action": "bot.publish", "limit": 1, "offset": 1}).json()
    assert publishes["total"] == 2 and publishes["entries"][0]["user_name"] == "ivy"
