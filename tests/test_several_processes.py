"""Several server processes sharing one Postgres, one Chroma server and one data folder
(issue #17): two `prompteur serve` replicas, as a load balancer would spread requests over
them, and `prompteur serve --workers 2`. The model is the scripted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bots.store import tables as t
from bots.store.db import make_engine, session_factory
from tests.conftest import ROOT, LiveServer, free_port, seed_database, wait_ingested
from tests.public_api_support import FIXTURES, ORIGIN, bearer, parse_sse, publishable_key, secret_key, spec_for
from tests.scripted_openai import Reply, ScriptedOpenAI

LOGINS = 6  # sign-in attempts a minute for one name, whichever process they reach


class Replicas:
    def __init__(self, a: LiveServer, b: LiveServer, database_url: str, model: ScriptedOpenAI, bot: str):
        self.a, self.b, self.database_url, self.model, self.bot = a, b, database_url, model, bot

    def admin(self, server: LiveServer) -> httpx.Client:
        return httpx.Client(base_url=server.url, headers=bearer(server.admin_token), timeout=60)

    def session(self, server: LiveServer) -> dict:
        with self.admin(server) as api:
            pk = publishable_key(api, self.bot)
        r = httpx.post(f"{server.url}/v1/bots/{self.bot}/sessions", json={}, headers={**bearer(pk), "Origin": ORIGIN})
        assert r.status_code == 200, r.text
        return r.json()

    def messages(self, conversation_id: str) -> list[t.Message]:
        engine = make_engine(self.database_url)
        try:
            with session_factory(engine)() as s:
                return list(
                    s.scalars(
                        select(t.Message)
                        .where(t.Message.conversation_id == conversation_id)
                        .order_by(t.Message.created_at)
                    )
                )
        finally:
            engine.dispose()


def _server_env(home: Path, database_url: str, chroma_url: str, **extra: str) -> dict[str, str]:
    """The replicas' environment: this test's stores only, whatever the test process holds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTEUR_")}
    return {
        **env,
        "PROMPTEUR_HOME": str(home),
        "PROMPTEUR_DATABASE_URL": database_url,
        "PROMPTEUR_CHROMA_URL": chroma_url,
        "PROMPTEUR_LOGIN_ATTEMPTS_PER_MINUTE": str(LOGINS),
        "PROMPTEUR_RATE_PER_IP": "1000",  # every request of this module comes from 127.0.0.1
        **extra,
    }


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, postgres_cluster, postgres_template, chroma_server) -> Iterator[Replicas]:
    home = tmp_path_factory.mktemp("replicas") / "home"
    database_url = postgres_cluster.create_database(template=postgres_template)
    model = ScriptedOpenAI().start()
    # Only A ingests, so the tests know which process did (jobs shared by leases: test_leases.py).
    a = LiveServer(home, process=True)
    a.env = _server_env(home, database_url, chroma_server)
    b = LiveServer(home, process=True)
    b.env = _server_env(home, database_url, chroma_server, PROMPTEUR_INGEST_WORKERS="0")
    # Started together: each is an interpreter importing the whole stack (up to minutes on a
    # busy 2-core machine), and neither needs the other to start.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda server: server.start(timeout=300), (a, b)))
    try:
        with httpx.Client(base_url=a.url, headers=bearer(a.admin_token), timeout=120) as api:
            bot = api.post("/admin/bots", json={"name": "Shop", "spec": spec_for(model.base_url)}).json()["id"]
            with (FIXTURES / "shop_help.md").open("rb") as f:
                job = api.post(f"/admin/bots/{bot}/documents", files=[("files", ("shop_help.md", f))]).json()
            assert wait_ingested(api, job["job_id"])["status"] == "done"
            assert api.post(f"/admin/bots/{bot}/versions", json={"note": "first"}).status_code == 201
        for server in (a, b):  # each loads its embedding model on its first search: not in a test
            with httpx.Client(base_url=server.url, headers=bearer(server.admin_token), timeout=300) as api:
                assert api.post(f"/admin/bots/{bot}/search", json={"query": "refund", "k": 1}).status_code == 200
        yield Replicas(a, b, database_url, model, bot)
    finally:
        a.stop()
        b.stop()
        model.close()


