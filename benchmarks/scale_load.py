"""Scale-out load (issue #17, "Load"): concurrent widget conversations streaming against 1, 2
and 4 server processes, on SQLite and on Postgres (both with a Chroma server), and against
the single-process embedded setup (SQLite + embedded Chroma, plain `prompteur serve`)
measured in the same run as the reference; then a soak at steady load and chat latency while
documents are ingested.

The bot's model is `benchmarks.steady_model`: a fast OpenAI-compatible server streaming a
fixed answer with fixed delays, so "added by Prompteur" = measured minus the model's own
time. Each conversation is a widget visitor: a publishable key opens a widget session, whose
token then asks question after question (`POST /v1/bots/{bot}/chat`, stream=true, with the
page's Origin), each as soon as the previous answer ended.

The public rate limits are raised for the run: answering 429 to a client this fast is their
job, not what is measured. On one machine the load generator and the servers share the CPU:
on 2 cores this measures both together, and scaling past the cores cannot show.

    python -m benchmarks.scale_load [--quick] [--conversations 200] [--seconds 120]
        [--workers 1,2,4] [--backends embedded,sqlite,postgres] [--soak-seconds 600]
        [--ingest-docs 1000] [--out scale_load]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from benchmarks import process_stats
from benchmarks.eval_sets import REPO
from benchmarks.load import free_port, sse_events
from benchmarks.report import arguments, table, write_json
from benchmarks.steady_model import SteadyModel

KNOWLEDGE = REPO / "tests" / "fixtures" / "shop_help.md"
ORIGIN = "https://shop.example"
# Questions the shop's document answers (the steady model's answer is about returns): the
# relevance gate lets them through, so each is a model answer, not a fallback.
QUESTIONS = [
    "Can I return an item for a refund?",
    "How long do I have to return something?",
    "When will I get my refund?",
    "How do refunds work?",
    "What is your return policy for unused items?",
]
HIGH_LIMITS = {
    "PROMPTEUR_RATE_PER_IP": "10000000",
    "PROMPTEUR_RATE_PER_SESSION": "10000000",
    "PROMPTEUR_RATE_PER_BOT": "10000000",
}
GRACE_S = 120
QUESTIONS_PER_VISIT = 5
# An idle worker holds ~150 MB; with MiniLM (torch) loaded, over 600 MB.
LOADED_WORKER_MB = 400  # how long answers started before the deadline may take to finish


# --- the servers ---------------------------------------------------------------------------


@dataclass
class Backend:
    """One home (and database): bots built once, served by 1, 2, 4 workers in turn."""

    name: str  # embedded | sqlite | postgres
    home: Path
    env: dict[str, str]
    bot_id: str = ""
    key: str = ""  # the publishable key


class Launched:
    """A running server: the process (group) and where it listens."""

    def __init__(self, backend: Backend, workers: int | None, log: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        env = {
            **os.environ,
            **HIGH_LIMITS,
            **backend.env,
            "PROMPTEUR_HOME": str(backend.home),
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            launch_command(port, workers),
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped with every worker
        )
        self.log = log
        self.workers = workers or 1
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the server did not start; see {log}")

    def processes(self) -> list[int]:
        """The server's pid and its children's (uvicorn's supervisor and its workers)."""
        return process_stats.tree(self.proc.pid)

    def worker_pids(self) -> list[int]:
        """The processes that answer: the server itself, or uvicorn's spawned workers."""
        if self.workers == 1:  # uvicorn runs one worker in its own process, as `prompteur serve`
            return [self.proc.pid]
        return [pid for pid in self.processes() if "spawn_main" in process_stats.command(pid)]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()


def launch_command(port: str, workers: int | None) -> list[str]:
    """The one place that knows how servers start. `workers=None`: plain `prompteur serve`,
    the single-process setup; otherwise `prompteur serve --workers N`."""
    serve = [sys.executable, "-m", "bots.cli.main", "serve", "--port", port]
    return serve if workers is None else [*serve, "--workers", str(workers)]


def admin(server: Launched, home: Path) -> httpx.Client:
    token = (home / "admin_token").read_text().strip()
    return httpx.Client(base_url=server.url, timeout=300, headers={"Authorization": f"Bearer {token}"})


def build_bot(client: httpx.Client, model_url: str, name: str, files: list[Path], publish: bool = True) -> str:
    spec = {
        "persona": {"role": "the help assistant", "company": "Shop"},
        "model": {"provider": "openai_compatible", "base_url": model_url, "model": "steady", "max_retries": 0},
        "allowed_origins": [ORIGIN],
    }
    created = client.post("/admin/bots", json={"name": name, "spec": spec})
    created.raise_for_status()
    bot_id = created.json()["id"]
    if files:
        wait_jobs(client, upload(client, bot_id, files))
    if publish:
        client.post(f"/admin/bots/{bot_id}/versions", json={"note": "load"}).raise_for_status()
    return bot_id


def upload(client: httpx.Client, bot_id: str, files: list[Path], batch: int = 25) -> list[str]:
    jobs = []
    for i in range(0, len(files), batch):
        handles = [(p.name, p.read_bytes()) for p in files[i : i + batch]]
        res = client.post(f"/admin/bots/{bot_id}/documents", files=[("files", h) for h in handles])
        res.raise_for_status()
        jobs.append(res.json()["job_id"])
    return jobs


def wait_jobs(client: httpx.Client, jobs: list[str], progress: bool = False) -> None:
    started = time.perf_counter()
    for n, job_id in enumerate(jobs, 1):
        while (job := client.get(f"/admin/jobs/{job_id}").json())["status"] not in ("done", "failed"):
            time.sleep(0.5)
        if job["status"] != "done":
            raise RuntimeError(f"ingestion failed: {job}")
        if progress:
            print(
                f"[scale_load] ingestion: job {n}/{len(jobs)} done, {time.perf_counter() - started:.0f} s", flush=True
            )


# --- the load --------------------------------------------------------------------------------


async def ask(client: httpx.AsyncClient, bot_id: str, token: str, question: str) -> dict:
    """One streamed answer, read event by event as the widget does."""
    started = time.perf_counter()
    record: dict = {"started": started, "question": question}
    try:
        async with client.stream(
            "POST",
            f"/v1/bots/{bot_id}/chat",
            json={"message": question, "stream": True},
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
        ) as res:
            if res.status_code != 200:
                record["error"] = f"http {res.status_code}: {(await res.aread())[:200]!r}"
                return record
            async for event, data in sse_events(res):
                if event == "delta":
                    record.setdefault("ttft_s", time.perf_counter() - started)
                elif event == "done":
                    record.update(
                        total_s=time.perf_counter() - started,
                        by_model=data.get("answered_by") == "model",
                        conversation_id=data["conversation_id"],
                        text=data["text"],
                    )
                elif event == "error":
                    record["error"] = f"{data['code']}: {data['message']}"
    except httpx.HTTPError as err:
        record["error"] = f"{type(err).__name__}: {err}"
    if "total_s" not in record and "error" not in record:
        record["error"] = "the stream ended without a done event"
    record["ended"] = time.perf_counter()
    return record


async def visitor(client: httpx.AsyncClient, backend: Backend, stop: Callable[[], bool], seed: int) -> list[dict]:
    """Visit after visit: a widget session, a few questions, then the next visitor. One
    endless conversation would run into the conversation length limit (409), which is not
    what is measured."""
    rng = random.Random(seed)
    records: list[dict] = []
    while not stop():
        try:
            opened = await client.post(
                f"/v1/bots/{backend.bot_id}/sessions",
                json={},
                headers={"Authorization": f"Bearer {backend.key}", "Origin": ORIGIN},
            )
        except httpx.HTTPError as err:  # a dropped connection is an error to count, not the end of the run
            records.append({"error": f"session: {type(err).__name__}: {err}", "started": time.perf_counter()})
            await asyncio.sleep(1)
            continue
        if opened.status_code != 200:
            records.append({"error": f"session: http {opened.status_code}", "started": time.perf_counter()})
            continue
        session = opened.json()
        for _ in range(QUESTIONS_PER_VISIT):
            if stop():
                break
            record = await ask(client, backend.bot_id, session["token"], rng.choice(QUESTIONS))
            record["session_conversation"] = session["conversation_id"]
            records.append(record)
    return records


async def drive(url: str, backend: Backend, conversations: int, stop: Callable[[], bool]) -> tuple[list[dict], float]:
    limits = httpx.Limits(max_connections=conversations + 10, max_keepalive_connections=conversations + 10)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(GRACE_S, connect=30), limits=limits) as client:
        started = time.perf_counter()
        runs = await asyncio.gather(*(visitor(client, backend, stop, seed) for seed in range(conversations)))
        return [r for run in runs for r in run], time.perf_counter() - started


