"""Load: concurrent streaming conversations against one real server (`prompteur serve` in a
subprocess, the bundled model, the bot's default model settings), through the public API:
`POST /v1/bots/{bot}/chat` with stream=true, authenticated by a secret key created through
the admin API. Each conversation asks its next question as soon as the previous answer
ended; answers started before the deadline are awaited. Reports errors, throughput and
time to first token / total time.

The public rate limits are raised for the run (they would otherwise answer 429 to one
client asking this fast: that is their job, not what is measured here).

    python -m benchmarks.load [--data PATH] [--quick] [--conversations 20] [--seconds 60]
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np

from benchmarks.eval_sets import REPO, data_dir
from benchmarks.gate_calibration import out_of_scope_sets
from benchmarks.report import arguments, table, write_json
from knowledge.embedding import MINILM

# The smaller Contoso documents: ingestion is setup, not what this measures.
DOCUMENTS = ("Benefit_Options.pdf", "PerksPlus.pdf", "employee_handbook.pdf", "Zava_Company_Overview.md")
OFF_TOPIC_SHARE = 0.2
GRACE_S = 600  # how long answers started before the deadline may take to finish


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`prompteur serve` on a free port with its data in `home`."""

    def __init__(self, home: Path):
        self.home = home
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "PROMPTEUR_HOME": str(home),
            "PYTHONPATH": str(REPO),
            "PROMPTEUR_RATE_PER_IP": "100000",
            "PROMPTEUR_RATE_PER_SESSION": "100000",
            "PROMPTEUR_RATE_PER_BOT": "100000",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        self.log_path = home.parent / "server.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bots.cli.main", "serve", "--port", self.url.rsplit(":", 1)[1]],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # its own group: the model server goes with it
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"the server did not start within 180 s; see {self.log_path}")
        self.admin = httpx.Client(
            base_url=self.url,
            timeout=120,
            headers={"Authorization": f"Bearer {(home / 'admin_token').read_text().strip()}"},
        )

    def published_bot(self, files: list[Path]) -> tuple[str, str]:
        """(bot id, secret key) of a published Contoso bot with `files` ingested."""
        bot = self.admin.post(
            "/admin/bots",
            json={"name": "Contoso load", "embedding_model": MINILM, "spec": {"persona": {"company": "Contoso"}}},
        )
        bot.raise_for_status()
        bot_id = bot.json()["id"]
        handles = [p.open("rb") for p in files]
        try:
            res = self.admin.post(
                f"/admin/bots/{bot_id}/documents", files=[("files", (p.name, h)) for p, h in zip(files, handles)]
            )
        finally:
            for h in handles:
                h.close()
        res.raise_for_status()
        job_id = res.json()["job_id"]
        while (job := self.admin.get(f"/admin/jobs/{job_id}").json())["status"] not in ("done", "failed"):
            time.sleep(0.5)
        if job["status"] != "done":
            raise RuntimeError(f"ingestion failed: {job}")
        self.admin.post(f"/admin/bots/{bot_id}/versions", json={"note": "load benchmark"}).raise_for_status()
        key = self.admin.post(f"/admin/bots/{bot_id}/keys", json={"kind": "secret"})
        key.raise_for_status()
        return bot_id, key.json()["key"]

    def stop(self) -> None:
        self.admin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever is left of the server's group, the bundled model server included
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


async def sse_events(res: httpx.Response) -> AsyncIterator[tuple[str | None, dict]]:
    """A streamed answer's server-sent events, (event name, its JSON data), as they come."""
    event = None
    async for line in res.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            yield event, json.loads(line[6:])


async def ask(client: httpx.AsyncClient, bot_id: str, question: str, conversation_id: str | None) -> dict:
    """One streamed answer, parsed event by event as a browser would."""
    body = {"message": question, "stream": True}
    if conversation_id:
        body["conversation_id"] = conversation_id
    started = time.perf_counter()
    record: dict = {"question": question, "started": started, "text": ""}
    try:
        async with client.stream("POST", f"/v1/bots/{bot_id}/chat", json=body) as res:
            if res.status_code != 200:
                record["error"] = f"http {res.status_code}: {(await res.aread())[:200]!r}"
                return record
            async for event, data in sse_events(res):
                if event == "start":
                    record["conversation_id"] = data["conversation_id"]
                elif event == "delta":
                    record.setdefault("ttft_s", time.perf_counter() - started)
                    record["text"] += data["text"]
                elif event == "done":
                    record.update(
                        total_s=time.perf_counter() - started,
                        fallback=data["fallback"],
                        completion_tokens=data["usage"].get("completion_tokens", 0),
                    )
                elif event == "error":
                    record["error"] = f"{data['code']}: {data['message']}"
    except httpx.HTTPError as err:
        record["error"] = f"{type(err).__name__}: {err}"
    if "total_s" not in record and "error" not in record:
        record["error"] = "the stream ended without a done event"
    return record


