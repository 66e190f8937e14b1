"""Issue #17: the loaders and the chunker under Hypothesis. Random bytes and structured-ish
input (hostile Markdown, HTML and CSV, huge lines, odd encodings, Word files and PDFs built
properly and then truncated or with bytes flipped) go through `knowledge.loading.load` under
every extension, and what loads goes through the chunker. Only `LoadError` may escape, each
call within CALL_SECONDS, and the text formats (parsed in this process) within PEAK_MB of
Python allocations (tracemalloc; PDFs are parsed in a child process with its own limits).

In the suite a few derandomized examples per strategy (~15 s); the longer run sets
PROMPTEUR_FUZZ_EXAMPLES (e.g. 2000) and PROMPTEUR_FUZZ_RANDOM=1 for fresh examples each run."""

from __future__ import annotations

import io
import os
import pathlib
import tempfile
import time
import tracemalloc
import zipfile

import docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.chunking import chunk_document
from knowledge.documents import LoadedDocument, LoadError, Section
from knowledge.loading import EXTENSIONS, load
from tests.sample_files import pdf as build_pdf

EXAMPLES = int(os.environ.get("PROMPTEUR_FUZZ_EXAMPLES", "0"))
CALL_SECONDS = 5.0
PEAK_MB = 64
FUZZ = settings(
    max_examples=EXAMPLES or 25,
    derandomize=not os.environ.get("PROMPTEUR_FUZZ_RANDOM"),
    database=None,
    deadline=None,  # timed below, per call, with a clearer message
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
# A PDF costs a sandbox process (~0.3 s): fewer of them in the suite.
PDF_FUZZ = settings(FUZZ, max_examples=EXAMPLES or 4)

NAMES = [f"fuzzed{ext}" for ext in EXTENSIONS] + ["fuzzed", "fuzzed.bin"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis"]
# Pieces of hostile text formats, joined at random: unclosed and deeply nested markup,
# front matter, setext headings, tables, quotes that never close, NULs and BOMs mid-text.
FRAGMENTS = [
    "# Heading\n",
    "######## too deep\n",
    "Title\n=====\n",
    "---\ntitle: [unclosed\n---\n",
    "---\n",
    "```python\nnever closed\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "[link](javascript:alert(1)) ![img](x)\n",
    "<html><head><title>t</title></head><body>",
    "<div>" * 50,
    "</div>" * 3,
    "<table><tr><td>cell<td>cell",
    "<script>while(1){}</script>",
    "<!-- unclosed comment",
    "<![CDATA[ x ]]>",
    "<main><article><h1>Title</h1><p>Text</p>",
    "&amp;&#0;&#xD800;&bogus;",
    'question,answer\n"How?","Like ""this"""\n',
    '"never closed,\n',
    "a\tb\tc\n1\t2\n",
    ";;;;\n",
    "\x00",
    "\ufeff",
    "\u202e\u200b\u00ad",
    "\ud7ff\U0001f600",
    "\r\n\r\r\n",
    "x" * 5000 + "\n",
]
# Sizes of one line with no newline (the data is built in the test: Hypothesis would print it).
HUGE_LINE = st.integers(min_value=140_000, max_value=600_000)


@st.composite
def text_documents(draw) -> bytes:
    pieces = draw(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=200), max_size=30))
    text = "".join(pieces)
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace")


@st.composite
def flipped(draw, original: bytes) -> bytes:
    """`original` cut short and/or with some bytes changed."""
    data = bytearray(original[: draw(st.integers(min_value=1, max_value=len(original)))])
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[at] = draw(st.integers(min_value=0, max_value=255))
    return bytes(data)


