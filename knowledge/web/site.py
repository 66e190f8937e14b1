"""What a crawl reads from a site besides page text: links, the canonical address, sitemaps,
robots.txt, and which addresses belong to the crawl (scope)."""

from __future__ import annotations

import fnmatch
import html
import re
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

# Longer addresses are almost always generated (session ids, filters, calendars), and a
# page's address is its document's source, a 300-character column.
MAX_URL_CHARS = 300
_LOC = re.compile(rb"<loc>\s*(.*?)\s*</loc>", re.IGNORECASE | re.DOTALL)
_SITEMAP_INDEX = re.compile(rb"<sitemapindex[\s>]", re.IGNORECASE)


def normalize(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) address without its fragment, with a lower-case scheme and host and
    a path ("/" when empty); None for anything else (mailto:, javascript:, garbage)."""
    try:
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        netloc = parts.hostname.lower()
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port and parts.port != {"http": 80, "https": 443}[parts.scheme.lower()]:
            netloc += f":{parts.port}"
    except ValueError:
        return None
    out = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    return out if len(out) <= MAX_URL_CHARS else None


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class PageLinks:
    links: list[str] = field(default_factory=list)
    canonical: str | None = None
    noindex: bool = False


def read_links(content: bytes, url: str) -> PageLinks:
    """The page's outgoing links (absolute, deduplicated, in order), its canonical address
    and whether it asks not to be indexed (<meta name=robots content=noindex>)."""
    tree = LexborHTMLParser(content.decode("utf-8", errors="replace"))
    base_node = tree.css_first("base[href]")
    base = urljoin(url, base_node.attributes.get("href") or "") if base_node else url
    out = PageLinks()
    seen = set()
    for node in tree.css("a[href], area[href]"):
        if "nofollow" in (node.attributes.get("rel") or "").lower():
            continue
        link = normalize(node.attributes.get("href") or "", base)
        if link and link not in seen:
            seen.add(link)
            out.links.append(link)
    canonical = tree.css_first("link[rel=canonical][href]")
    if canonical is not None:
        out.canonical = normalize(canonical.attributes.get("href") or "", base)
    for meta in tree.css("meta[name]"):
        if (meta.attributes.get("name") or "").lower() == "robots":
            out.noindex = "noindex" in (meta.attributes.get("content") or "").lower()
    return out


@dataclass
class Sitemap:
    pages: list[str]
    sitemaps: list[str]  # a sitemap index lists further sitemaps
    truncated: bool = False  # more addresses than the crawl may take


def read_sitemap(content: bytes, base: str, max_urls: int) -> Sitemap:
    """The <loc> addresses of a sitemap or sitemap index. Read with a pattern, not an XML
    parser: a sitemap needs no entities or DTDs, and an XML parser would expand them
    (billion laughs) or fetch them (XXE)."""
    is_index = bool(_SITEMAP_INDEX.search(content[:4096]))
    urls: list[str] = []
    truncated = False
    for match in _LOC.finditer(content):
        url = normalize(html.unescape(match.group(1).decode("utf-8", errors="replace")), base)
        if url is None:
            continue
        if len(urls) >= max_urls:
            truncated = True
            break
        urls.append(url)
    urls = list(dict.fromkeys(urls))
    return Sitemap(pages=[] if is_index else urls, sitemaps=urls if is_index else [], truncated=truncated)


@dataclass
class Scope:
    """Which addresses a crawl follows: the start address's origin, under the include
    patterns and none of the exclude ones. Patterns are shell-style globs matched on the path
    and query (`/help/*`, `*/print/*`, `*.pdf`)."""

    origins: frozenset[str]
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    def why_not(self, url: str) -> str | None:
        """None when `url` is in scope, else the reason it is skipped."""
        if origin(url) not in self.origins:
            return "outside the site"
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if self.include and not any(fnmatch.fnmatchcase(target, p) for p in self.include):
            return "not matched by an include pattern"
        for pattern in self.exclude:
            if fnmatch.fnmatchcase(target, pattern):
                return f"excluded by {pattern}"
        return None


class Robots:
    """One host's robots.txt rules for our user agent. What its absence means follows RFC 9309
    (2.3.1): a robots.txt the site says is not there (4xx) allows all; one that could not be
    read (5xx, no answer) is "unreachable" and disallows all, since the site may be refusing
    exactly the pages it would list. `refusal` then says why, for the sync report."""

    def __init__(self, text: str | None, user_agent: str, unreachable: str | None = None):
        self._agent = user_agent
        self._parser: urllib.robotparser.RobotFileParser | None = None
        self.refusal = unreachable
        if text is not None:
            self._parser = urllib.robotparser.RobotFileParser()
            self._parser.parse(text.splitlines())

    def allows(self, url: str) -> bool:
        if self.refusal is not None:
            return False
        return self._parser is None or self._parser.can_fetch(self._agent, url)

    def delay(self) -> float | None:
        if self._parser is None:
            return None
        value = self._parser.crawl_delay(self._agent)
        return float(value) if value is not None else None
