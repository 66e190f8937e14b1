"""Crawled vs uploaded: the same documents, once crawled from a help centre served on
127.0.0.1 and once uploaded as files, searched with the set's questions. Target: recall@5 of
the crawled copy within 0.02 of the uploaded one (issue #16).

    python -m benchmarks.crawled_retrieval [--data PATH] [--sets covid_faq_en,service_public_fr] [--no-cache]

Each document of the set is one page, laid out as the most common hosted help centre
(Zendesk's default theme) lays out an article: header and search, breadcrumbs, a sidebar of
the section's articles, the article, "Was this article helpful?", related articles, footer.
The chrome is what a crawl meets and an upload does not; the uploaded copy is one Markdown
file per document, `# title` over the text (eval_sets' `covid_faq_en_md` and
`service_public_fr` files)."""

from __future__ import annotations

import html
import json
import logging
import tempfile
import time
from pathlib import Path

from benchmarks.embedding_cache import cached
from benchmarks.eval_sets import EvalSet, covid_en_md, data_dir, service_public
from benchmarks.report import arguments, table, write_json
from benchmarks.retrieval import CACHE, K, cached_embedders, scores
from benchmarks.server import Server, running_server
from benchmarks.web_crawl import SiteServer
from knowledge.embedding import EmbedderCache

TARGET_GAP = 0.02
RELATED = 3  # "Related articles" listed under each article
SIDEBAR = 6  # "Articles in this section" beside it
# The help centre's own words, in the language of the set's documents.
WORDS = {
    "en": {
        "hc": "Help Centre",
        "skip": "Skip to main content",
        "request": "Submit a request",
        "signin": "Sign in",
        "search": "Search",
        "sidebar": "Articles in this section",
        "team": "Support team",
        "updated": "Updated",
        "helpful": "Was this article helpful?",
        "votes": "0 out of 0 found this helpful",
        "more": "Have more questions?",
        "top": "Return to top",
        "related": "Related articles",
    },
    "fr": {
        "hc": "Centre d'aide",
        "skip": "Passer au contenu principal",
        "request": "Envoyer une demande",
        "signin": "Connexion",
        "search": "Rechercher",
        "sidebar": "Articles de cette section",
        "team": "Équipe d'assistance",
        "updated": "Mis à jour",
        "helpful": "Cet article vous a-t-il été utile ?",
        "votes": "0 sur 0 ont trouvé ceci utile",
        "more": "Vous avez d'autres questions ?",
        "top": "Revenir en haut",
        "related": "Articles associés",
    },
}
# Sets whose documents are pages (a title and its text; Contoso's PDFs are not): the
# uploaded copy (eval_sets' files for it), the help centre's section name and language.
SETS = {
    "covid_faq_en": (covid_en_md, "covid_faq_en", "COVID-19 questions", "en"),
    "service_public_fr": (service_public, "service_public_fr", "Particuliers", "fr"),
}


def _paragraphs(text: str) -> str:
    out = []
    for block in text.strip().split("\n\n"):
        lines = [html.escape(line.strip()) for line in block.split("\n") if line.strip()]
        if lines:
            out.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(out)


def help_centre(corpus: list[dict], section: str, lang: str = "en") -> tuple[dict[str, bytes], dict[str, str]]:
    """The site's pages by path, and each article's path -> the set's document id."""
    w = WORDS[lang]
    paths = [f"/hc/{lang}/articles/{1000 + i}" for i in range(len(corpus))]
    titles = [html.escape(" ".join(d["title"].split())) for d in corpus]

    def links(indexes: list[int]) -> str:
        return "".join(f'<li><a href="{paths[j]}">{titles[j]}</a></li>' for j in indexes)

    def page(title: str, main: str) -> bytes:
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} – {w["hc"]}</title>'
            f'</head><body><a class="skip-navigation" href="#main-content">{w["skip"]}</a>'
            f'<header class="header"><div class="logo"><a href="/hc/{lang}">{w["hc"]}</a></div>'
            f'<nav class="user-nav"><a href="/hc/{lang}/requests/new">{w["request"]}</a>'
            f'<a href="/hc/{lang}/signin">{w["signin"]}</a></nav></header>'
            f'<main role="main">{main}</main>'
            f'<footer class="footer"><div class="footer-inner"><a href="/hc/{lang}">{w["hc"]}</a>'
            "<p>Powered by a help desk</p></div></footer></body></html>"
        ).encode()

    site: dict[str, bytes] = {}
    index = (
        f'<div class="container"><h1>{w["hc"]}</h1><section class="section">'
        f'<h2>{html.escape(section)}</h2><ul class="article-list">{links(list(range(len(corpus))))}</ul>'
        "</section></div>"
    )
    site["/"] = page(w["hc"], index)
    n = len(corpus)
    for i, d in enumerate(corpus):
        related = [(i + k) % n for k in range(1, RELATED + 1)]
        sidebar = [(i - k) % n for k in range(1, SIDEBAR + 1)]
        main = (
            '<div class="container-divider"></div><div class="container"><div class="sub-nav">'
            f'<ol class="breadcrumbs"><li title="{w["hc"]}"><a href="/">{w["hc"]}</a></li>'
            f'<li title="{html.escape(section)}"><a href="/">{html.escape(section)}</a></li></ol>'
            '<div class="search-container"><form role="search" class="search" action="/hc/en-us/search">'
            f'<input type="search" name="query" placeholder="{w["search"]}"></form></div></div>'
            '<div class="article-container" id="article-container">'
            '<aside class="article-sidebar" aria-labelledby="section-articles-title">'
            f'<h2 class="sidenav-title" id="section-articles-title">{w["sidebar"]}</h2>'
            f"<ul>{links(sidebar)}</ul></aside>"
            '<article id="main-content" class="article"><header class="article-header">'
            f'<h1 title="{titles[i]}" class="article-title">{titles[i]}</h1>'
            f'<div class="article-author"><div class="article-meta">{w["team"]}<ul class="meta-group">'
            f"<li>{w['updated']}</li></ul></div></div></header>"
            f'<section class="article-info"><div class="article-content"><div class="article-body">'
            f"{_paragraphs(d['text'])}</div></div></section>"
            '<footer><div class="article-footer"><div class="article-share">Share</div></div>'
            '<div class="article-votes"><h2 class="article-votes-question" id="article-votes-label">'
            f'{w["helpful"]}</h2><div class="article-votes-controls" role="radiogroup">'
            '<button type="button" class="button article-vote article-vote-up">Yes</button>'
            '<button type="button" class="button article-vote article-vote-down">No</button></div>'
            f'<small class="article-votes-count"><span class="article-vote-label">{w["votes"]}'
            "</span></small></div>"
            f'<div class="article-more-questions">{w["more"]} '
            f'<a href="/hc/{lang}/requests/new">{w["request"]}</a></div>'
            f'<div class="article-return-to-top"><a href="#article-container">{w["top"]}</a></div></footer>'
            '<section class="article-relatives"><section class="related-articles">'
            f'<h2 class="related-articles-header">{w["related"]}</h2>'
            f'<ul class="related-articles-list">{links(related)}</ul></section></section>'
            "</article></div></div>"
        )
        site[paths[i]] = page(titles[i], main)
    return site, dict(zip(paths, (d["id"] for d in corpus)))