def for_seconds(seconds: float) -> Callable[[], bool]:
    deadline = time.perf_counter() + seconds
    return lambda: time.perf_counter() >= deadline


def warm_up(server: Launched, backend: Backend) -> None:
    """Each worker loads its embedding model on its first question: that is start-up, not
    load. Which worker takes a connection is the kernel's choice, so questions are asked
    until every worker's memory shows the model loaded (or a few minutes passed)."""
    deadline = time.monotonic() + 300
    n = 4 * server.workers
    while True:
        asked = {"n": 0}

        def stop() -> bool:
            asked["n"] += 1
            return asked["n"] > 2 * n  # each visitor asks about twice

        records, _ = asyncio.run(drive(server.url, backend, n, stop))
        errors = [r["error"] for r in records if "error" in r]
        if errors:
            print(f"[scale_load] warm-up errors: {errors[:3]}", flush=True)
        cold = [pid for pid in server.worker_pids() if process_stats.rss_mb(pid) < LOADED_WORKER_MB]
        if not cold:
            return
        if time.monotonic() > deadline:
            print(f"[scale_load] workers {cold} still without their embedding model", flush=True)
            return


# --- measuring -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarize(records: list[dict], wall_s: float, model: SteadyModel) -> dict:
    ok = [r for r in records if "error" not in r]
    by_model = [r for r in ok if r["by_model"]]
    errors: dict[str, int] = {}
    for r in records:
        if "error" in r:
            errors[r["error"][:80]] = errors.get(r["error"][:80], 0) + 1
    # The model's own share is known: what is left is Prompteur's (retrieval, checks, storage, HTTP).
    ttft_added = [(r["ttft_s"] - model.first_token_s) * 1000 for r in by_model if "ttft_s" in r]
    total_added = [(r["total_s"] - model.answer_s) * 1000 for r in by_model]
    return {
        "requests": len(records),
        "answers": len(ok),
        "model_answers": len(by_model),
        "errors": len(records) - len(ok),
        "error_kinds": errors,
        "wall_s": wall_s,
        "answers_per_s": len(ok) / wall_s if wall_s else 0.0,
        **{f"ttft_added_p{q}_ms": pct(ttft_added, q) for q in (50, 95, 99)},
        **{f"total_added_p{q}_ms": pct(total_added, q) for q in (50, 95, 99)},
        "total_p95_ms": pct([r["total_s"] * 1000 for r in ok], 95),
    }