async def conversation(client, bot_id: str, questions: list[str], deadline: float, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records, conversation_id = [], None
    while time.perf_counter() < deadline:
        record = await ask(client, bot_id, rng.choice(questions), conversation_id)
        conversation_id = record.get("conversation_id", conversation_id)
        records.append(record)
    return records


async def drive(url: str, bot_id: str, key: str, questions: list[str], conversations: int, seconds: float):
    timeout = httpx.Timeout(GRACE_S, connect=10)
    limits = httpx.Limits(max_connections=conversations + 5)
    async with httpx.AsyncClient(
        base_url=url, timeout=timeout, limits=limits, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        started = time.perf_counter()
        runs = await asyncio.gather(
            *(conversation(client, bot_id, questions, started + seconds, seed) for seed in range(conversations))
        )
        return [r for run in runs for r in run], time.perf_counter() - started


async def warm_up(url: str, bot_id: str, key: str) -> dict:
    """The server starts the bundled model on its first question; that is not load."""
    async with httpx.AsyncClient(
        base_url=url, timeout=httpx.Timeout(GRACE_S, connect=10), headers={"Authorization": f"Bearer {key}"}
    ) as client:
        return await ask(client, bot_id, "What does PerksPlus cover?", None)


def questions(data: Path) -> list[str]:
    with (data / "contoso_northwind_en" / "questions.jsonl").open() as f:
        in_scope = [json.loads(line)["question"] for line in f]
    off_topic = [q for qs in out_of_scope_sets(data, quick=True).values() for q in qs]
    n_off = int(len(in_scope) * OFF_TOPIC_SHARE / (1 - OFF_TOPIC_SHARE))
    return in_scope + random.Random(0).sample(off_topic, n_off)


def run(data: Path, conversations: int, seconds: float) -> dict:
    files = [data / "contoso_northwind_en" / "original" / name for name in DOCUMENTS]
    with tempfile.TemporaryDirectory(prefix="prompteur-load-") as work:
        (Path(work) / "home").mkdir()
        server = Server(Path(work) / "home")
        try:
            bot_id, key = server.published_bot(files)
            print(f"[load] bot ready on {server.url}; warming the model up", flush=True)
            warm = asyncio.run(warm_up(server.url, bot_id, key))
            print(
                f"[load] warm-up answer: {warm.get('error') or 'ok'}; "
                f"{conversations} conversations for {seconds:.0f} s",
                flush=True,
            )
            records, wall_s = asyncio.run(drive(server.url, bot_id, key, questions(data), conversations, seconds))
            server_log = server.log_path.read_text(errors="replace")[-4000:]
        finally:
            server.stop()
    return summarize(records, wall_s, conversations, seconds) | {"server_log_tail": server_log}


def summarize(records: list[dict], wall_s: float, conversations: int, seconds: float) -> dict:
    ok = [r for r in records if "error" not in r]
    modelled = [r for r in ok if not r["fallback"]]
    errors: dict[str, int] = {}
    for r in records:
        if "error" in r:
            code = r["error"].split(":")[0]
            errors[code] = errors.get(code, 0) + 1

    def pct(values, q):
        return float(np.percentile(values, q)) if values else None

    ttft = [r["ttft_s"] for r in ok if "ttft_s" in r]
    total = [r["total_s"] for r in ok]
    return {
        "conversations": conversations,
        "seconds": seconds,
        "wall_s": wall_s,
        "requests": len(records),
        "answers": len(ok),
        "errors": len(records) - len(ok),
        "error_codes": errors,
        "answers_per_minute": len(ok) / wall_s * 60,
        "model_answers": len(modelled),
        "fallbacks": len(ok) - len(modelled),
        "completion_tokens_per_s": sum(r.get("completion_tokens", 0) for r in ok) / wall_s,
        # An answer the model cut short (llama.cpp's server ends a stream early when another
        # request waits, unless told not to) looks like a normal one: count the very short ones.
        "short_model_answers": sum(1 for r in modelled if r.get("completion_tokens", 0) < 8),
        "ttft_p50_s": pct(ttft, 50),
        "ttft_p95_s": pct(ttft, 95),
        "total_p50_s": pct(total, 50),
        "total_p95_s": pct(total, 95),
        "model_total_p50_s": pct([r["total_s"] for r in modelled], 50),
        "model_total_p95_s": pct([r["total_s"] for r in modelled], 95),
        "load_average_1m": os.getloadavg()[0],
        "records": [{k: v for k, v in r.items() if k != "started"} for r in records],
    }


def render(r: dict) -> str:
    return table(
        [
            "conversations",
            "seconds (wall)",
            "requests",
            "answers",
            "errors",
            "answers/min",
            "by the model",
            "short model answers",
            "tokens/s",
            "TTFT p50 / p95 s",
            "total p50 / p95 s",
            "model answers p50 / p95 s",
        ],
        [
            [
                r["conversations"],
                f"{r['seconds']:.0f} ({r['wall_s']:.0f})",
                r["requests"],
                r["answers"],
                r["errors"],
                r["answers_per_minute"],
                r["model_answers"],
                r["short_model_answers"],
                r["completion_tokens_per_s"],
                _pair(r["ttft_p50_s"], r["ttft_p95_s"]),
                _pair(r["total_p50_s"], r["total_p95_s"]),
                _pair(r["model_total_p50_s"], r["model_total_p95_s"]),
            ]
        ],
    ) + (f"\n\nerrors by code: {r['error_codes']}" if r["error_codes"] else "\n\nno errors")


def _pair(a, b) -> str:
    return "-" if a is None else f"{a:.1f} / {b:.1f}"


def main() -> None:
    # A killed run (timeout, Ctrl-C) still stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--conversations", type=int, help="concurrent conversations (default 20; quick 10)"),
            p.add_argument("--seconds", type=float, help="how long new questions are asked (default 60; quick 30)"),
        ),
    )
    conversations = args.conversations or (10 if args.quick else 20)
    seconds = args.seconds or (30 if args.quick else 60)
    result = run(data_dir(args.data), conversations, seconds)
    print(render(result))
    print(f"\nwrote {write_json('load', {'quick': args.quick, **result})}")


if __name__ == "__main__":
    main()
