"""The evaluation sets of ../shared/eval, turned into the files a user would upload, the
questions, and the rule that maps a retrieved chunk back to the set's document ids."""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge.embedding import E5_SMALL, MINILM

REPO = Path(__file__).resolve().parents[1]
SETS = ("contoso_northwind_en", "covid_faq_en", "covid_faq_gouv_fr", "service_public_fr")
# The COVID FAQs again, one Markdown page per entry with the question as its `# heading`:
# the shape of the held-out help-centre FAQ on which issue #18 found the hybrid search
# behind plain dense search.
FAQ_PAGE_SETS = ("covid_faq_en_md", "covid_faq_en_md_e5", "covid_faq_gouv_fr_md")
ALL_SETS = SETS + FAQ_PAGE_SETS
# The data each set is made from: a set is never tuned on its siblings when it is left out.
SOURCE = {name: name.removesuffix("_e5").removesuffix("_md") for name in ALL_SETS}


@dataclass
class Question:
    id: str
    text: str
    answer_ids: set[str]
    # Its answer's text is also the answer of other questions (a link-only "the answer is
    # on this site" sentence): reported apart, as it measures something else.
    shared_answer: bool = False


# (source file name, page, chunk text) -> the set's document id, or None
DocOf = Callable[[str, int | None, str], str | None]


@dataclass
class EvalSet:
    name: str
    model: str
    files: list[Path]
    questions: list[Question]
    doc_of: DocOf


def data_dir(path: str | None) -> Path:
    """The eval folder, or exit with a sentence saying where it was looked for."""
    root = Path(path) if path else _default_data()
    missing = [s for s in SETS if not (root / s / "questions.jsonl").exists()]
    if missing:
        sys.exit(
            f"Benchmark data not found: {root} lacks {', '.join(missing)}. Put the "
            "evaluation sets there (see ../shared/eval/README.md) or pass --data PATH."
        )
    return root


def _default_data() -> Path:
    """../shared/eval next to the repository; a git worktree nested one level deeper
    (wt/<branch>) finds the same folder further up."""
    for folder in REPO.parents:
        if (folder / "shared" / "eval").is_dir():
            return folder / "shared" / "eval"
    return REPO.parent / "shared" / "eval"


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _questions(folder: Path, quick: bool, limit: int) -> list[Question]:
    rows = _jsonl(folder / "questions.jsonl")
    if quick and len(rows) > limit:
        rows = random.Random(0).sample(rows, limit)
    return [Question(r["id"], r["question"], set(r["answer_doc_ids"])) for r in rows]


def _corpus(folder: Path, questions: list[Question], quick: bool) -> list[dict]:
    """The set's documents; a quick run keeps the answers of its questions and as many
    other documents again as distractors (e5 embeds a few chunks per second here)."""
    corpus = _jsonl(folder / "corpus.jsonl")
    if not quick:
        return corpus
    wanted = set().union(*(q.answer_ids for q in questions))
    others = [d["id"] for d in corpus if d["id"] not in wanted]
    keep = wanted | set(random.Random(0).sample(others, min(len(others), len(wanted))))
    return [d for d in corpus if d["id"] in keep]


def contoso(root: Path, work: Path, quick: bool = False) -> EvalSet:
    folder = root / "contoso_northwind_en"
    files = sorted(p for p in (folder / "original").iterdir() if p.suffix in (".pdf", ".md"))

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        return f"{source}#page={page}" if source.endswith(".pdf") else source

    return EvalSet("contoso_northwind_en", MINILM, files, _questions(folder, quick, 66), doc_of)


def covid_en(root: Path, work: Path, quick: bool = False) -> EvalSet:
    """The FAQ as one CSV (question, answer): each row is one entry, found again by its
    question and the start of its answer (some questions repeat across agencies)."""
    folder = root / "covid_faq_en"
    corpus = _jsonl(folder / "corpus.jsonl")
    path = work / "covid_faq.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "answer"])
        writer.writerows([d["title"].strip(), d["text"].strip()] for d in corpus)
    by_question: dict[str, list[dict]] = {}
    for d in corpus:
        by_question.setdefault(" ".join(d["title"].split()), []).append(d)

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        flat = " ".join(text.split())
        for question, docs in by_question.items():
            if question in flat:
                for d in docs:
                    if " ".join(d["text"].split())[:80] in flat:
                        return d["id"]
        return None

    return EvalSet("covid_faq_en", MINILM, [path], _questions(folder, quick, 120), doc_of)