def _search(server: Server, bot: str, eval_set: EvalSet, doc_of) -> dict:
    ranked = [[doc_of(h) for h in server.runtime.kb.search(bot, q.text, k=K)] for q in eval_set.questions]
    chunks = sum(d["chunks"] for d in server.client.get(f"/admin/bots/{bot}/documents").json()["documents"])
    return scores(ranked, eval_set) | {"chunks": chunks}


def _crawl(server: Server, bot: str, url: str, pages: int) -> dict:
    created = server.client.post(
        f"/admin/bots/{bot}/web-sources", json={"url": url, "max_pages": pages + 10, "max_depth": 2}
    )
    created.raise_for_status()
    sync_id = created.json()["sync_id"]
    while True:
        sync = server.client.get(f"/admin/bots/{bot}/web-syncs/{sync_id}").json()
        if sync["status"] in ("done", "failed"):
            return sync
        time.sleep(0.2)


def run_set(name: str, data: Path, work: Path, embedders: EmbedderCache, quick: bool = False) -> dict:
    files_of, folder_name, section, lang = SETS[name]
    folder = data / folder_name
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    uploaded = files_of(data, work, quick)  # the same documents as files, and the questions
    # A quick run uploads a sample of the documents (eval_sets' choice): the site serves the same.
    kept = {uploaded.doc_of(f.name, None, "") for f in uploaded.files}
    corpus = [d for d in corpus if d["id"] in kept]
    site, doc_by_path = help_centre(corpus, section, lang)
    web = SiteServer(site)
    try:
        with running_server(embedders, fetch_allow="127.0.0.1", crawl_delay_s=0) as server:
            files_bot = server.create_bot(f"{name} uploaded", uploaded.model)
            started = time.perf_counter()
            server.upload(files_bot, uploaded.files)
            upload_s = time.perf_counter() - started
            web_bot = server.create_bot(f"{name} crawled", uploaded.model)
            started = time.perf_counter()
            sync = _crawl(server, web_bot, f"{web.url}/", len(site))
            crawl_s = time.perf_counter() - started
            if sync["status"] != "done":
                raise RuntimeError(f"the crawl failed: {sync['error']}")
            prefix = len(web.url)
            files = _search(server, files_bot, uploaded, lambda h: uploaded.doc_of(h.source, h.page, h.text))
            crawled = _search(server, web_bot, uploaded, lambda h: doc_by_path.get(h.source[prefix:]))
    finally:
        web.close()
        cached(embedders.get(uploaded.model)).save()
    gap = files["recall@5"] - crawled["recall@5"]
    return {
        "model": uploaded.model,
        "documents": len(corpus),
        "questions": len(uploaded.questions),
        "uploaded": files | {"seconds": upload_s},
        "crawled": crawled | {"seconds": crawl_s, "sync_counts": sync["counts"]},
        "recall@5_gap": gap,
        "target_met": abs(gap) <= TARGET_GAP,
    }


def render(results: dict) -> str:
    rows = []
    for name, r in results.items():
        for label in ("uploaded", "crawled"):
            s = r[label]
            rows.append([name, label, s["chunks"], s["recall@1"], s["recall@5"], s["recall@10"], s["mrr@10"], ""])
        rows[-1][-1] = f"gap {r['recall@5_gap']:+.3f} " + ("(met)" if r["target_met"] else f"(MISSED: > {TARGET_GAP})")
    return table(["set", "copy", "chunks", "recall@1", "recall@5", "recall@10", "MRR@10", "target"], rows)


def main() -> None:
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}"),
            p.add_argument("--no-cache", action="store_true", help="embed everything afresh"),
        ),
    )
    for noisy in ("httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    data = data_dir(args.data)
    embedders = cached_embedders(None if args.no_cache else CACHE)
    results = {}
    with tempfile.TemporaryDirectory(prefix="prompteur-bench-") as work:
        for name in args.sets.split(","):
            print(f"[crawled_retrieval] {name}", flush=True)
            results[name] = run_set(name, data, Path(work), embedders, args.quick)
    print(render(results))
    print(f"wrote {write_json('crawled_retrieval', {'quick': args.quick, 'sets': results})}")


if __name__ == "__main__":
    main()
