"""The OpenAPI document is the contract of the admin and public APIs (the builder, the CLI,
the widget and integrations rely on it): a change to it must be deliberate. The committed
tests/snapshots/openapi.json is compared with what the app generates; to accept a change,
regenerate it and commit it with the change:

    PROMPTEUR_UPDATE_SNAPSHOT=1 pytest tests/test_openapi_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bots.http.app import create_app

SNAPSHOT = Path(__file__).with_name("snapshots") / "openapi.json"
UPDATE_HINT = (
    "If the change is intended, update the snapshot and commit it with the change:\n"
    "    PROMPTEUR_UPDATE_SNAPSHOT=1 pytest tests/test_openapi_snapshot.py"
)
METHODS = ("get", "post", "put", "patch", "delete")

# Routes whose success body may be something other than JSON, and what else they send.
ALTERNATIVE_BODIES = {
    ("post", "/v1/bots/{bot_id}/chat"): "text/event-stream",  # stream=true
    ("post", "/v1/chat/completions"): "text/event-stream",  # stream=true
    ("get", "/admin/bots/{bot_id}/export"): "text/csv",  # format=csv, a file download
    ("get", "/admin/bots/{bot_id}/corrected-answers/export"): "text/csv",  # format=csv
    ("post", "/admin/bots/{bot_id}/playground"): "text/event-stream",  # stream=true
}


def render(document: dict) -> str:
    """Stable text: sorted keys, indent 2, so a diff of the file shows only real changes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _operations(document: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": op
        for path, ops in document.get("paths", {}).items()
        for method, op in ops.items()
        if method in METHODS
    }


def _compare(label: str, old: dict, new: dict) -> list[str]:
    lines = [f"{label} added: {name}" for name in sorted(new.keys() - old.keys())]
    lines += [f"{label} removed: {name}" for name in sorted(old.keys() - new.keys())]
    lines += [f"{label} changed: {name}" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    return lines


def summary(old: dict, new: dict) -> list[str]:
    """What differs, in words: operations and schemas added, removed or changed."""
    lines = _compare("operation", _operations(old), _operations(new))
    lines += _compare(
        "schema", old.get("components", {}).get("schemas", {}), new.get("components", {}).get("schemas", {})
    )
    rest_old = {k: v for k, v in old.items() if k not in ("paths", "components")}
    rest_new = {k: v for k, v in new.items() if k not in ("paths", "components")}
    lines += _compare("top-level field", rest_old, rest_new)
    return lines


@pytest.fixture
def document(settings) -> dict:
    # Generating the document needs no runtime: the app is built, never started.
    return create_app(settings).openapi()


def test_openapi_matches_the_snapshot(document):
    current = render(document)
    if os.environ.get("PROMPTEUR_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
        return
    assert SNAPSHOT.exists(), f"No snapshot at {SNAPSHOT}.\n{UPDATE_HINT}"
    stored = SNAPSHOT.read_text(encoding="utf-8")
    if stored != current:
        differences = summary(json.loads(stored), document) or ["formatting only (the document is equal)"]
        pytest.fail(
            "The OpenAPI document differs from tests/snapshots/openapi.json:\n  "
            + "\n  ".join(differences)
            + "\n"
            + UPDATE_HINT,
            pytrace=False,
        )


def test_the_summary_names_what_changed():
    old = {
        "info": {"version": "1"},
        "paths": {"/a": {"get": {"x": 1}}, "/b": {"post": {}}},
        "components": {"schemas": {"A": {"type": "object"}, "B": {}}},
    }
    new = {
        "info": {"version": "2"},
        "paths": {"/a": {"get": {"x": 2}}, "/c": {"delete": {}}},
        "components": {"schemas": {"A": {"type": "string"}, "C": {}}},
    }
    assert summary(old, new) == [
        "operation added: DELETE /c",
        "operation removed: POST /b",
        "operation changed: GET /a",
        "schema added: C",
        "schema removed: B",
        "schema changed: A",
        "top-level field changed: info",
    ]
    assert summary(old, old) == []


def test_every_admin_and_public_route_declares_its_response(document):
    missing = []
    for name, op in _operations(document).items():
        method, path = name.split(" ", 1)
        if not path.startswith(("/admin/", "/v1/")):
            continue
        responses = op["responses"]
        success = [code for code in ("200", "201", "202") if code in responses]
        if not success:
            # Only routes that answer 204 No Content may do without a body's schema.
            if "204" not in responses:
                missing.append(f"{name}: no success response")
            continue
        content = responses[success[0]].get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" not in schema:
            missing.append(f"{name}: {success[0]} has no JSON response model")
        alternative = ALTERNATIVE_BODIES.get((method.lower(), path))
        if alternative and alternative not in content:
            missing.append(f"{name}: does not document its {alternative} body")
    assert missing == []
    assert any(p.startswith("/v1/") for p in document["paths"]), "the public API is in the document"