def _word_file() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Returns"
    document.add_heading("Returns policy", level=1)
    document.add_paragraph("Returns are free within 30 days.")
    document.add_paragraph("Bring the receipt.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(1, 1).text = "Item", "Days"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


WORD_FILE = _word_file()
WORD_PARTS = {
    info.filename: zipfile.ZipFile(io.BytesIO(WORD_FILE)).read(info)
    for info in zipfile.ZipFile(io.BytesIO(WORD_FILE)).infolist()
}
PDF_FILE = build_pdf(["Returns are free within 30 days.", "Shipping takes two days."])


@st.composite
def damaged_word_files(draw) -> bytes:
    """A real .docx whose parts (XML, relationships, content types) are cut or flipped, then
    zipped again: the zip is sound, so the damage reaches python-docx's XML layers."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in WORD_PARTS.items():
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                continue  # a part missing
            archive.writestr(name, draw(flipped(data)) if draw(st.booleans()) else data)
    return buffer.getvalue()


def _load_and_chunk(data: bytes, name: str, *, measure_memory: bool = True) -> None:
    """The property: load (and chunk what loads) raises nothing but LoadError, in time and
    within memory."""
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "upload"
        path.write_bytes(data)
        measure = measure_memory and not name.endswith(".pdf")
        if measure:
            tracemalloc.start()
        started = time.monotonic()
        try:
            document = load(path, name, timeout_s=CALL_SECONDS)
            chunks = chunk_document(document, title=name)
            assert chunks or not any(s.text.strip() for s in document.sections), document
        except LoadError as refused:
            assert str(refused).strip(), "a refusal says why"
        finally:
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20 if measure else 0.0
            if measure:
                tracemalloc.stop()
        # A PDF's bound is its sandbox's timeout (CALL_SECONDS), plus the time to kill and reap it.
        bound = CALL_SECONDS + (2.0 if name.endswith(".pdf") else 0.0)
        assert elapsed < bound, f"{name}: {elapsed:.1f} s for {len(data)} bytes"
        assert peak < PEAK_MB + 8 * len(data) / 2**20, f"{name}: {peak:.0f} MB for {len(data)} bytes"


@FUZZ
@given(data=st.binary(min_size=1, max_size=4096), name=st.sampled_from(NAMES))
def test_random_bytes_under_every_name(data, name):
    _load_and_chunk(data, name)


@FUZZ
@given(data=text_documents(), name=st.sampled_from([n for n in NAMES if not n.endswith((".pdf", ".docx"))]))
def test_hostile_text_formats(data, name):
    _load_and_chunk(data, name)


@settings(FUZZ, max_examples=EXAMPLES or 3)
@given(
    size=HUGE_LINE,
    separator=st.sampled_from([" ", ",", ";", ""]),
    name=st.sampled_from(["huge.txt", "huge.md", "huge.html", "huge.csv"]),
)
def test_huge_lines(size, separator, name):
    # Time only: tracemalloc slows the chunker's many small allocations ~20-fold on these.
    _load_and_chunk(("word" + separator).encode() * (size // 5), name, measure_memory=False)


def test_a_csv_line_longer_than_a_field_is_refused_with_a_sentence(tmp_path):
    """Found by the fuzzer: a line past the csv module's field limit raised csv.Error out of
    the delimiter sniffing (a 500 for the upload's job) instead of a LoadError."""
    path = tmp_path / "long.csv"
    path.write_bytes(b"word " * 40_000)
    try:
        load(path, "long.csv")
    except LoadError as refused:
        assert "cell longer than" in str(refused) and "long.csv" in str(refused)
    else:
        raise AssertionError("a 200,000-character cell was read as a CSV file")


@FUZZ
@given(data=damaged_word_files())
def test_damaged_word_files(data):
    _load_and_chunk(data, "fuzzed.docx")


@PDF_FUZZ
@given(data=flipped(PDF_FILE))
def test_damaged_pdfs(data):
    _load_and_chunk(data, "fuzzed.pdf")


def test_a_long_run_without_spaces_is_chunked_in_linear_time():
    """Found by the fuzzer (a 190 KB "word,word,..." line took 18 s on a busy machine): with
    no space or newline the splitter fell back to single characters, ~4 µs each and a list slot
    per character; the largest text file read (128 MB) took minutes and gigabytes. Long runs
    are now cut before splitting: 3 MB takes well under a second (over 10 s before)."""
    for text in ("x" * 3_000_000, "word," * 600_000):
        started = time.monotonic()
        chunks = chunk_document(LoadedDocument(sections=[Section(text=text)]), "minified.txt")
        assert time.monotonic() - started < 3.0
        assert "".join(c.text.replace("\n", "") for c in chunks) == text  # nothing lost
        assert max(len(c.text) for c in chunks) <= 1000
