"""`prompteur`: the command line. Everything but `serve` is a client of the server's admin API."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bots.cli import answers, backup, gaps, users, web
from bots.cli.client import AdminClient, ClientError
from bots.cli.experiments import experiment_parsers
from bots.schemas.bots import Bot
from bots.schemas.knowledge import Job, SearchHit

BATCH_BYTES = 20 * 1024 * 1024
BATCH_FILES = 50


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except ClientError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prompteur", description="Prompteur: build, test and publish support chatbots.")
    sub = p.add_subparsers()

    serve = sub.add_parser("serve", help="start the server (the only process that opens the stores)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, help="server processes (default PROMPTEUR_WORKERS or 1; more needs a Chroma server)"
    )
    serve.set_defaults(run=_serve)

    bot = sub.add_parser("bot", help="create, list and delete bots").add_subparsers()
    create = bot.add_parser("create", help="create a bot")
    create.add_argument("name")
    create.add_argument("--language", default="en", help="en, fr, ... (decides the default embedding model)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=_bot_create)
    lst = bot.add_parser("list", help="list bots")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=_bot_list)
    rm = bot.add_parser("rm", help="delete a bot and its knowledge")
    rm.add_argument("bot")
    rm.set_defaults(run=_bot_rm)
    export = bot.add_parser("export", help="print the bot as YAML (spec and document names), for git")
    export.add_argument("bot")
    export.set_defaults(run=_bot_export)
    imp = bot.add_parser("import", help="create a bot from a YAML file (or update one with --into)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--into", help="update this existing bot instead of creating one")
    imp.add_argument("--docs", type=Path, help="folder holding the listed documents, to upload them")
    imp.add_argument(
        "--run-experiments",
        action="store_true",
        help="start the file's experiments here (each variant is an evaluation run: model calls)",
    )
    imp.set_defaults(run=_bot_import)
    pub = bot.add_parser("publish", help="publish the draft as a new version")
    pub.add_argument("bot")
    pub.add_argument("--note", default="")
    pub.add_argument("--override", help="publish even if the publish gate refuses; this reason is kept")
    pub.set_defaults(run=_bot_publish)

    ask = sub.add_parser("ask", help="ask a bot a question")
    ask.add_argument("bot")
    ask.add_argument("question")
    ask.add_argument("--version", help="draft, or a version number (default: published, else draft)")
    ask.add_argument("--conversation", help="continue this conversation")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(run=_ask)

    kb = sub.add_parser("kb", help="a bot's knowledge: add, search, reindex, remove").add_subparsers()
    add = kb.add_parser("add", help="upload files or folders (recursively)")
    add.add_argument("bot")
    add.add_argument("paths", nargs="+", type=Path)
    add.add_argument("--wait", action="store_true", help="wait until ingestion ends, showing progress")
    add.set_defaults(run=_kb_add)
    search = kb.add_parser("search", help="search; with no QUERY, read JSON lines {id, query} on stdin")
    search.add_argument("bot")
    search.add_argument("query", nargs="?")
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.set_defaults(run=_kb_search)
    reindex = kb.add_parser("reindex", help="rebuild the vector index from the database")
    reindex.add_argument("bot")
    reindex.set_defaults(run=_kb_reindex)
    kbrm = kb.add_parser("rm", help="remove a document (by its file name)")
    kbrm.add_argument("bot")
    kbrm.add_argument("source")
    kbrm.set_defaults(run=_kb_rm)
    kbls = kb.add_parser("ls", help="list a bot's documents")
    kbls.add_argument("bot")
    kbls.add_argument("--json", action="store_true")
    kbls.set_defaults(run=_kb_ls)
    web.add_commands(kb, _client)
    _eval_parser(sub)
    gaps.add_parser(sub, lambda: _client())
    answers.add_parser(sub, _client)
    users.add_parsers(sub, _client)  # team use: users, tokens, audit, login
    backup.add_parsers(sub)  # backup and restore of the embedded setup (issue #17)
    return p


def _serve(args) -> int:
    from bots.serve import serve  # the server's dependencies load only for this command

    return serve(args.host, args.port, args.workers)


def _client() -> AdminClient:
    return AdminClient.from_environment()


def _bot_create(args) -> int:
    bot = _client().create_bot(args.name, language=args.language)
    print(json.dumps({"id": bot.id}) if args.json else f"created bot {bot.name} ({bot.id})")
    return 0


def _bot_list(args) -> int:
    bots = _client().bots()
    if args.json:
        print(json.dumps([b.model_dump(mode="json") for b in bots]))
    for b in [] if args.json else bots:
        print(f"{b.id}  {b.name}  ({b.language}, {b.documents} documents, {b.chunks} chunks)")
    return 0


def _bot_rm(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    client.delete_bot(bot.id)
    print(f"deleted bot {bot.name} ({bot.id})")
    return 0


def _bot_export(args) -> int:
    from bots.cli.bot_yaml import dump, experiment_definition

    client = _client()
    bot = client.resolve_bot(args.bot)
    sets = {s.name: client.export_test_set(bot.id, s.name).cases for s in client.test_sets(bot.id).sets}
    answers = [
        a.model_dump(include={"question", "paraphrases", "answer", "sources", "enabled"})
        for a in reversed(client.all_corrected_answers(bot.id))
    ]
    experiments = [
        experiment_definition(e.set, [(v.variant, v.overrides) for v in e.variants], e.promoted)
        for e in reversed(client.experiments(bot.id).experiments)  # oldest first, as they were made
    ]
    sys.stdout.write(dump(bot, client.documents(bot.id), sets, answers, experiments))
    return 0


def _bot_import(args) -> int:
    from bots.cli.bot_yaml import BotFileError, load

    try:
        data = load(args.file.read_text(encoding="utf-8"))
    except (OSError, BotFileError) as err:
        raise ClientError(f"{args.file}: {err}") from None
    client = _client()
    bot: Bot
    if args.into:
        bot = client.update_bot(client.resolve_bot(args.into).id, name=data["name"], spec=data.get("spec", {}))
    else:
        extra = {"embedding_model": data["embedding_model"]} if data.get("embedding_model") else {}
        bot = client.create_bot(data["name"], language=data.get("language", "en"), spec=data.get("spec", {}), **extra)
    print(json.dumps({"id": bot.id}))
    _import_test_sets(client, bot, data.get("test_sets") or {})
    if "corrected_answers" in data:
        # The file is the truth for the bot's corrected answers, as for its test sets.
        try:
            client.replace_corrected_answers(bot.id, data.get("corrected_answers") or [])
        except ClientError as err:
            raise ClientError(f"corrected answers: {err}") from None
    listed = [str(d) for d in data.get("documents", [])]
    missing: list[str] = []
    if listed:
        folder = args.docs or args.file.parent
        # Uploaded under the names the file lists, so a later `kb add` of the folder matches them.
        found = [(folder / name, name) for name in listed if (folder / name).is_file()]
        missing = [name for name in listed if not (folder / name).is_file()]
        if found:
            _add_files(client, bot, found, [], wait=True)
        for name in missing:
            print(f"not found in {folder}: {name} (upload it with `prompteur kb add`)", file=sys.stderr)
    _import_experiments(client, bot, data.get("experiments") or [], run=args.run_experiments)
    return 1 if missing else 0


def _import_experiments(client: AdminClient, bot: Bot, experiments: list[dict], *, run: bool) -> None:
    """An experiment is its runs: measured again here (model calls, so only when asked), after
    the documents are in, with the variants the file gives."""
    if not experiments:
        return
    if not run:
        print(
            f"{len(experiments)} experiment(s) in the file not run: add --run-experiments to measure "
            "them on this server (their results stay where they were measured)",
            file=sys.stderr,
        )
        return
    for e in experiments:
        try:
            made = client.start_experiment(bot.id, e["set"], e["variants"])
        except ClientError as err:
            raise ClientError(f"experiment on set {e['set']!r}: {err}") from None
        # On stderr: stdout stays the one JSON line with the bot's id that scripts read.
        print(f"started experiment {made.experiment_id} on set {made.set!r}", file=sys.stderr)


def _import_test_sets(client: AdminClient, bot: Bot, sets: dict[str, list]) -> None:
    """Each set replaced whole: the file is the truth for the sets it names."""
    from bots.test_sets import dump

    for name, cases in sets.items():
        try:
            client.import_test_set(bot.id, str(name), dump(cases, "jsonl"), "jsonl")
        except ClientError as err:
            raise ClientError(f"test set {name!r}: {err}") from None


def _bot_publish(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    try:
        version = client.publish(bot.id, args.note, override=args.override)
    except ClientError as err:
        if err.code != "publish_gate_refused":
            raise
        print(f"not published: {err}", file=sys.stderr)
        gate = err.details.get("gate") or {}
        for case in gate.get("regressions") or []:
            why = "; ".join(f"{n}: {r}" for n, r in case["reasons"].items())
            print(f"  regressed: {case['question']} ({why})", file=sys.stderr)
        for case in gate.get("must_pass_failed") or []:
            print(f"  must-pass failed: {case['question']} ({case['reason']})", file=sys.stderr)
        return 1
    overridden = f" (gate overridden: {version.override_note})" if version.override_note else ""
    print(f"published {bot.name} as version {version.number}{overridden}", file=sys.stderr)
    return 0


def _ask(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    version = args.version or ("published" if bot.published_version else "draft")
    if version not in ("draft", "published"):
        if not version.isdigit():
            raise ClientError(f"--version takes draft or a version number, not {version!r}.")
        version = int(version)
    reply = client.playground(bot.id, args.question, version=version, conversation_id=args.conversation)
    if args.json:
        print(
            json.dumps(
                {
                    "answer": reply.answer,
                    "citations": [
                        {"source": c.source, "page": c.page, "chunk_id": c.chunk_id} for c in reply.citations
                    ],
                    "fallback": reply.fallback,
                    "answered_by": reply.answered_by,
                    "conversation_id": reply.conversation_id,
                    "latency_ms": reply.latency_ms,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(reply.answer)
    for c in reply.citations:
        print(f"  [{c.source}" + (f", p.{c.page}]" if c.page else "]"), file=sys.stderr)
    return 0


def _expand(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[str]]:
    """Files to upload with the names to show: a folder's files keep their path inside it,
    so `a/faq.md` and `b/faq.md` stay two documents."""
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(
                (p, p.relative_to(path).as_posix())
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append((path, path.name))
        else:
            missing.append(f"{path}: no such file or folder")
    return files, missing


def _batches(files: list[tuple[Path, str]]):
    batch: list[tuple[Path, str]] = []
    size = 0
    for f in files:
        f_size = f[0].stat().st_size
        if batch and (size + f_size > BATCH_BYTES or len(batch) >= BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f_size
    if batch:
        yield batch


def _kb_add(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    files, failures = _expand(args.paths)
    return _add_files(client, bot, files, failures, wait=args.wait)


def _add_files(client: AdminClient, bot: Bot, files: list[tuple[Path, str]], failures: list[str], wait: bool) -> int:
    """Upload (path, name) pairs in batches; prints a summary and each failure."""
    jobs, unchanged = [], 0
    pending = list(_batches(files))
    while pending:
        batch = pending.pop(0)
        try:
            result = client.upload(bot.id, [p for p, _ in batch], [name for _, name in batch])
        except ClientError as err:
            if err.status == 413 and len(batch) > 1:
                # One file over the server's limit must not sink the others of its batch.
                pending[:0] = [[f] for f in batch]
                continue
            if err.status in (413, 422) or len(batch) == 1:
                failures += [f"{p}: {err}" for p, _ in batch]
                continue
            raise
        failures += [r.error for r in result.rejected]
        unchanged += sum(d.status == "unchanged" for d in result.documents)
        if result.job_id:
            jobs.append(result.job_id)
    ready = 0
    if wait:
        for job in _wait_all(client, jobs):
            for item in job.items:
                if item.status == "failed":
                    failures.append(item.error or f"{item.source}: failed")
                elif item.status == "ready":
                    ready += 1
        print(f"{ready} ingested, {unchanged} unchanged, {len(failures)} failed", file=sys.stderr)
    else:
        print(
            f"{len(files) - len(failures)} files queued ({unchanged} unchanged); jobs: {' '.join(jobs)}",
            file=sys.stderr,
        )
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _wait_all(client: AdminClient, job_ids: list[str]) -> list[Job]:
    finished: dict[str, Job] = {}
    while len(finished) < len(job_ids):
        states = [finished.get(j) or client.job(j) for j in job_ids]
        for s in states:
            if s.status in ("done", "failed"):
                finished[s.id] = s
        total = sum(s.total for s in states) or 1
        progress = sum(s.progress * s.total for s in states) / total
        _progress_bar(progress, sum(s.done + s.failed for s in states), total)
        if len(finished) < len(job_ids):
            time.sleep(0.5)
    print(file=sys.stderr)
    return [finished[j] for j in job_ids]


def _progress_bar(fraction: float, done: int, total: int) -> None:
    width = 30
    filled = int(width * fraction)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  {done}/{total} files")
    sys.stderr.flush()


def _hit_out(h: SearchHit) -> dict:
    return h.model_dump(mode="json", include={"source", "page", "chunk_id", "score", "text"})


def _kb_search(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    if args.query is not None:
        hits = [_hit_out(h) for h in client.search(bot.id, args.query, args.k)]
        if args.json:
            print(json.dumps({"hits": hits}, ensure_ascii=False))
        for i, h in enumerate([] if args.json else hits, 1):
            where = f"{h['source']}" + (f" p.{h['page']}" if h["page"] else "")
            print(f"{i}. [{h['score']:.4f}] {where}\n   {h['text'][:200]!r}")
        return 0
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        hits = [_hit_out(h) for h in client.search(bot.id, request["query"], args.k)]
        print(json.dumps({"id": request.get("id"), "hits": hits}, ensure_ascii=False), flush=True)
    return 0


def _kb_reindex(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    job = _wait_all(client, [client.reindex(bot.id).job_id])[0]
    print(f"re-indexed {bot.name}: {job.status}", file=sys.stderr)
    return 0 if job.status == "done" else 1


def _kb_rm(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    every = client.documents(bot.id)
    docs = [d for d in every if args.source in (d.source, d.id)]
    if not docs:  # a file uploaded from a folder may also be named without its folder
        docs = [d for d in every if d.source.rsplit("/", 1)[-1] == args.source]
        if len(docs) > 1:
            raise ClientError(
                f"Several documents are named {args.source!r}: {', '.join(d.source for d in docs)}; give the full name."
            )
    if not docs:
        raise ClientError(f"{bot.name} has no document named {args.source!r}; `prompteur kb ls {args.bot}` lists them.")
    for d in docs:
        client.delete_document(bot.id, d.id)
        print(f"removed {d.source}", file=sys.stderr)
    return 0


def _kb_ls(args) -> int:
    client = _client()
    docs = client.documents(client.resolve_bot(args.bot).id)
    if args.json:
        print(json.dumps([d.model_dump(mode="json") for d in docs]))
        return 0
    for d in docs:
        print(
            f"{d.status:<10} {d.source}  pages={d.pages} chunks={d.chunks}" + (f"  error: {d.error}" if d.error else "")
        )
    return 0


def _eval_parser(sub) -> None:
    ev = sub.add_parser("eval", help="test sets and evaluation runs").add_subparsers()
    imp = ev.add_parser("import", help="import test cases (JSON lines, CSV or YAML), replacing the set")
    imp.add_argument("bot")
    imp.add_argument("file", type=Path)
    imp.add_argument("--set", help="the set's name (default: the file's name without extension)")
    imp.add_argument("--format", choices=["jsonl", "csv", "yaml"], help="default: from the file's extension")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(run=_eval_import)
    export = ev.add_parser("export", help="print a test set")
    export.add_argument("bot")
    export.add_argument("set")
    export.add_argument("--format", choices=["jsonl", "csv", "yaml"], default="jsonl")
    export.set_defaults(run=_eval_export)
    run = ev.add_parser("run", help="evaluate a version on the bot's test sets (a measurement: exits 0)")
    run.add_argument("bot")
    run.add_argument("--set", help="only this set (default: every set)")
    run.add_argument("--version", default="draft", help="draft, published or a version number")
    run.add_argument("--wait", action="store_true", help="wait for the results, showing progress")
    run.add_argument("--json", action="store_true")
    run.set_defaults(run=_eval_run)
    cmp = ev.add_parser("compare", help="compare two runs case by case: regressions first")
    cmp.add_argument("bot")
    cmp.add_argument("run_a")
    cmp.add_argument("run_b")
    cmp.add_argument("--json", action="store_true")
    cmp.set_defaults(run=_eval_compare)
    _eval_add_parser(ev)
    experiment_parsers(ev, _client)


def _eval_add_parser(ev) -> None:
    add = ev.add_parser("add", help="add one test case to a set (made if missing)")
    add.add_argument("bot")
    add.add_argument("--question", help="the question (or take it from --message)")
    add.add_argument("--reference", help="the reference answer")
    add.add_argument("--set", default="main", help="the set (default: main)")
    add.add_argument(
        "--expected-source", action="append", default=[], dest="expected_sources", help="repeat for several"
    )
    add.add_argument("--expected-fact", action="append", default=[], dest="expected_facts", help="repeat for several")
    add.add_argument("--must-refuse", action="store_true", help="the answer must be the fallback")
    add.add_argument("--message", help="a conversation message id: its question, and its answer as the reference")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=_eval_add)


def _eval_add(args) -> int:
    if not (args.question or args.message):
        raise ClientError("give --question, or --message with a conversation message id.")
    case: dict = {"question": args.question} if args.question else {}
    if args.reference:
        case["reference_answer"] = args.reference
    for field in ("expected_sources", "expected_facts"):
        if getattr(args, field):
            case[field] = getattr(args, field)
    if args.must_refuse:
        case["must_refuse"] = True
    client = _client()
    bot = client.resolve_bot(args.bot)
    added = client.add_test_case(bot.id, args.set, case, message_id=args.message)
    if args.json:
        print(json.dumps(added.model_dump(mode="json"), ensure_ascii=False))
    else:
        print(f"added to {bot.name}/{added.set} ({added.cases} cases): {added.case['question']}", file=sys.stderr)
    return 0


def _eval_import(args) -> int:
    from bots.test_sets import guess_format

    try:
        content = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ClientError(f"{args.file}: {err}") from None
    client = _client()
    bot = client.resolve_bot(args.bot)
    name = args.set or args.file.stem
    result = client.import_test_set(bot.id, name, content, args.format or guess_format(args.file.name))
    if args.json:
        print(json.dumps({"set": result.set, "cases": result.cases}))
    else:
        print(f"imported {result.cases} cases into {bot.name}/{result.set}", file=sys.stderr)
    return 0


def _eval_export(args) -> int:
    from bots.test_sets import dump

    client = _client()
    bot = client.resolve_bot(args.bot)
    sys.stdout.write(dump(client.export_test_set(bot.id, args.set).cases, args.format))
    return 0


def _eval_run(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    version: str | int = args.version
    if version not in ("draft", "published"):
        if not str(version).isdigit():
            raise ClientError(f"--version takes draft, published or a version number, not {version!r}.")
        version = int(version)
    run = client.start_eval_run(bot.id, version, args.set)
    if not args.wait:
        print(json.dumps({"run_id": run.run_id, "status": run.status}) if args.json else run.run_id)
        return 0
    try:
        while run.status not in ("done", "cancelled", "failed"):
            if not args.json:
                _progress_bar(run.done / (run.cases or 1), run.done, run.cases)
            time.sleep(0.3)
            run = client.eval_run(bot.id, run.run_id)
    except KeyboardInterrupt:
        client.cancel_eval_run(bot.id, run.run_id)
        print(f"\ncancelled run {run.run_id}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(_run_json(run), ensure_ascii=False))
        return 0
    print(file=sys.stderr)
    rate = f"{run.pass_rate:.0%}" if run.pass_rate is not None else "n/a"
    print(f"run {run.run_id} ({run.status}): {run.passed} passed, {run.failed} failed, {run.errored} errored ({rate})")
    for case in run.cases_detail:
        if not case.passed:
            why = case.error or "; ".join(f"{n}: {c.reason}" for n, c in case.checks.items() if c.passed is False)
            print(f"  {case.status.upper()}: {case.question}  ({why})")
    return 0


def _run_json(run) -> dict:
    return {
        "run_id": run.run_id,
        "version": run.version,
        "status": run.status,
        "cases": run.cases,
        "passed": run.passed,
        "failed": run.failed,
        "errored": run.errored,
        "pass_rate": run.pass_rate,
        "retrieval": run.retrieval,
        "metrics": run.metrics,
        "judge": run.judge,
        "cases_detail": [
            {
                "question": c.question,
                "passed": c.passed,
                "status": c.status,
                "checks": {n: _check_json(v) for n, v in c.checks.items()},
                "retrieved": c.retrieved,
                "answer": c.answer,
                "error": c.error,
            }
            for c in run.cases_detail
        ],
    }


def _check_json(verdict) -> dict:
    """A check's {"passed", "reason"}; a judge's also has its score and status."""
    out = {"passed": verdict.passed, "reason": verdict.reason}
    out.update({k: v for k, v in (verdict.model_extra or {}).items() if k in ("score", "status")})
    return out


def _eval_compare(args) -> int:
    client = _client()
    bot = client.resolve_bot(args.bot)
    result = client.compare_runs(bot.id, args.run_a, args.run_b)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        return 0
    for title, items in (("regressions", result.regressions), ("fixes", result.fixes)):
        print(f"{title}: {len(items)}")
        for c in items:
            print(f"  {c.before} -> {c.after}: {c.question}")
    print(f"unchanged: {len(result.unchanged)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
