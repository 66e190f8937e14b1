"""Held in the review (issue #15, item 10): every admin route checks the caller's role. Walks
the app's OpenAPI document as an owner, an editor, a viewer and with no token, so a route
added later is checked too:
- no token: 401 everywhere (signing in aside);
- viewer: 403 on every change and on every route that shows keys; reads go through;
- editor: 403 on the owner's routes (people, the audit log);
- owner: no 401 or 403;
- and nothing answers 5xx.
The rules are written here again, not imported from bots/http/access.py: a wrong table there
must fail this test."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from tests.security.app_routes import filled, operations
from tests.security.published_bots import bearer, new_key, published_bot

OWNER_ONLY = re.compile(r"^/admin/(users|audit)(/|$)")
SHOWS_KEYS = re.compile(r"^/admin/bots/\{bot_id\}/(keys|embed)(/|$)")
# About the caller themself: any role may sign out, see and change itself, and keep its own tokens.
SELF_SERVICE = {"/admin/logout", "/admin/me", "/admin/tokens", "/admin/tokens/{token_id}"}


def expected(role: str, method: str, path: str) -> str:
    """ "allowed" or "forbidden" for one role on one operation."""
    if path in SELF_SERVICE:
        return "allowed"
    if OWNER_ONLY.match(path):
        return "allowed" if role == "owner" else "forbidden"
    if role == "viewer" and (method != "get" or SHOWS_KEYS.match(path)):
        return "forbidden"
    return "allowed"


@pytest.fixture(scope="module")
def walk(tmp_path_factory, embedders):
    settings = Settings(home=tmp_path_factory.mktemp("roles") / "home")
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as owner:
        owner.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        bot = published_bot(owner)
        new_key(owner, bot)
        tokens = {"owner": runtime.admin_token}
        for role in ("editor", "viewer"):
            made = owner.post("/admin/users", json={"name": f"{role} one", "role": role, "password": "a long password"})
            assert made.status_code == 201, made.text
            # An API token of that user: made by signing in, then asking for one with the session.
            session = owner.post("/admin/login", json={"name": f"{role} one", "password": "a long password"})
            assert session.status_code == 200, session.text
            api_token = owner.post("/admin/tokens", json={"name": "walk"}, headers=bearer(session.json()["token"]))
            assert api_token.status_code == 201, api_token.text
            tokens[role] = api_token.json()["token"]
        user_id = owner.get("/admin/users").json()["users"][-1]["id"]
        # Real ids where a GET needs one, so a 404 cannot stand in for the answer checked.
        values = {"bot_id": bot, "number": "1", "user_id": user_id}
        yield owner, tokens, values, owner.get("/openapi.json").json()


def _admin_operations(openapi: dict) -> list[tuple[str, str]]:
    found = [(m, p) for m, p, _ in operations(openapi) if p.startswith("/admin")]
    assert len(found) >= 80, found  # the walk saw the whole admin API
    return found


def _call(client: TestClient, token: str | None, method: str, path: str, values: dict):
    # A change is sent with made-up ids and an empty body, so an allowed one is refused by
    # its own checks (404, 422) and the walk changes nothing; the role check comes first.
    url = filled(path, **values) if method == "get" else filled(path, bot_id="bot_unknown")
    headers = bearer(token) if token else {"Authorization": ""}
    body: dict | None = {} if method in ("post", "put", "patch") else None
    return client.request(method.upper(), url, headers=headers, json=body)


def test_every_admin_route_checks_the_role(walk):
    client, tokens, values, openapi = walk
    wrong = []
    for method, path in _admin_operations(openapi):
        if path == "/admin/login":
            continue  # the one route without a credential: tests/test_team.py
        response = _call(client, None, method, path, values)
        if response.status_code != 401:
            wrong.append(("no token", method, path, response.status_code))
        for role, token in tokens.items():
            response = _call(client, token, method, path, values)
            status = response.status_code
            if status >= 500:
                wrong.append((role, method, path, status, response.text[:200]))
            elif expected(role, method, path) == "forbidden":
                if status != 403 or response.json()["error"]["code"] != "forbidden":
                    wrong.append((role, method, path, status, "expected 403"))
            elif status in (401, 403):
                wrong.append((role, method, path, status, response.text[:200]))
    assert wrong == []


def test_a_refusal_says_why_in_a_sentence(walk):
    client, tokens, values, _ = walk
    bot = values["bot_id"]
    keys = client.get(f"/admin/bots/{bot}/keys", headers=bearer(tokens["viewer"])).json()["error"]["message"]
    assert "Viewers cannot see keys" in keys
    change = client.patch(f"/admin/bots/{bot}", json={"name": "x"}, headers=bearer(tokens["viewer"]))
    assert "can read but not change" in change.json()["error"]["message"]
    people = client.get("/admin/users", headers=bearer(tokens["editor"])).json()["error"]["message"]
    assert "Only an owner" in people
    # The viewer's refused change changed nothing.
    assert client.get(f"/admin/bots/{bot}").json()["name"] == "Shop"


def test_only_an_owner_lists_or_revokes_the_tokens_of_others(walk):
    client, tokens, _, _ = walk
    everyone = client.get("/admin/tokens", params={"all": "true"}, headers=bearer(tokens["editor"]))
    assert everyone.status_code == 403
    mine = client.get("/admin/tokens", headers=bearer(tokens["editor"])).json()["tokens"]
    assert {t["user_name"] for t in mine} == {"editor one"}
    owners = client.get("/admin/tokens", params={"all": "true"}).json()["tokens"]
    viewer_token = next(t for t in owners if t["user_name"] == "viewer one" and t["kind"] == "api")
    # An editor cannot revoke another user's token (it is "not found" to them) ...
    refused = client.delete(f"/admin/tokens/{viewer_token['id']}", headers=bearer(tokens["editor"]))
    assert refused.status_code == 404
    assert client.get("/admin/me", headers=bearer(tokens["viewer"])).status_code == 200
