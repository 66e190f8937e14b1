"""Issue #17: Schemathesis over the whole OpenAPI document, as the admin and as every other
kind of caller (none, publishable key, secret key, widget session). No 500, no body that breaks
its own schema, no route reachable without the credential it needs.

In the suite: one derandomized example per operation as the admin and two per public
operation for each other caller (~20 s); every admin route's refusal of the other credentials
is tests/security/test_admin_auth.py's. The long run, with random examples on every route for
every caller, is `python -m benchmarks.api_fuzz`. Skipped: POST /admin/providers/test (it calls
whatever base_url is drawn; tests/test_provider_check.py covers it)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.security import api_fuzzing as fuzz


@pytest.fixture(scope="module")
def target(tmp_path_factory, embedders):
    with fuzz.fuzz_target(tmp_path_factory.mktemp("api_fuzz") / "home", embedders) as target:
        yield target


def test_every_operation_as_the_admin(target):
    problems = [
        problem
        for op in fuzz.operations(target)
        for problem in fuzz.fuzz_operation(target, op, "admin token", examples=1, derandomize=True)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("credential", ["no credential", "publishable key", "secret key", "widget session"])
def test_public_operations_as_every_other_caller(target, credential):
    public = [op for op in fuzz.operations(target) if not fuzz.needs_admin(op)]
    assert len(public) >= 10, [op.path for op in public]  # the walk saw the public API
    problems = [
        problem
        for op in public
        for problem in fuzz.fuzz_operation(
            target, op, credential, examples=2, derandomize=True, expect=fuzz.refused_without(credential)
        )
    ]
    assert not problems, "\n".join(problems)


def test_times_of_people_and_tokens_carry_their_offset(target):
    """Found by the fuzzer: SQLite returns stored UTC times without offset, and the team
    routes sent them so, against their documented `date-time` format."""
    client = target.client
    times = [client.get("/admin/me").json()["user"]["created_at"]]
    times += [t["created_at"] for t in client.get("/admin/tokens").json()["tokens"]]
    times += [e["at"] for e in client.get("/admin/audit").json()["entries"]]
    assert len(times) >= 2, times
    for value in times:
        assert datetime.fromisoformat(value).utcoffset() is not None, value


def test_a_422_is_the_error_body_the_document_names(target):
    """The document named FastAPI's {"detail": [...]} for every 422 while the server sends
    {"error": {"code", "message", "problems"}}; the schema check could not tell (`detail` is
    optional), so this reads the document itself."""
    import jsonschema

    document = target.client.get("/openapi.json").json()
    refs = {
        op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        for item in document["paths"].values()
        for op in item.values()
        if "422" in op.get("responses", {})
    }
    assert refs == {"#/components/schemas/ErrorBody"}, refs
    refused = target.client.post("/admin/bots", json={"name": 42})
    assert refused.status_code == 422, refused.text
    # The document's references, pointed at $defs so the schema stands on its own.
    schemas = json.loads(json.dumps(document["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/"))
    jsonschema.validate(refused.json(), {**schemas["ErrorBody"], "$defs": schemas})
    assert "error" in schemas["ErrorBody"]["required"]


def test_the_long_runs_findings_are_refused_with_a_sentence(target):
    """Found by `python -m benchmarks.api_fuzz` (50 examples): both were 500s."""
    client, bot = target.client, target.ids["bot_id"]
    malformed = client.post(
        f"/admin/bots/{bot}/corrected-answers/import",
        content=b"question,answer\nwhere\ris it,here\n",
        headers={"Content-Type": "text/csv"},
    )
    assert malformed.status_code == 422, malformed.text
    assert "malformed" in malformed.json()["error"]["message"]
    for route in ("gaps", "analytics"):
        for query in ({"until": "0001-01-02T00:00:00"}, {"since": "9999-12-31T00:00:00"}):
            refused = client.get(f"/admin/bots/{bot}/{route}", params=query)
            assert refused.status_code == 422, (route, query, refused.text)
            assert "between the years" in refused.json()["error"]["message"]
    # A period of millennia: the trend's previous period would start before year 1 (third run).
    huge = client.get(
        f"/admin/bots/{bot}/gaps", params={"since": "0100-01-01T00:00:00", "until": "9000-01-01T00:00:00"}
    )
    assert huge.status_code == 422 and "too long" in huge.json()["error"]["message"], huge.text


def test_a_version_number_past_64_bits_is_no_version(target):
    """Found by the long run (fourth): `"version": "<20 digits>"` reached SQLite as an int."""
    bot = target.ids["bot_id"]
    run = target.client.post(f"/admin/bots/{bot}/eval-runs", json={"version": "99999999999999999999"})
    assert run.status_code in (404, 409, 422), run.text