def _stream(server: LiveServer, bot: str, token: str, message: str, **headers: str) -> list[tuple[str, dict]]:
    r = httpx.post(
        f"{server.url}/v1/bots/{bot}/chat",
        json={"message": message, "stream": True},
        headers={**bearer(token), **headers},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


def test_tokens_and_widget_sessions_made_on_one_process_work_on_the_other(replicas):
    a, b, bot = replicas.a, replicas.b, replicas.bot
    with replicas.admin(a) as api:
        person = api.post("/admin/tokens", json={"name": "ci"}).json()["token"]
    assert httpx.get(f"{b.url}/admin/bots", headers=bearer(person)).status_code == 200
    assert httpx.get(f"{b.url}/admin/bots", headers=bearer(replicas.a.admin_token)).status_code == 200

    session = replicas.session(a)  # opened on A, asked on B: the session secret is shared
    replicas.model.replies.clear()  # what an earlier failed test left
    replicas.model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    events = _stream(b, bot, session["token"], "Can I return an item?", Origin=ORIGIN)
    assert [e for e, _ in events][0] == "start" and events[-1][0] == "done", events
    assert "30 days" in events[-1][1]["text"]
    history = httpx.get(
        f"{a.url}/v1/bots/{bot}/conversations/{session['conversation_id']}", headers=bearer(session["token"])
    )
    assert [m["role"] for m in history.json()["messages"]] == ["user", "assistant"]


def test_a_rate_limit_holds_for_the_total_of_every_process(replicas):
    """Sign-in attempts for one name, alternating between the processes. Each process with
    its own buckets would let LOGINS through, 2 × LOGINS in all."""
    statuses = []
    started = time.monotonic()
    for i in range(2 * LOGINS):
        server = (replicas.a, replicas.b)[i % 2]
        r = httpx.post(f"{server.url}/admin/login", json={"name": "nobody", "password": "guess"}, timeout=60)
        statuses.append(r.status_code)
    elapsed = time.monotonic() - started
    assert set(statuses) == {401, 429}, statuses
    assert statuses[:LOGINS] == [401] * LOGINS
    # A bucket refills evenly over the minute: a slow run may earn a few attempts back.
    assert statuses.count(401) <= LOGINS + int(elapsed * LOGINS / 60), (statuses, elapsed)
    assert elapsed < 50, "too slow a run to tell a shared limit from two"
    assert int(r.headers["retry-after"]) >= 1


def test_one_request_sent_to_two_processes_at_once_is_answered_once(replicas):
    with replicas.admin(replicas.a) as api:
        key = secret_key(api, replicas.bot)

    def slow():  # long enough for both requests to arrive while it is being answered
        yield "Returns are free within 30 days."
        for i in range(8):
            time.sleep(0.15)
            yield f" Detail {i}."

    # One reply only: a second model call would get the scripted server's 500.
    replicas.model.replies.clear()
    replicas.model.queue(Reply.stream(slow()))
    results: dict[str, httpx.Response] = {}

    def send(name: str, server: LiveServer) -> None:
        results[name] = httpx.post(
            f"{server.url}/v1/bots/{replicas.bot}/chat",
            json={"message": "Are returns free?"},
            headers={**bearer(key), "Idempotency-Key": "order-42-question"},
            timeout=120,
        )

    threads = [threading.Thread(target=send, args=(n, s)) for n, s in (("a", replicas.a), ("b", replicas.b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses in ([200, 200], [200, 409]), {n: r.text for n, r in results.items()}
    answered = [r.json() for r in results.values() if r.status_code == 200]
    conflict = [r.json() for r in results.values() if r.status_code == 409]
    assert all(c["error"]["code"] == "request_in_progress" for c in conflict)
    # The retry, wherever it lands, replays the one stored answer.
    retry = httpx.post(
        f"{replicas.b.url}/v1/bots/{replicas.bot}/chat",
        json={"message": "Are returns free?"},
        headers={**bearer(key), "Idempotency-Key": "order-42-question"},
        timeout=60,
    ).json()
    assert {a["message_id"] for a in answered} == {retry["message_id"]}
    messages = replicas.messages(retry["conversation_id"])
    assert [(m.role, m.error) for m in messages] == [("user", None), ("assistant", None)]


def test_a_knowledge_change_through_one_process_is_searched_by_the_other_at_once(replicas):
    a, b, bot = replicas.a, replicas.b, replicas.bot
    with replicas.admin(a) as on_a, replicas.admin(b) as on_b:
        query = {"query": "What is the colour of the loyalty card?", "k": 3}
        before = on_b.post(f"/admin/bots/{bot}/search", json=query).json()["hits"]  # B's snapshot is warm
        assert all(h["source"] != "loyalty.txt" for h in before)
        files = [("files", ("loyalty.txt", b"The loyalty card is turquoise and gives 5% off every order."))]
        job = on_a.post(f"/admin/bots/{bot}/documents", files=files).json()["job_id"]
        assert wait_ingested(on_a, job)["status"] == "done"
        after = on_b.post(f"/admin/bots/{bot}/search", json=query).json()["hits"]
        assert after[0]["source"] == "loyalty.txt"
        assert on_a.delete(f"/admin/bots/{bot}/documents/{_document_id(on_a, bot, 'loyalty.txt')}").status_code in (
            200,
            202,
            204,
        )
        gone = on_b.post(f"/admin/bots/{bot}/search", json=query).json()["hits"]
        assert all(h["source"] != "loyalty.txt" for h in gone)


def _document_id(api: httpx.Client, bot: str, source: str) -> str:
    docs = api.get(f"/admin/bots/{bot}/documents").json()["documents"]
    return next(d["id"] for d in docs if d["source"] == source)


def test_a_process_killed_mid_stream_ends_the_stream_and_the_other_answers_next(replicas):
    """Last in the module: it kills B."""
    a, b, bot = replicas.a, replicas.b, replicas.bot
    session = replicas.session(a)

    def paced():  # grounded in shop_help.md: the groundedness guard lets it through
        yield "Unused items can be returned within 30 days of delivery for a full refund [1]."
        for _ in range(60):
            time.sleep(0.2)
            yield " Keep the parcel unopened."

    replicas.model.replies.clear()
    replicas.model.queue(Reply.stream(paced()))
    seen: list[str] = []
    events: list[str] = []
    started = time.monotonic()
    killed_at = None
    with httpx.stream(
        "POST",
        f"{b.url}/v1/bots/{bot}/chat",
        json={"message": "When do refunds arrive?", "stream": True},
        headers=bearer(session["token"]),
        timeout=httpx.Timeout(30, read=10),
    ) as r:
        assert r.status_code == 200
        try:
            for line in r.iter_lines():
                if line.startswith("event: "):
                    events.append(line[7:])
                if line.startswith("data: ") and events[-1] == "delta":
                    seen.append(json.loads(line[6:])["text"])
                # Past the first progress save (a second after answering starts): kill.
                if killed_at is None and time.monotonic() - started > 2.5 and len(seen) >= 3:
                    b.kill()  # SIGKILL: no `finally` of the server runs
                    killed_at = time.monotonic()
        except httpx.RemoteProtocolError:
            pass  # the connection closed mid-body: a clean end for a client
    assert killed_at is not None, "the stream ended before the kill"
    assert time.monotonic() - killed_at < 5, "the client was left hanging"
    assert "done" not in events

    question, answer = replicas.messages(session["conversation_id"])
    assert answer.role == "assistant" and answer.partial and answer.error == "unfinished"
    # What the customer saw, up to the last save (every second) before the kill.
    assert answer.content and "".join(seen).startswith(answer.content), (answer.content, seen)

    replicas.model.replies.clear()
    replicas.model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    events = _stream(a, bot, session["token"], "Can I return an item for a refund?")
    assert events[-1][0] == "done" and "30 days" in events[-1][1]["text"], events
    roles = [(m.role, m.error) for m in replicas.messages(session["conversation_id"])]
    assert roles == [("user", None), ("assistant", "unfinished"), ("user", None), ("assistant", None)]


# --- prompteur serve --workers N ------------------------------------------------------------


def _serve(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bots.cli.main", "serve", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers are stopped with it
        )


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def _established_ports(pid: int, server_port: int) -> set[int]:
    """The client ports of the TCP connections `pid` holds to its listening port."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        local, remote, state, inode = cols[1], cols[2], cols[3], cols[9]
        if inode in inodes and state == "01" and int(local.split(":")[1], 16) == server_port:
            ports.add(int(remote.split(":")[1], 16))
    return ports


def test_serve_with_two_workers_starts_two_processes_that_both_answer(
    tmp_path, migrated_database, chroma_server, isolated_home
):
    seed_database(isolated_home, migrated_database)  # SQLite (WAL, busy timeout) is fine for workers
    port = free_port()
    env = _server_env(isolated_home, f"sqlite:///{isolated_home / 'prompteur.db'}", chroma_server)
    proc = _serve(env, "--workers", "2", "--port", str(port), log=tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 240  # three interpreters importing the stack on a busy machine
        while len(workers := _workers(proc.pid)) < 2 or not _healthy(port):
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.2)
        token = (isolated_home / "admin_token").read_text().strip()
        # Each client keeps its connection open: the kernel hands new connections to either
        # worker. Ask until both hold one that has been answered.
        clients = []
        answered: set[int] = set()
        while answered != set(workers):
            assert len(clients) < 40, f"only workers {answered} of {workers} answered"
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=bearer(token))
            clients.append(client)
            assert client.get("/admin/bots").status_code == 200
            time.sleep(0.05)
            answered = {w for w in workers if any(_established_ports(w, port))}
        for client in clients:
            client.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_with_several_workers_refuses_embedded_chroma(isolated_home, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTEUR_")}
    result = subprocess.run(
        [sys.executable, "-m", "bots.cli.main", "serve", "--workers", "3"],
        env={**env, "PROMPTEUR_HOME": str(isolated_home)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "PROMPTEUR_CHROMA_URL" in result.stderr and "Chroma server" in result.stderr
    assert not (isolated_home / "prompteur.db").exists(), "nothing was created before refusing"


def test_replicas_starting_together_migrate_a_new_postgres_database_once(postgres_cluster):
    """Two processes migrating one empty database at once: without the advisory lock, the
    second failed creating the tables the first had just created."""
    url = postgres_cluster.create_database()
    script = "import sys; from bots.store.db import make_engine, migrate; migrate(make_engine(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
