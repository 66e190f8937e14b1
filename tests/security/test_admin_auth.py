"""Held in the review: every admin route refuses every credential that is not the admin
token, with a 401. Walks the app's routes, so a route added later is checked too."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from tests.security.app_routes import api_routes, filled
from tests.security.published_bots import new_key, published_bot, widget_session


def _admin_operations() -> list[tuple[str, str]]:
    found = sorted(
        {
            (method, route.path)
            for route in api_routes()
            # Signing in is the one admin route without a credential (tests/security/test_roles.py).
            if route.path.startswith("/admin") and route.path != "/admin/login"
            for method in route.methods or ()
            if method != "HEAD"
        }
    )
    assert len(found) >= 30, found  # the walk saw the admin API, not an empty list
    return found


ADMIN_OPERATIONS = _admin_operations()


@pytest.fixture(scope="module")
def module_api(tmp_path_factory, embedders):
    """One app, bot, keys and session for the whole module: every case here only sends refused
    requests, which change nothing, so sharing them is safe (and saves ~1.5 s per case)."""
    settings = Settings(home=tmp_path_factory.mktemp("admin_auth") / "home")
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        yield client


@pytest.fixture(scope="module")
def credentials(module_api) -> dict[str, dict]:
    """Each wrong way to call the admin API: headers and query parameters."""
    api = module_api
    admin = api.headers["Authorization"].removeprefix("Bearer ")
    bot = published_bot(api)
    secret, publishable = new_key(api, bot), new_key(api, bot, "publishable")
    session = widget_session(api, bot, publishable)["token"]
    basic = base64.b64encode(f"admin:{admin}".encode()).decode()
    return {
        "no header": {},
        "empty bearer": {"headers": {"Authorization": "Bearer "}},
        "bare scheme": {"headers": {"Authorization": "Bearer"}},
        "wrong token": {"headers": {"Authorization": "Bearer adm_" + "x" * 40}},
        "secret key": {"headers": {"Authorization": f"Bearer {secret}"}},
        "publishable key": {"headers": {"Authorization": f"Bearer {publishable}"}},
        "widget session": {"headers": {"Authorization": f"Bearer {session}"}},
        "admin token, other case": {"headers": {"Authorization": f"Bearer {admin.swapcase()}"}},
        "admin token, truncated": {"headers": {"Authorization": f"Bearer {admin[:-1]}"}},
        "Basic with the token": {"headers": {"Authorization": f"Basic {admin}"}},
        "Basic admin:token": {"headers": {"Authorization": f"Basic {basic}"}},
        "token without scheme": {"headers": {"Authorization": admin}},
        "token in the query": {"params": {"token": admin, "access_token": admin, "admin_token": admin}},
        "token in a cookie": {"headers": {"Cookie": f"admin_token={admin}; token={admin}"}},
    }


@pytest.mark.parametrize(("method", "path"), ADMIN_OPERATIONS, ids=[f"{m} {p}" for m, p in ADMIN_OPERATIONS])
def test_admin_route_refuses_every_other_credential(module_api, credentials, method, path):
    api = module_api
    bot_id = api.get("/admin/bots").json()["bots"][0]["id"]  # a real bot: no 404 can hide a 401
    url = filled(path, bot_id=bot_id, number="1")
    anonymous = TestClient(api.app)  # the app is running (api's lifespan); no default header
    for name, credential in credentials.items():
        response = anonymous.request(method, url, json={}, **credential)
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "unauthorized", (name, response.text)
        assert response.headers.get("www-authenticate") == "Bearer", name
