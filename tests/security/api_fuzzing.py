"""Property-based fuzzing of the whole OpenAPI document with Schemathesis (issue #17), shared by
the in-suite test (tests/security/test_api_fuzz.py: a few derandomized examples per operation)
and the longer run (`python -m benchmarks.api_fuzz`: many random examples).

One real app (TestClient over the real runtime, SQLite and Chroma in a temporary home) with a
published bot that has a document, a conversation, a corrected answer and keys. Schemathesis
draws each request from the document; path parameters are half the time replaced by the ids
of those real objects, so requests get past the 404s into the routes' logic.

Checks per response: no 500 and no 5xx outside the error envelope (a 502/503 naming a model
error is the answer to a bot whose model is unreachable, which ours is), a body that matches
the operation's response schema, and for callers without the right credential a 401/403 on
every route that needs one."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance
from schemathesis.core.failures import FailureGroup

from bots.http.app import create_app
from bots.llm.errors import LocalModelError
from bots.runtime import Runtime
from bots.settings import Settings
from knowledge.embedding import EmbedderCache
from tests.security.published_bots import ORIGIN, bearer, new_key, published_bot, widget_session

# Routes every caller may reach without a credential.
PUBLIC = {("GET", "/healthz"), ("POST", "/admin/login"), ("GET", "/v1/bots/{bot_id}/config")}
# Outbound calls to whatever base_url the fuzzer writes (a DNS lookup or a connect that may
# hang for the request's whole timeout): covered by tests/test_provider_check.py instead.
SKIPPED = {("POST", "/admin/providers/test")}
# Status codes an unreachable bot model answers with; their body must still be the envelope.
MODEL_FAILURES = {502, 503}


@dataclasses.dataclass
class Target:
    """The running app, its real objects' ids, and the credentials to call it with."""

    client: TestClient
    schema: Any
    ids: dict[str, str]
    credentials: dict[str, dict[str, str]]


@contextmanager
def fuzz_target(home: Path, embedders: EmbedderCache | None = None) -> Iterator[Target]:
    # High limits: the fuzzer sends hundreds of questions a minute from one address.
    config = Settings(home=home, rate_per_ip=10**6, rate_per_session=10**6, rate_per_bot=10**6)
    runtime = Runtime.build(config, embedders=embedders)
    # A bot the fuzzer switches to the bundled model must not start a llama.cpp server.
    runtime.models.local_model.ensure_started = _no_local_model  # type: ignore[method-assign]
    app = create_app(config, runtime=runtime)
    with TestClient(app) as client:
        admin = bearer(runtime.admin_token)
        client.headers.update(admin)
        ids = _real_objects(client)
        publishable = new_key(client, ids["bot_id"], "publishable")
        session = widget_session(client, ids["bot_id"], publishable)["token"]
        credentials = {
            "admin token": admin,
            "no credential": {},
            "publishable key": {**bearer(publishable), "Origin": ORIGIN},
            "secret key": bearer(new_key(client, ids["bot_id"])),
            "widget session": {**bearer(session), "Origin": ORIGIN},
        }
        yield Target(client, schemathesis.openapi.from_dict(app.openapi()), ids, credentials)


def _no_local_model() -> str:
    raise LocalModelError("the bundled model is not started while fuzzing")


