"""HTML pages: the main text under its headings, without the site's chrome (navigation,
page header and footer, sidebars, scripts, forms)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from knowledge.documents import LoadedDocument, LoadError, Section
from knowledge.loaders.text import decode_text

_CHROME = ", ".join(
    [
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "aside",
        "form",
        "iframe",
        "svg",
        "canvas",
        "button",
        "select",
        "textarea",
        "dialog",
        "[hidden]",
        "[aria-hidden=true]",
        "[role=navigation]",
        "[role=banner]",
        "[role=contentinfo]",
        "[role=complementary]",
        "[role=search]",
    ]
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "hr",
    "header",
    "footer",
    "body",
    "center",
    "fieldset",
    "caption",
}
_TITLE_PARTS = re.compile(r"\s+[|–—·-]\s+|\s*::\s*")  # "Page – Site", "Site | Page"
# Readability's names for a byline; matched as whole words of class, id, rel or itemprop.
_BYLINE = re.compile(r"(?i)(?<![a-z])(byline|author|dateline|writtenby)(?![a-z])")
MAX_BYLINE_CHARS = 200  # longer, it is more than a name and a date: kept
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)


def load_html(data: bytes, filename: str) -> LoadedDocument:
    declared = _META_CHARSET.search(data[:4096])
    text = decode_text(data, filename, declared.group(1).decode("ascii") if declared else None)
    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node else None
    root = _main_content(tree)
    if root is None:
        raise _no_text(filename)
    _strip_chrome(root, _host(filename))
    walker = _Walker()
    walker.walk(root)
    walker.end_section()
    if not walker.sections:
        raise _no_text(filename)
    return LoadedDocument(sections=walker.sections, title=_page_title(title, walker.first_h1))


def _page_title(title: str | None, h1: str | None) -> str | None:
    """The page's own title: "Where is my parcel? – Help Centre" is the <h1> plus the site's
    name, which would otherwise prefix every passage of every page of the site."""
    if title and h1 and any(part.strip().casefold() == h1.casefold() for part in _TITLE_PARTS.split(title)):
        return h1
    return title or h1


def fragment_text(fragment: str) -> str:
    """The text of an HTML snippet (an FAQ answer exported from a help desk), with its
    paragraphs, lists and tables laid out as in a loaded page."""
    tree = LexborHTMLParser(fragment)
    if tree.body is None:
        return fragment.strip()
    for node in tree.body.css("script, style, template"):
        node.decompose()
    walker = _Walker()
    walker.walk(tree.body)
    walker.end_section()
    parts: list[str] = []
    shown: list[str] = []
    for section in walker.sections:
        if section.headings and section.headings != shown:
            parts.append(section.headings[-1])
            shown = section.headings
        parts.append(section.text)
    return "\n\n".join(parts)


def _main_content(tree: LexborHTMLParser) -> LexborNode | None:
    """The element holding the page's own content: `<main>`, else the only `<article>`,
    else the body."""
    main = tree.css_first("main, [role=main]")
    if main is not None:
        return main
    articles = tree.css("article")
    if len(articles) == 1:
        return articles[0]
    return tree.body


def _strip_chrome(root: LexborNode, host: str | None) -> None:
    for node in root.css(_CHROME):
        node.decompose()
    # A <header> inside an article or section is that part's own (it often holds the
    # article's title); only the page-level ones are site chrome. A <footer> is never the
    # content: inside an article it holds "Was this article helpful?", share and "return
    # to top" links, the same on every page of a help centre.
    for node in root.css("header, footer"):
        if node.tag == "footer" or not _inside_content(node, root):
            node.decompose()
    # An article's byline (author, "Updated" date) says who wrote it, not what it says; its
    # short lines would otherwise be read as a heading over the whole article.
    _remove_outermost([node for node in root.css("[class], [id], [rel], [itemprop]") if _is_byline(node)])
    # Lists made only of links to the site's own pages are its navigation even inside the
    # main content: breadcrumbs, "Related articles", "Articles in this section". Crawled,
    # they put other pages' titles into this page's passages, so a question about one page
    # finds the pages that link to it. A list of links to other sites is kept: an answer
    # may be nothing but where to go.
    _remove_outermost([node for node in root.css("ul, ol") if _site_links_only(node, host)])


def _remove_outermost(nodes: list[LexborNode]) -> None:
    """Remove `nodes`; one inside another goes with it (it is not touched once freed)."""
    ids = {n.mem_id for n in nodes}
    for node in [n for n in nodes if not _has_ancestor(n, ids)]:
        node.decompose()


def _is_byline(node: LexborNode) -> bool:
    names = " ".join(node.attributes.get(a) or "" for a in ("class", "id", "rel", "itemprop"))
    return (
        _BYLINE.search(names) is not None
        and not node.css(", ".join(_HEADINGS))
        and len(node.text(deep=True)) <= MAX_BYLINE_CHARS
    )


def _has_ancestor(node: LexborNode, ids: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
    return False


def _site_links_only(node: LexborNode, host: str | None) -> bool:
    links = node.css("a")
    if not links:
        return False
    text = _clean(node.text(deep=True, separator=" "))
    linked = _clean(" ".join(a.text(deep=True, separator=" ") for a in links))
    if not text or text != linked:  # a word outside the links: content
        return False
    return all(_same_site(a.attributes.get("href") or "", host) for a in links)


def _same_site(href: str, host: str | None) -> bool:
    """A relative address (or an anchor) is on the page's site; an absolute one only when
    its host is the crawled page's host."""
    parts = urlsplit(href.strip())
    if not parts.scheme and not parts.netloc:
        return True
    return host is not None and (parts.hostname or "").lower() == host