def memory(server: Launched) -> list[dict]:
    out = []
    for pid in server.processes():
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            out.append({"pid": pid, "command": process_stats.command(pid)[:80], "rss_mb": process_stats.rss_mb(pid)})
    return out


def resources(server: Launched) -> dict:
    """Per process: RSS, open files, open sockets (benchmarks.process_stats)."""
    sample: dict = {"t": time.perf_counter(), "processes": {}}
    for pid in server.processes():
        with contextlib.suppress(OSError):
            sample["processes"][pid] = {
                "rss_mb": process_stats.rss_mb(pid),
                "open_files": process_stats.open_files(pid),
                "connections": process_stats.sockets(pid),
            }
    return sample


def slope_per_min(times: list[float], values: list[float]) -> float | None:
    if len(times) < 3:
        return None
    return float(np.polyfit(np.array(times) / 60, np.array(values), 1)[0])


# --- the runs --------------------------------------------------------------------------------


def measure(server: Launched, backend: Backend, conversations: int, seconds: float, model: SteadyModel) -> dict:
    warm_up(server, backend)
    requests_before = model.requests
    records, wall_s = asyncio.run(drive(server.url, backend, conversations, for_seconds(seconds)))
    result = summarize(records, wall_s, model)
    result["model_calls"] = model.requests - requests_before
    result["memory"] = memory(server)
    return result