def _real_objects(client: TestClient) -> dict[str, str]:
    bot_id = published_bot(client, "Fuzzed shop")
    secret = new_key(client, bot_id)
    # Asked before the bot has documents: the fallback answers, no model is called.
    asked = client.post(f"/v1/bots/{bot_id}/chat", json={"message": "where is my parcel?"}, headers=bearer(secret))
    assert asked.status_code == 200, asked.text
    upload = client.post(
        f"/admin/bots/{bot_id}/documents",
        files=[
            ("files", ("returns.md", io.BytesIO(b"# Returns\n\nReturns are free within 30 days."), "text/markdown"))
        ],
    )
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["job_id"]
    deadline = time.monotonic() + 60
    while (job := client.get(f"/admin/jobs/{job_id}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    documents = client.get(f"/admin/bots/{bot_id}/documents").json()["documents"]
    corrected = client.post(
        f"/admin/bots/{bot_id}/corrected-answers",
        json={"question": "Are returns free?", "answer": "Yes, within 30 days."},
    )
    assert corrected.status_code == 201, corrected.text
    keys = client.get(f"/admin/bots/{bot_id}/keys").json()["keys"]
    return {
        "bot_id": bot_id,
        "model": bot_id,
        "doc_id": documents[0]["id"],
        "job_id": job_id,
        "conversation_id": asked.json()["conversation_id"],
        "message_id": asked.json()["message_id"],
        "answer_id": corrected.json()["id"],
        "key_id": keys[0]["id"],
        "number": "1",
    }


def operations(target: Target) -> list[Any]:
    """Every operation of the document but SKIPPED; deletions last, so the objects the other
    operations are pointed at still exist when they run."""
    found = [op.ok() for op in target.schema.get_all_operations()]
    found = [op for op in found if (op.method.upper(), op.path) not in SKIPPED]
    return sorted(found, key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))


def needs_admin(op: Any) -> bool:
    return op.path.startswith("/admin") and (op.method.upper(), op.path) not in PUBLIC


def fuzz_operation(
    target: Target,
    op: Any,
    credential: str,
    *,
    examples: int,
    derandomize: bool,
    expect: Callable[[Any, Any], str | None] | None = None,
) -> list[str]:
    """Send `examples` generated requests to `op` as `credential`; the problems found, one
    line each (empty: none)."""
    problems: list[str] = []
    headers = target.credentials[credential]
    # Deletes never get the real bot: the other operations (and the next runs) need it.
    real_ids = {k: v for k, v in target.ids.items() if not (op.method.upper() == "DELETE" and k == "bot_id")}

    @settings(
        max_examples=examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # report, don't shrink: keeps runs bounded
        suppress_health_check=list(HealthCheck),
    )
    # Inverted so the first (simplest) example of a derandomized run uses the real ids.
    @given(case=op.as_strategy(), use_real=st.booleans().map(lambda fake: not fake))
    def run(case, use_real):
        if use_real and case.path_parameters:
            case.path_parameters = {k: real_ids.get(k, v) for k, v in case.path_parameters.items()}
        response = send(target.client, case, headers)
        problem = server_fault(response)
        if problem is None and expect is not None:
            problem = expect(op, response)
        if problem is None:  # errors too: a documented 422 must be the body a client gets
            problem = schema_problem(case, response)
        if problem is not None:
            problems.append(f"{credential}: {op.method.upper()} {case.formatted_path} → {problem}")

    run()
    return problems


def send(client: TestClient, case: Any, credential: dict[str, str]):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in ("authorization", "origin")}
    # The client's own default is the admin token: always replaced by the credential under test.
    headers = {"Authorization": "", **headers, **credential}
    if not credential:
        headers.pop("Authorization")
    if cookies := kwargs.get("cookies"):
        # httpx deprecates per-request cookies (and the suite fails on warnings): sent as a header.
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request = {k: kwargs[k] for k in ("params", "json", "data", "files", "content") if k in kwargs}
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")  # httpx's name for a raw body
    with _anonymous(client, bool(credential)):
        return client.request(kwargs["method"], kwargs["url"], headers=headers, **request)


@contextmanager
def _anonymous(client: TestClient, keep: bool) -> Iterator[None]:
    saved = client.headers.get("Authorization")
    if not keep and saved is not None:
        del client.headers["Authorization"]
    try:
        yield
    finally:
        if saved is not None:
            client.headers["Authorization"] = saved


def server_fault(response) -> str | None:
    status = response.status_code
    if status < 500:
        return None
    try:
        error = response.json()["error"]
    except Exception:
        return f"{status} without the error envelope: {response.text[:300]!r}"
    if status in MODEL_FAILURES and str(error.get("code", "")).startswith(("model_", "retrieval_")):
        return None
    return f"{status} {error.get('code')}: {error.get('message', '')[:300]}"


def schema_problem(case: Any, response) -> str | None:
    try:
        case.validate_response(response, checks=[response_schema_conformance])
    except FailureGroup as failures:
        return "response breaks its schema: " + "; ".join(_one_line(f) for f in failures.exceptions)
    except AssertionError as failure:
        return f"response breaks its schema: {str(failure)[:300]}"
    return None


def _one_line(failure: BaseException) -> str:
    text = " ".join(str(failure).split())
    return text[:600]


def refused_without(credential: str) -> Callable[[Any, Any], str | None]:
    """The check for a caller that is not the admin: admin routes answer 401/403, and with no
    credential at all the public API does too."""

    def check(op: Any, response) -> str | None:
        public = (op.method.upper(), op.path) in PUBLIC
        guarded = needs_admin(op) or (credential == "no credential" and op.path.startswith("/v1") and not public)
        # 404: a bot id that does not exist is said so before the credential is asked for.
        if guarded and response.status_code not in (401, 403, 404):
            return f"reachable without the credential it needs: {response.status_code} {response.text[:200]!r}"
        return None

    return check
