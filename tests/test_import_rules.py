"""The layers of ../shared/DESIGN.md, enforced: who may import what.

Every import statement is read from the source (also those inside functions), so a lazy
import cannot slip past. A rule names the folder it binds and the module prefixes it forbids.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["bots", "knowledge", "builder"]


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from bots.store import tables` imports bots.store.tables
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")] + [ROOT / "streamlit_app.py"]
    return {_module_of(p): _imports(p) for p in files}


SOURCES = _sources()


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# (who, forbidden prefixes, except these modules of `who`)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("knowledge", ("bots", "builder", "streamlit", "fastapi", "starlette", "openai", "sqlalchemy"), ()),
    ("bots", ("builder", "streamlit"), ()),
    # The pure core: the builder imports it to preview exactly the prompt the model gets.
    (
        "bots.core",
        (
            "sqlalchemy",
            "fastapi",
            "starlette",
            "httpx",
            "openai",
            "streamlit",
            "chromadb",
            "bots.store",
            "bots.http",
            "bots.cli",
            "bots.llm.providers",
            "bots.llm.local_model",
            "bots.chat",
            "bots.runtime",
            "bots.settings",
            "bots.knowledge_base",
            "bots.ingestion",
            "bots.uploads",
        ),
        (),
    ),
    (
        "bots.llm",
        ("sqlalchemy", "fastapi", "starlette", "bots.store", "bots.http", "bots.cli", "bots.chat", "bots.runtime"),
        (),
    ),
    ("bots.store", ("fastapi", "starlette", "openai", "bots.http", "bots.cli", "bots.chat", "bots.runtime"), ()),
    (
        "bots.cli",
        (
            "sqlalchemy",
            "fastapi",
            "starlette",
            "openai",
            "chromadb",
            "bots.store",
            "bots.http",
            "bots.runtime",
            "bots.chat",
        ),
        (),
    ),
    (
        "builder",
        (
            "bots.store",
            "bots.http",
            "bots.llm",
            "bots.runtime",
            "bots.chat",
            "bots.knowledge_base",
            "bots.ingestion",
            "sqlalchemy",
            "fastapi",
            "chromadb",
            "openai",
            "knowledge",
        ),
        (),
    ),
]

# (library, the only places it may be imported from)
ONLY_IN: list[tuple[str, tuple[str, ...]]] = [
    ("streamlit", ("builder", "streamlit_app")),
    ("fastapi", ("bots.http",)),
    ("starlette", ("bots.http",)),
    ("chromadb", ("knowledge.vector_index",)),
    ("openai", ("bots.llm",)),
    ("pypdf", ("knowledge.loaders",)),
]


# (who, the only things it may import besides the standard library)
ONLY_IMPORTS: list[tuple[str, tuple[str, ...]]] = [
    # The API's response models, shared by the server and its clients (CLI, builder): a client
    # importing them must not pull in FastAPI, SQL or anything else of the server.
    ("bots.schemas", ("pydantic", "bots.core", "bots.schemas")),
]


def _outside(who: str, allowed: tuple[str, ...]) -> list[str]:
    out = []
    for module, imports in SOURCES.items():
        if not _within(module, who):
            continue
        for name in sorted(imports):
            stdlib = name.split(".")[0] in sys.stdlib_module_names or name == "__future__"
            if not stdlib and not any(_within(name, a) for a in allowed):
                out.append(f"{module} imports {name}")
    return out


@pytest.mark.parametrize(("who", "allowed"), ONLY_IMPORTS, ids=[r[0] for r in ONLY_IMPORTS])
def test_module_imports_only_what_it_may(who, allowed):
    assert any(_within(m, who) for m in SOURCES), f"no module {who} read"
    assert _outside(who, allowed) == []


def _violations(who: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    out = []
    for module, imports in SOURCES.items():
        if not _within(module, who) or module in allowed:
            continue
        for name in sorted(imports):
            if any(_within(name, f) for f in forbidden):
                out.append(f"{module} imports {name}")
    return out


@pytest.mark.parametrize(("who", "forbidden", "allowed"), RULES, ids=[r[0] for r in RULES])
def test_layer_imports(who, forbidden, allowed):
    assert _violations(who, forbidden, allowed) == []


@pytest.mark.parametrize(("library", "places"), ONLY_IN, ids=[r[0] for r in ONLY_IN])
def test_library_stays_in_its_module(library, places):
    offenders = [
        f"{module} imports {name}"
        for module, imports in SOURCES.items()
        if not any(_within(module, p) for p in places)
        for name in imports
        if _within(name, library)
    ]
    assert offenders == []


def test_the_rules_can_fail():
    """A rule that never matches anything would pass forever: check the checker."""
    fake = {
        "knowledge.x": {"bots.chat"},
        "bots.core.y": {"sqlalchemy.orm"},
        "bots.schemas.z": {"json", "pydantic", "fastapi.responses", "bots.store.tables"},
    }
    saved = dict(SOURCES)
    try:
        SOURCES.clear()
        SOURCES.update(fake)
        assert _violations("knowledge", ("bots",), ()) == ["knowledge.x imports bots.chat"]
        assert _violations("bots.core", ("sqlalchemy",), ()) == ["bots.core.y imports sqlalchemy.orm"]
        assert _outside("bots.schemas", ("pydantic",)) == [
            "bots.schemas.z imports bots.store.tables",
            "bots.schemas.z imports fastapi.responses",
        ]
    finally:
        SOURCES.clear()
        SOURCES.update(saved)


def test_every_package_is_read():
    assert any(_within(m, "bots.core") for m in SOURCES)
    assert any(_within(m, "knowledge.loaders") for m in SOURCES)
    assert "streamlit_app" in SOURCES