def soak(server: Launched, backend: Backend, conversations: int, seconds: float, model: SteadyModel) -> dict:
    """Steady load for `seconds`, resources sampled every few seconds; then every answered
    question is looked up in the stored conversations."""
    warm_up(server, backend)
    samples: list[dict] = []
    stop = for_seconds(seconds)

    async def sampler() -> None:
        while not stop():
            samples.append(await asyncio.to_thread(resources, server))
            await asyncio.sleep(min(10.0, max(1.0, seconds / 30)))

    async def both():
        sampling = asyncio.create_task(sampler())
        try:
            return await drive(server.url, backend, conversations, stop)
        finally:
            await sampling

    records, wall_s = asyncio.run(both())
    samples.append(resources(server))
    result = summarize(records, wall_s, model)
    t0 = samples[0]["t"]
    per_process = {}
    for pid in samples[-1]["processes"]:
        series = [(s["t"] - t0, s["processes"][pid]) for s in samples if pid in s["processes"]]
        times = [t for t, _ in series]
        per_process[pid] = {
            "rss_mb_first_last": [series[0][1]["rss_mb"], series[-1][1]["rss_mb"]],
            "rss_slope_mb_per_min": slope_per_min(times, [v["rss_mb"] for _, v in series]),
            "rss_slope_second_half_mb_per_min": slope_per_min(
                times[len(times) // 2 :], [v["rss_mb"] for _, v in series[len(series) // 2 :]]
            ),
            "open_files_first_last_max": _first_last_max([v["open_files"] for _, v in series]),
            "connections_first_last_max": _first_last_max([v["connections"] for _, v in series]),
            # The whole curve: a slope alone does not tell a plateau from a leak.
            "rss_mb_series": [[round(t), round(v["rss_mb"])] for t, v in series],
        }
    result["per_process"] = per_process
    result["samples"] = len(samples)
    with admin(server, backend.home) as client:
        result["lost"] = lost_answers(client, backend.bot_id, records)
    return result


def log_problems(server: Launched, result: dict, lines: int = 30) -> dict:
    """The server's last warnings and errors, kept in the results when a phase had errors: the
    server's log lives in the run's temporary folder, gone when the run ends."""
    if result["errors"]:
        text = server.log.read_text(errors="replace").splitlines()
        result["server_log_problems"] = [
            line[:300] for line in text if " WARNING " in line or " ERROR " in line or "Error" in line
        ][-lines:]
    return result


def _first_last_max(values: list[int]) -> list[int]:
    return [values[0], values[-1], max(values)]


def lost_answers(client: httpx.Client, bot_id: str, records: list[dict]) -> dict:
    """Every answer a visitor received must be stored in its conversation, in order."""
    received: dict[str, list[str]] = {}
    for r in records:
        if "error" not in r:
            received.setdefault(r["conversation_id"], []).append(r["text"])
    missing = 0
    for conversation_id, texts in received.items():
        res = client.get(f"/admin/bots/{bot_id}/conversations/{conversation_id}")
        if res.status_code != 200:
            missing += len(texts)
            continue
        stored = [m["content"] for m in res.json()["messages"] if m["role"] == "assistant" and not m["error"]]
        missing += sum(1 for a, b in zip(texts, stored) if a != b) + max(0, len(texts) - len(stored))
    return {
        "answers_received": sum(len(t) for t in received.values()),
        "conversations": len(received),
        "missing": missing,
    }


def ingest_while_serving(
    server: Launched, backend: Backend, conversations: int, docs: int, model: SteadyModel, work: Path
) -> dict:
    """Chat under load while `docs` small generated documents are ingested into another bot
    through the same server: chat p95 then, against chat p95 with no ingestion."""
    folder = work / "generated_docs"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(docs):
        path = folder / f"note_{i:04d}.md"
        path.write_text(
            f"# Product note {i}\n\nThe model X{i} kettle holds {1 + i % 3} litres and comes in "
            f"{['red', 'blue', 'steel'][i % 3]}. Its warranty lasts {2 + i % 2} years from delivery.\n"
        )
        files.append(path)
    warm_up(server, backend)
    with admin(server, backend.home) as client:
        other = build_bot(client, model.base_url, "Ingested while serving", [], publish=False)
        done = {"flag": False}

        async def run():
            async def ingest() -> float:
                t = time.perf_counter()
                jobs = await asyncio.to_thread(upload, client, other, files)
                await asyncio.to_thread(wait_jobs, client, jobs, True)
                done["flag"] = True
                return time.perf_counter() - t

            ingesting = asyncio.create_task(ingest())
            records, wall_s = await drive(server.url, backend, conversations, lambda: done["flag"])
            return records, wall_s, await ingesting

        records, wall_s, ingest_s = asyncio.run(run())
    result = summarize(records, wall_s, model)
    result.update(docs=docs, ingest_s=ingest_s, docs_per_s=docs / ingest_s)
    return result


def run(args, work: Path, save: Callable[[dict], object]) -> dict:
    """Every setup and phase, in order; `save` is given the results so far after each phase, so
    a run stopped during a long phase keeps what the earlier ones measured."""
    conversations = args.conversations or (20 if args.quick else 200)
    seconds = args.seconds or (15 if args.quick else 120)
    soak_s = args.soak_seconds if args.soak_seconds is not None else (60 if args.quick else 600)
    docs = args.ingest_docs if args.ingest_docs is not None else (100 if args.quick else 1000)
    worker_counts = [int(w) for w in args.workers.split(",")]
    names = args.backends.split(",")

    model = SteadyModel().start()
    stack = contextlib.ExitStack()
    results: dict = {
        "conversations": conversations,
        "seconds": seconds,
        "model": {"first_token_s": model.first_token_s, "answer_s": model.answer_s},
        "launch": "prompteur serve --workers",
        "configs": [],
    }
    try:
        chroma_url = stack.enter_context(chroma_server(work)) if set(names) - {"embedded"} else None
        backends = []
        for name in names:
            env: dict[str, str] = {}
            if name != "embedded":
                env["PROMPTEUR_CHROMA_URL"] = chroma_url or ""
            if name == "postgres":
                env["PROMPTEUR_DATABASE_URL"] = stack.enter_context(postgres_database())
            backends.append(Backend(name, work / name / "home", env))
        for backend in backends:
            backend.home.mkdir(parents=True, mode=0o700)  # private, as the server wants its data
            for workers in [None] if backend.name == "embedded" else worker_counts:
                label = f"{backend.name}, {'1 process' if workers is None else f'{workers} worker(s)'}"
                print(f"[scale_load] {label}: starting", flush=True)
                server = Launched(backend, workers, work / f"{backend.name}-{workers}.log")
                try:
                    if not backend.bot_id:
                        with admin(server, backend.home) as client:
                            backend.bot_id = build_bot(client, model.base_url, "Shop", [KNOWLEDGE])
                            created = client.post(f"/admin/bots/{backend.bot_id}/keys", json={"kind": "publishable"})
                            created.raise_for_status()
                            backend.key = created.json()["key"]
                    result = log_problems(server, measure(server, backend, conversations, seconds, model))
                    result.update(backend=backend.name, workers=workers or 1, single_process=workers is None)
                    results["configs"].append(result)
                    save(results)
                    print(
                        f"[scale_load] {label}: {result['answers_per_s']:.1f} answers/s, {result['errors']} errors",
                        flush=True,
                    )
                    if backend.name == "embedded":
                        if soak_s:
                            print(f"[scale_load] soak, {soak_s:.0f} s", flush=True)
                            measured = soak(server, backend, conversations, soak_s, model)
                            results["soak"] = log_problems(server, measured) | {"backend": label}
                            save(results)
                        if docs:
                            print(f"[scale_load] ingesting {docs} documents while serving", flush=True)
                            measured = ingest_while_serving(server, backend, conversations, docs, model, work)
                            results["ingestion"] = log_problems(server, measured) | {
                                "backend": label,
                                "chat_total_p95_ms_without": result["total_p95_ms"],
                            }
                finally:
                    server.stop()
    finally:
        stack.close()
        model.close()
    results["load_average"] = os.getloadavg()
    return results


@contextlib.contextmanager
def chroma_server(work: Path) -> Iterator[str]:
    """`chroma run` (installed with chromadb) on a free port, as tests/backing_services.py does."""
    port = free_port()
    log = (work / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(work / "chroma"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Chroma server did not start: see chroma.log")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away Postgres cluster (tests/backing_services.py) and one database in it."""
    from tests.backing_services import new_cluster

    cluster = new_cluster()
    try:
        yield cluster.create_database()
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()


# --- the report ------------------------------------------------------------------------------


def ratios(results: dict) -> None:
    configs = results["configs"]
    reference = next((c for c in configs if c["single_process"]), None)
    for c in configs:
        one = next((o for o in configs if o["backend"] == c["backend"] and o["workers"] == 1), None)
        c["vs_1_worker"] = c["answers_per_s"] / one["answers_per_s"] if one and one["answers_per_s"] else None
        c["vs_embedded"] = (
            c["answers_per_s"] / reference["answers_per_s"] if reference and reference["answers_per_s"] else None
        )


def _ms(c: dict, kind: str) -> str:
    values = [c.get(f"{kind}_p{q}_ms") for q in (50, 95, 99)]
    return "-" if values[0] is None else " / ".join(f"{v:,.0f}" for v in values)


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


def render(results: dict) -> str:
    rows = []
    for c in results["configs"]:
        rss = [m["rss_mb"] for m in c["memory"] if m["rss_mb"] > 50]  # workers, not the supervisor's helpers
        rows.append(
            [
                c["backend"] + (" (embedded Chroma, 1 process)" if c["single_process"] else " + Chroma server"),
                c["workers"],
                c["answers_per_s"],
                _x(c["vs_1_worker"]),
                _x(c["vs_embedded"]),
                _ms(c, "ttft_added"),
                _ms(c, "total_added"),
                f"{c['errors']} / {c['requests']}",
                ", ".join(f"{v:.0f}" for v in rss),
            ]
        )
    out = [
        table(
            [
                "setup",
                "workers",
                "answers/s",
                "vs 1 worker",
                "vs embedded",
                "TTFT added p50/95/99 ms",
                "total added p50/95/99 ms",
                "errors / requests",
                "RSS per process MB",
            ],
            rows,
        )
    ]
    for c in results["configs"]:
        if c["error_kinds"]:
            out.append(f"errors, {c['backend']} x{c['workers']}: {c['error_kinds']}")
    if soak := results.get("soak"):
        out.append(
            f"\nsoak ({soak['backend']}, {soak['wall_s']:.0f} s, {soak['answers']} answers, "
            f"{soak['errors']} errors): lost {soak['lost']['missing']} of {soak['lost']['answers_received']} answers"
        )
        out.append(
            table(
                [
                    "process",
                    "RSS first → last MB",
                    "RSS slope MB/min",
                    "second half",
                    "open files first/last/max",
                    "connections first/last/max",
                ],
                [
                    [
                        pid,
                        " → ".join(f"{v:.0f}" for v in p["rss_mb_first_last"]),
                        "-" if p["rss_slope_mb_per_min"] is None else f"{p['rss_slope_mb_per_min']:+.2f}",
                        "-"
                        if p.get("rss_slope_second_half_mb_per_min") is None
                        else f"{p['rss_slope_second_half_mb_per_min']:+.2f}",
                        "/".join(map(str, p["open_files_first_last_max"])),
                        "/".join(map(str, p["connections_first_last_max"])),
                    ]
                    for pid, p in soak["per_process"].items()
                ],
            )
        )
    if ing := results.get("ingestion"):
        out.append(
            f"\ningestion while serving ({ing['backend']}): {ing['docs']} documents in {ing['ingest_s']:.0f} s "
            f"({ing['docs_per_s']:.1f}/s); chat total p95 {ing['total_p95_ms']:,.0f} ms during it vs "
            f"{ing['chat_total_p95_ms_without']:,.0f} ms without; {ing['errors']} errors in {ing['requests']} requests"
        )
    out.append(f"\nload average at the end: {results['load_average']}")
    return "\n".join(out)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # a killed run still stops its servers
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--conversations", type=int, help="concurrent conversations (200; quick 20)"),
            p.add_argument("--seconds", type=float, help="seconds of load per setup (120; quick 15)"),
            p.add_argument("--workers", default="1,2,4", help="worker counts for the scaled setups"),
            p.add_argument("--backends", default="embedded,sqlite,postgres"),
            p.add_argument(
                "--soak-seconds", type=float, help="steady load on the embedded setup (600; quick 60; 0: none)"
            ),
            p.add_argument(
                "--ingest-docs", type=int, help="documents ingested while serving (1000; quick 100; 0: none)"
            ),
            p.add_argument("--out", default="scale_load", help="results/NAME.json (scale_load)"),
        ),
    )

    def save(results: dict, complete: bool = False) -> Path:
        return write_json(args.out, {"quick": args.quick, "complete": complete, **results})

    with tempfile.TemporaryDirectory(prefix="prompteur-scale-") as work:
        results = run(args, Path(work), save)
    ratios(results)
    print(render(results))
    print(f"\nwrote {save(results, complete=True)}")


if __name__ == "__main__":
    main()
