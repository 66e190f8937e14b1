"""Held in the review: secrets never leave in a response, an export or a log line. After
creating keys, giving a bot a provider key and chatting (answered, failed, streamed, through
every channel), no GET route's body, no export (CSV or JSON) and no line the server logged
holds the admin token, a full sk_/pk_ key or the provider key."""

from __future__ import annotations

import time

import httpx

from tests.public_api_support import ORIGIN, make_bot, publishable_key, secret_key, spec_for
from tests.scripted_openai import Reply, ScriptedOpenAI
from tests.security.app_routes import filled, operations

PROVIDER_KEY = "sk-provider-secret-123"  # what tests.public_api_support.spec_for gives the bot


def test_no_response_export_or_log_line_holds_a_secret(process_server):
    model = ScriptedOpenAI().start()
    try:
        with httpx.Client(
            base_url=process_server.url, headers={"Authorization": f"Bearer {process_server.admin_token}"}, timeout=120
        ) as admin:
            bot = make_bot(admin, model.base_url)
            assert spec_for(model.base_url)["model"]["api_key"] == PROVIDER_KEY
            secret, publishable = secret_key(admin, bot), publishable_key(admin, bot)
            secrets = {
                "admin token": process_server.admin_token,
                "sk_": secret,
                "pk_": publishable,
                "provider": PROVIDER_KEY,
            }
            ids = _chat_every_way(process_server.url, bot, secret, publishable, model)
            bodies = _every_get(admin, bot, ids) + _public_gets(process_server.url, bot, secret, ids)
    finally:
        model.close()
    process_server.stop()  # flushes the log
    log = (process_server.home.parent / f"server-{process_server.port}.log").read_text(errors="replace")

    assert len(bodies) >= 20 and "Refunds take 5 business days" in "".join(b for _, b in bodies)
    assert "POST /v1/bots" in log, "the log holds the requests: the check below reads something"
    for name, value in secrets.items():
        assert [where for where, body in bodies if value in body] == [], f"{name} in a response"
        assert value not in log, f"{name} in the server log: " + next(
            line for line in log.splitlines() if value in line
        )


def _chat_every_way(url: str, bot: str, secret: str, publishable: str, model: ScriptedOpenAI) -> dict:
    model.queue(
        Reply.answer("Refunds take 5 business days [1]."),
        Reply.error(401, "invalid api key"),
        Reply.answer("Standard delivery takes 3 to 5 business days [1]."),
        Reply.answer("Unused items can be returned within 30 days [1]."),
    )
    with httpx.Client(base_url=url, timeout=120) as client:
        key = {"Authorization": f"Bearer {secret}"}
        answered = client.post(f"/v1/bots/{bot}/chat", json={"message": "How long does the refund take?"}, headers=key)
        assert answered.status_code == 200, answered.text
        failed = client.post(f"/v1/bots/{bot}/chat", json={"message": "How long does delivery take?"}, headers=key)
        assert failed.status_code >= 500, failed.text  # the provider refused the bot's key
        session = client.post(
            f"/v1/bots/{bot}/sessions", json={}, headers={"Authorization": f"Bearer {publishable}", "Origin": ORIGIN}
        ).json()
        streamed = client.post(
            f"/v1/bots/{bot}/chat",
            json={"message": "How long does delivery take?", "stream": True},
            headers={"Authorization": f"Bearer {session['token']}"},
        )
        assert streamed.status_code == 200 and "event: done" in streamed.text, streamed.text
        completion = client.post(
            "/v1/chat/completions",
            json={"model": bot, "messages": [{"role": "user", "content": "Can I return an item?"}]},
            headers=key,
        )
        assert completion.status_code == 200, completion.text
        message = answered.json()["message_id"]
        rated = client.post(f"/v1/bots/{bot}/messages/{message}/feedback", json={"rating": "up"}, headers=key)
        assert rated.status_code == 204, rated.text
        # A hand-off request, so the inbox's routes have one to show.
        handoff = client.post(
            f"/v1/bots/{bot}/conversations/{session['conversation_id']}/handoff",
            json={"name": "Ana", "email": "ana@example.com", "message": "Call me."},
            headers={"Authorization": f"Bearer {session['token']}"},
        )
        assert handoff.status_code == 201, handoff.text
    return {
        "conversation_id": answered.json()["conversation_id"],
        "message_id": message,
        "handoff_id": handoff.json()["id"],
    }


def _every_get(admin: httpx.Client, bot: str, ids: dict) -> list[tuple[str, str]]:
    documents = admin.get(f"/admin/bots/{bot}/documents").json()["documents"]
    jobs = admin.get(f"/admin/bots/{bot}/jobs").json()["jobs"]
    # A test set and a finished run, so the evaluation routes have something to show too.
    cases = '{"question": "How long does the refund take?"}\n'
    imported = admin.put(f"/admin/bots/{bot}/test-sets/smoke", json={"format": "jsonl", "content": cases})
    assert imported.status_code == 200, imported.text
    run = admin.post(f"/admin/bots/{bot}/eval-runs", json={"version": "draft"}).json()
    deadline = time.monotonic() + 60
    while admin.get(f"/admin/bots/{bot}/eval-runs/{run['run_id']}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the evaluation run did not finish"
        time.sleep(0.2)
    # A web source (whose sync fails at once: .invalid never resolves) for the web routes.
    web = admin.post(f"/admin/bots/{bot}/web-sources", json={"url": "https://help.example.invalid/"}).json()
    while admin.get(f"/admin/bots/{bot}/web-syncs/{web['sync_id']}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "the web sync did not finish"
        time.sleep(0.2)
    ids = {**ids, "source_id": web["source"]["id"], "sync_id": web["sync_id"]}
    # A corrected answer and an experiment (retrieval only changes), for their routes.
    corrected = admin.post(
        f"/admin/bots/{bot}/corrected-answers",
        json={"question": "Do you ship abroad?", "answer": "We ship within the EU."},
    )
    assert corrected.status_code in (200, 201), corrected.text
    experiment = admin.post(
        f"/admin/bots/{bot}/experiments",
        json={"set": "smoke", "variants": [{"name": "k3", "retrieval": {"k": 3}}], "wait": True},
    )
    assert experiment.status_code == 202, experiment.text
    ids |= {"answer_id": corrected.json()["id"], "experiment_id": experiment.json()["experiment_id"]}
    values = {"bot_id": bot, "doc_id": documents[0]["id"], "job_id": jobs[0]["id"], "number": "1", **ids}
    values |= {"name": "smoke", "run_id": run["run_id"], "run_a": run["run_id"], "run_b": run["run_id"]}
    bodies = []
    for method, path, _ in operations(admin.get("/openapi.json").json()):
        if method != "get" or not path.startswith("/admin"):
            continue
        response = admin.get(filled(path, **values))
        assert response.status_code == 200, (path, response.text)
        bodies.append((path, response.text))
    for fmt in ("csv", "json"):
        bodies.append((f"export {fmt}", admin.get(f"/admin/bots/{bot}/export", params={"format": fmt}).text))
    return bodies


def _public_gets(url: str, bot: str, secret: str, ids: dict) -> list[tuple[str, str]]:
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {secret}"}) as client:
        paths = [
            f"/v1/bots/{bot}/config",
            f"/v1/bots/{bot}/conversations/{ids['conversation_id']}",
            f"/chat/{bot}",
            "/v1/models",
            "/widget.js",
            "/openapi.json",
        ]
        return [(path, client.get(path).text) for path in paths]