def covid_fr(root: Path, work: Path, quick: bool = False) -> EvalSet:
    """Each answer's original HTML as its own file, named by id so the question never
    reaches the index (the set measures question-to-answer matching)."""
    folder = root / "covid_faq_gouv_fr"
    questions = _questions(folder, quick, 150)
    corpus = _corpus(folder, questions, quick)
    # Half the questions have as answer one of 3 sentences that only point elsewhere (290
    # are "La réponse sur le site du Ministère de l'Économie et des Finances."), each copy
    # linking to its own page: as the set's README measures, only the copy that answers the
    # question counts, and these questions are reported apart. Documents whose HTML is the
    # same (3 pairs) are one answer: ids are folded onto the first of them.
    first_with_html: dict[str, str] = {}
    canonical = {d["id"]: first_with_html.setdefault(d["html"], d["id"]) for d in corpus}
    text_of = {d["id"]: " ".join(d["text"].split()) for d in corpus}
    copies = Counter(text_of.values())
    for q in questions:
        q.shared_answer = all(a in text_of and copies[text_of[a]] > 2 for a in q.answer_ids)
        q.answer_ids = {canonical.get(a, a) for a in q.answer_ids}
    out = work / "covid_faq_gouv_fr"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for d in corpus:
        path = out / f"{d['id']}.html"
        path.write_text(d["html"], encoding="utf-8")
        files.append(path)

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        doc_id = source.removesuffix(".html")
        return canonical.get(doc_id, doc_id)

    return EvalSet("covid_faq_gouv_fr", E5_SMALL, files, questions, doc_of)


def service_public(root: Path, work: Path, quick: bool = False) -> EvalSet:
    folder = root / "service_public_fr"
    questions = _questions(folder, quick, 30)
    corpus = _corpus(folder, questions, quick)
    out = work / "service_public_fr"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for d in corpus:
        path = out / f"{d['id']}.md"
        path.write_text(f"# {d['title'].strip()}\n\n{d['text'].strip()}\n", encoding="utf-8")
        files.append(path)

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        return source.removesuffix(".md")

    return EvalSet("service_public_fr", E5_SMALL, files, questions, doc_of)


def _faq_pages(corpus: list[dict], out: Path) -> tuple[list[Path], dict[str, str]]:
    """One Markdown page per FAQ entry, `# question` over the answer: the shape of a help
    centre exported page by page (the held-out French FAQ of issue #18). Files are named by
    number, so the file name adds no words to the page."""
    out.mkdir(parents=True, exist_ok=True)
    files, doc_by_file = [], {}
    for i, d in enumerate(corpus):
        path = out / f"{i:04d}.md"
        path.write_text(f"# {' '.join(d['title'].split())}\n\n{d['text'].strip()}\n", encoding="utf-8")
        files.append(path)
        doc_by_file[path.name] = d["id"]
    return files, doc_by_file


def covid_en_md(root: Path, work: Path, quick: bool = False, model: str = MINILM) -> EvalSet:
    """The English COVID FAQ as Markdown pages, one per entry: the questions are
    paraphrases of the headings, as real users' are."""
    folder = root / "covid_faq_en"
    name = "covid_faq_en_md" if model == MINILM else "covid_faq_en_md_e5"
    files, doc_by_file = _faq_pages(_jsonl(folder / "corpus.jsonl"), work / name)

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        return doc_by_file.get(source)

    return EvalSet(name, model, files, _questions(folder, quick, 120), doc_of)


def covid_en_md_e5(root: Path, work: Path, quick: bool = False) -> EvalSet:
    """The same pages with e5, the embedder of the French bots: the held-out FAQ's shape
    with its model, and paraphrased questions (the French set's questions are its headings)."""
    return covid_en_md(root, work, quick, E5_SMALL)


def covid_fr_md(root: Path, work: Path, quick: bool = False) -> EvalSet:
    """The French COVID FAQ as Markdown pages, `# question` over the answer. Its questions
    are the headings word for word, so this measures that a page is found by its own
    heading (an upper bound), not paraphrase matching. Ids whose answer HTML is the same
    are one answer, as in covid_faq_gouv_fr; link-only answers are told apart by their
    headings here, so the split by kind of answer is not reported."""
    folder = root / "covid_faq_gouv_fr"
    questions = _questions(folder, quick, 150)
    corpus = _corpus(folder, questions, quick)
    files, doc_by_file = _faq_pages(corpus, work / "covid_faq_gouv_fr_md")

    def doc_of(source: str, page: int | None, text: str) -> str | None:
        return doc_by_file.get(source)

    return EvalSet("covid_faq_gouv_fr_md", E5_SMALL, files, questions, doc_of)


BUILDERS = {
    "contoso_northwind_en": contoso,
    "covid_faq_en": covid_en,
    "covid_faq_en_md": covid_en_md,
    "covid_faq_en_md_e5": covid_en_md_e5,
    "covid_faq_gouv_fr": covid_fr,
    "covid_faq_gouv_fr_md": covid_fr_md,
    "service_public_fr": service_public,
}