def _host(filename: str) -> str | None:
    """The page's host when it was crawled (its name is then its address)."""
    if re.match(r"(?i)https?://", filename):
        return (urlsplit(filename).hostname or "").lower() or None
    return None


def _inside_content(node: LexborNode, root: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent.mem_id != root.mem_id:
        if parent.tag in ("article", "section", "main"):
            return True
        parent = parent.parent
    return root.tag in ("article", "section", "main")


class _Walker:
    """Walks the DOM in document order, cutting a new section at every heading."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.first_h1: str | None = None
        self._stack: list[tuple[int, str]] = []
        self._blocks: list[str] = []
        self._inline: list[str] = []
        self._after_item = False

    def walk(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            if child.is_text_node:
                self._inline.append(re.sub(r"\s+", " ", child.text_content or ""))
                continue
            tag = child.tag
            if tag in _HEADINGS:
                self._heading(_HEADINGS[tag], _clean(child.text(deep=True, separator=" ")))
            elif tag == "br":
                self._inline.append("\n")
            elif tag == "a" and (target := _link_target(child)):
                self._link(child, target)
            elif tag == "pre":
                self.end_block()
                self._blocks.append(child.text(deep=True).strip("\n"))
            elif tag == "table":
                self.end_block()
                self._blocks.append(_table_text(child))
            elif tag == "li":
                self.end_block()
                self._inline.append("- ")
                self.walk(child)
                self.end_block(list_item=True)
            elif tag in _BLOCKS:
                self.end_block()
                self.walk(child)
                self.end_block()
            elif tag and not tag.startswith("-"):  # skip comments and doctype
                self.walk(child)

    def _link(self, node: LexborNode, target: str) -> None:
        """A link as Markdown, `[text](target)`: many help-centre answers are only "the
        answer is on this site", and without its address the bot could not give it. The
        widget shows it as a link; chunking keeps the address out of the searched text."""
        start = len(self._inline)
        self.walk(node)
        text = re.sub(r"\s+", " ", "".join(self._inline[start:])).strip()
        del self._inline[start:]
        if not text:
            return  # an image or icon link: nothing to read
        if text == target:
            self._inline.append(target)
        else:
            self._inline.append("[" + text.replace("[", "(").replace("]", ")") + f"]({target})")

    def end_block(self, list_item: bool = False) -> None:
        lines = [line.strip() for line in "".join(self._inline).split("\n")]
        block = "\n".join(line for line in lines if line)
        self._inline.clear()
        if not block or block == "-":
            return
        if list_item and self._after_item:
            self._blocks[-1] += "\n" + block  # a list stays one block, one item per line
        else:
            self._blocks.append(block)
        self._after_item = list_item

    def end_section(self) -> None:
        self.end_block()
        text = "\n\n".join(b for b in self._blocks if b.strip())
        if text:
            self.sections.append(Section(text=text, headings=[h for _, h in self._stack]))
        self._blocks.clear()
        self._after_item = False

    def _heading(self, level: int, heading: str) -> None:
        self.end_section()
        if not heading:
            return
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, heading))
        if level == 1 and self.first_h1 is None:
            self.first_h1 = heading


def _link_target(node: LexborNode) -> str | None:
    """The absolute web or mail address a link points to, escaped for Markdown; None for
    page anchors, relative paths (their site is unknown here) and scripts."""
    href = (node.attributes.get("href") or "").strip()
    if not re.match(r"(?i)(https?://[^\s/]+|mailto:\S)", href):
        return None
    return href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _table_text(table: LexborNode) -> str:
    rows = []
    for row in table.css("tr"):
        cells = [_cell_text(cell) for cell in row.css("th, td")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _cell_text(cell: LexborNode) -> str:
    """A table cell on one line, its links kept as in running text (price lists and
    "which form for which case" tables link to the page or form itself)."""
    walker = _Walker()
    walker.walk(cell)
    walker.end_section()
    return _clean(" ".join(s.text for s in walker.sections))


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _no_text(filename: str) -> LoadError:
    return LoadError(
        "no_text",
        f"“{filename}” has no readable text in its main content (the page may be built by "
        "JavaScript in the browser). Save the page after it has loaded, or copy its text "
        "into a .txt or .md file, and upload that.",
    )
