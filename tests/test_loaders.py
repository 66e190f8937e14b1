"""Document loaders: every supported format on a good file, and every kind of bad input
refused with a LoadError that names the file. PDFs go through the real sandboxed pypdf."""

from __future__ import annotations

import io
import pathlib
import random
import sys
import zipfile
import zlib

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from knowledge.documents import LoadError
from knowledge.loaders.html import load_html
from knowledge.loading import load
from tests.sample_files import pdf as build_pdf

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


# --- building test PDFs ---------------------------------------------------------------


def rewrite(pdf: bytes, edit) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    edit(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write(tmp_path: pathlib.Path, name: str, data: bytes) -> pathlib.Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: pathlib.Path, name: str, code: str, **limits) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load(path, name, **limits)
    assert caught.value.code == code, str(caught.value)
    assert name in str(caught.value)
    return caught.value


MANUAL = [
    "Returns and refunds\nYou can return any item within thirty days of delivery for a full\n"
    "refund. The item must be unused and in its original packaging, and the\nreceipt is "
    "required.\nAsk at the desk for a free return label.",
    "Warranty\nEvery tent carries a two-year warranty against manufacturing defects, includ-\n"
    "ing broken poles and failed seams; the warranty does not cover wear and tear.",
    "Contact\nCall the help desk on weekdays between nine and five, or write to us at any\n"
    "time using the form on the support page of the website.",
]


# --- PDF: good files ----------------------------------------------------------------------


def test_pdf_contoso_sections_keep_page_numbers():
    doc = load(FIXTURES / "PerksPlus.pdf", "PerksPlus.pdf")
    assert doc.pages == 4
    assert [s.page for s in doc.sections] == [1, 2, 3, 4]
    page3 = doc.sections[2].text
    assert "expense up to $1000 for fitness-related programs" in page3
    # Wrapped lines are joined into paragraphs; paragraphs stay apart.
    assert "support the health and wellness of employees. With PerksPlus" in page3
    assert "\n\n• Gym memberships\n\n" in page3


def test_pdf_outline_gives_headings_and_hyphenation_is_undone(tmp_path):
    def outline(writer):
        parent = writer.add_outline_item(title="Customer guide", page_number=0)
        writer.add_outline_item(title="Warranty", page_number=1, parent=parent)
        writer.add_outline_item(title="Contact", page_number=2, parent=parent)

    path = write(tmp_path, "guide.pdf", rewrite(build_pdf(MANUAL), outline))
    doc = load(path, "guide.pdf")
    assert [s.headings for s in doc.sections] == [
        ["Customer guide"],
        ["Customer guide", "Warranty"],
        ["Customer guide", "Contact"],
    ]
    assert "defects, including broken poles" in doc.sections[1].text
    assert "full refund. The item" in doc.sections[0].text
    assert doc.sections[0].text.endswith("receipt is required.\n\nAsk at the desk for a free return label.")


def test_pdf_running_headers_and_page_numbers_are_dropped(tmp_path):
    pages = [
        f"ACME Outdoor - Staff handbook\nChapter {n} explains rule number {n} in detail.\nPage {n} of 5"
        for n in range(1, 6)
    ]
    doc = load(write(tmp_path, "handbook.pdf", build_pdf(pages)), "handbook.pdf")
    assert [s.text for s in doc.sections] == [f"Chapter {n} explains rule number {n} in detail." for n in range(1, 6)]
    # A few pages are not enough to tell a running header from content.
    doc = load(write(tmp_path, "short.pdf", build_pdf(pages[:2])), "short.pdf")
    assert doc.sections[0].text.startswith("ACME Outdoor - Staff handbook")


def test_pdf_encrypted_with_empty_password_is_read(tmp_path):
    def lock(writer):
        writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")

    pdf = rewrite(build_pdf(MANUAL), lock)
    assert PdfReader(io.BytesIO(pdf)).is_encrypted
    doc = load(write(tmp_path, "locked.pdf", pdf), "locked.pdf")
    assert "two-year warranty" in doc.sections[1].text


def test_pdf_without_extension_is_recognised(tmp_path):
    doc = load(write(tmp_path, "download", build_pdf(MANUAL)), "download")
    assert doc.pages == 3


# --- PDF: bad files -----------------------------------------------------------------------


def test_pdf_with_a_real_password_is_refused(tmp_path):
    def lock(writer):
        writer.encrypt(user_password="s3cret", algorithm="AES-256")

    pdf = rewrite(build_pdf(MANUAL), lock)
    error = refused(write(tmp_path, "secret.pdf", pdf), "secret.pdf", "encrypted")
    assert "password" in str(error)


def test_truncated_pdf_is_corrupt(tmp_path):
    data = (FIXTURES / "PerksPlus.pdf").read_bytes()
    error = refused(write(tmp_path, "cut.pdf", data[: len(data) // 2]), "cut.pdf", "corrupt")
    assert "download it again" in str(error)


def test_random_bytes_after_a_pdf_header_are_corrupt(tmp_path):
    noise = random.Random(7).randbytes(20_000)
    refused(write(tmp_path, "noise.pdf", b"%PDF-1.7\n" + noise), "noise.pdf", "corrupt")
    refused(write(tmp_path, "noise2.pdf", noise.replace(b"\x00", b"")), "noise2.pdf", "corrupt")


def test_html_page_named_pdf_is_refused_not_parsed(tmp_path):
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Login</body></html>"
    error = refused(write(tmp_path, "report.pdf", page), "report.pdf", "wrong_type")
    assert "HTML web page" in str(error)


def test_executable_named_pdf_is_refused(tmp_path):
    program = pathlib.Path(sys.executable).resolve().read_bytes()[:65536]  # ELF or Mach-O
    error = refused(write(tmp_path, "invoice.pdf", program), "invoice.pdf", "executable")
    assert "program" in str(error)
    pe = bytearray(b"MZ\x90\x00" + bytes(400))
    pe[0x3C:0x40] = (0x80).to_bytes(4, "little")
    pe[0x80:0x84] = b"PE\x00\x00"
    refused(write(tmp_path, "setup.pdf", bytes(pe)), "setup.pdf", "executable")
    # Two letters are not a program: a text file may well start with "MZ".
    assert load(write(tmp_path, "mz.txt", b"MZ Outdoor opening hours"), "mz.txt").sections


def test_scanned_pdf_without_text_layer_is_refused(tmp_path):
    path = write(tmp_path, "scan.pdf", build_pdf(["", "", ""], image=True))
    error = refused(path, "scan.pdf", "no_text")
    assert "no text layer" in str(error) and "OCR" in str(error)
    # A scanner's stamp is not a text layer either.
    path = write(tmp_path, "stamped.pdf", build_pdf(["p. 1", "p. 2"], image=True))
    refused(path, "stamped.pdf", "no_text")


def test_pdf_with_too_many_pages_is_refused(tmp_path):
    path = write(tmp_path, "huge.pdf", build_pdf([""] * 5001, raw_contents=b""))
    error = refused(path, "huge.pdf", "too_many_pages")
    assert "5,001 pages" in str(error) and "5,000" in str(error)


def test_pdf_exactly_at_the_page_limit_is_read(tmp_path):
    path = write(tmp_path, "ok.pdf", build_pdf(MANUAL))
    assert load(path, "ok.pdf", max_pages=3).pages == 3
    refused(path, "ok.pdf", "too_many_pages", max_pages=2)


def test_pdf_parsing_past_the_time_limit_is_stopped(tmp_path):
    error = refused(FIXTURES / "PerksPlus.pdf", "PerksPlus.pdf", "too_complex", timeout_s=0.01)
    assert "0.01 seconds" in str(error)


def test_pdf_parsing_past_the_memory_limit_is_stopped():
    error = refused(FIXTURES / "PerksPlus.pdf", "PerksPlus.pdf", "too_complex", memory_mb=16)
    assert "16 MB" in str(error)


def test_pdf_decompression_bomb_is_refused(tmp_path):
    bomb = zlib.compress(b" " * 80_000_000, 9)  # 80 MB of content stream in ~80 KB
    pdf = build_pdf(["x"], raw_contents=bomb, stream_filter=b"/Filter /FlateDecode ")
    refused(write(tmp_path, "bomb.pdf", pdf), "bomb.pdf", "too_complex")


# --- every format ---------------------------------------------------------------------


def test_zero_byte_file_is_empty(tmp_path):
    for name in ("empty.pdf", "empty.txt", "empty.docx", "empty.xyz"):
        error = refused(write(tmp_path, name, b""), name, "empty")
        assert "0 bytes" in str(error)


def test_unsupported_type_names_supported_ones(tmp_path):
    error = refused(write(tmp_path, "prices.xlsx", b"PK\x03\x04" + bytes(100)), "prices.xlsx", "unsupported")
    assert "files of type .xlsx are not supported" in str(error)
    assert "CSV" in str(error) and ".docx" in str(error)
    refused(write(tmp_path, "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(50)), "photo.png", "unsupported")
    refused(write(tmp_path, "notes", b"just some words"), "notes", "unsupported")


# --- Markdown -------------------------------------------------------------------------


def test_markdown_heading_paths_code_and_tables():
    doc = load(FIXTURES / "refunds.md", "refunds.md")
    assert doc.title == "Help centre — Refunds"
    by_path = {tuple(s.headings): s.text for s in doc.sections}
    assert list(by_path) == [
        ("Refunds",),
        ("Refunds", "Physical goods"),
        ("Refunds", "Digital goods"),
        ("Refunds", "Digital goods", "Gift cards"),
        ("Delivery",),
        ("Delivery", "Tracking"),
    ]
    assert "| Opened     | 80 %   |" in by_path[("Refunds", "Physical goods")]
    code = by_path[("Refunds", "Digital goods")]
    assert "```bash\n# This line starts with a hash but is code, not a heading\n" in code
    assert code.rstrip().endswith("```")


# --- HTML -----------------------------------------------------------------------------


def test_html_keeps_main_text_and_drops_site_chrome():
    doc = load(FIXTURES / "help_page.html", "help_page.html")
    assert doc.title == "Shipping FAQ – Contoso Outdoors"
    assert [s.headings for s in doc.sections] == [
        ["Shipping"],
        ["Shipping", "Costs"],
        ["Shipping", "Costs", "Free shipping"],
        ["Shipping", "Returns"],
    ]
    text = "\n".join(s.text for s in doc.sections)
    assert "Orders placed before noon leave the warehouse the same day." in text
    assert "Standard shipping costs $5.99; express costs $14.99." in text
    assert "Method | Days\nStandard | 3-5" in text
    assert "- Orders over $50\n- Members, always" in text
    for chrome in (
        "Tents",
        "Free shipping over",
        "track everything",
        "font-family",
        "newsletter",
        "choose a tent",
        "Cookie settings",
    ):
        assert chrome not in text


def test_html_without_main_drops_page_header_and_footer(tmp_path):
    page = (
        b"<html><body><header><h1>Site</h1><p>Menu</p></header><h1>Opening hours</h1>"
        b"<p>Mon-Fri 9-17.</p><footer>Legal</footer></body></html>"
    )
    doc = load(write(tmp_path, "hours.htm", page), "hours.htm")
    assert [(s.headings, s.text) for s in doc.sections] == [(["Opening hours"], "Mon-Fri 9-17.")]


def test_html_links_keep_their_address_so_the_bot_can_give_it(tmp_path):
    page = (
        '<html><body><p>La réponse sur <a target="new" href="https://www.economie.gouv.fr/'
        'faq?id=7">le site du [Ministère]</a>. Écrivez-nous à <a href="mailto:aide@x.fr">'
        'aide@x.fr</a> ou voir <a href="https://x.fr/a">https://x.fr/a</a>.</p>'
        '<p><a href="#top">Haut</a> <a href="/plan">Plan</a> '
        '<a href="javascript:go()">Go</a> <a href="https://x.fr"><img src="logo.png"></a></p>'
        "</body></html>"
    ).encode()
    [section] = load(write(tmp_path, "faq.html", page), "faq.html").sections
    assert section.text == (
        "La réponse sur [le site du (Ministère)](https://www.economie.gouv.fr/faq?id=7). "
        "Écrivez-nous à [aide@x.fr](mailto:aide@x.fr) ou voir https://x.fr/a.\n\nHaut Plan Go"
    )


def test_html_table_cells_keep_their_links(tmp_path):
    page = (
        b"<html><body><table><tr><th>Case</th><th>Form</th></tr><tr><td>Lost card</td>"
        b'<td><a href="https://bank.example/forms/lost">Declare it</a><br>within <b>2</b> days</td>'
        b"</tr></table></body></html>"
    )
    [section] = load(write(tmp_path, "forms.html", page), "forms.html").sections
    assert section.text == ("Case | Form\nLost card | [Declare it](https://bank.example/forms/lost) within 2 days")


def test_html_with_no_text_is_refused(tmp_path):
    page = b"<html><body><div id=app></div><script>render()</script></body></html>"
    refused(write(tmp_path, "app.html", page), "app.html", "no_text")


# --- CSV / FAQ ------------------------------------------------------------------------


def test_french_faq_with_bom_semicolons_and_multiline_answers():
    doc = load(FIXTURES / "faq_fr.csv", "faq_fr.csv")
    assert [s.kind for s in doc.sections] == ["faq", "faq"]
    assert doc.sections[0].headings == ["Commandes"]
    assert doc.sections[0].text.startswith("Q: Puis-je annuler ma commande ?\nA: Oui, tant")
    assert doc.sections[1].text == (
        "Q: Délai de livraison ; combien de jours ?\nA: Deux à cinq jours ouvrés.\nUn e-mail confirme l'envoi."
    )


def test_faq_in_windows_1252_and_without_header(tmp_path):
    data = ('Où est ma commande ?,Suivez-la depuis votre compte.\nCan I pay by card?,"Yes, all major cards."\n').encode(
        "cp1252"
    )
    doc = load(write(tmp_path, "faq.csv", data), "faq.csv")
    assert [s.text for s in doc.sections] == [
        "Q: Où est ma commande ?\nA: Suivez-la depuis votre compte.",
        "Q: Can I pay by card?\nA: Yes, all major cards.",
    ]


def test_faq_answers_exported_as_html_become_text(tmp_path):
    data = (
        b'question,answer\n"How do I reset my password?","<div><p>Open <b>Settings</b>.</p>'
        b'<ul><li>Choose Security</li><li>Click Reset</li></ul></div>"\n'
    )
    doc = load(write(tmp_path, "helpdesk.csv", data), "helpdesk.csv")
    assert doc.sections[0].text == (
        "Q: How do I reset my password?\nA: Open Settings.\n\n- Choose Security\n- Click Reset"
    )


def test_plain_table_rows_become_records(tmp_path):
    data = b"sku\tname\tprice\nT-100\tTrail tent\t199\nB-7\tHiking boots\t\n"
    doc = load(write(tmp_path, "catalogue.tsv", data), "catalogue.tsv")
    assert [(s.kind, s.text) for s in doc.sections] == [
        ("row", "sku: T-100\nname: Trail tent\nprice: 199"),
        ("row", "sku: B-7\nname: Hiking boots"),
    ]


# --- DOCX -----------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables(tmp_path):
    document = docx.Document()
    document.add_heading("Store policies", level=0)
    document.add_heading("Refunds", level=1)
    document.add_paragraph("Refunds are paid to the original card within five days.")
    document.add_heading("Digital goods", level=2)
    document.add_paragraph("Unopened downloads only.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Product", "Window"
    table.cell(1, 0).text, table.cell(1, 1).text = "E-book", "14 days"
    document.add_heading("Exchanges", level=1)
    document.add_paragraph("Sizes can be exchanged in store.", style="List Bullet")
    path = tmp_path / "policies.docx"
    document.save(path)
    doc = load(path, "policies.docx")
    assert doc.title == "Store policies"
    assert [(s.headings, s.text) for s in doc.sections] == [
        (["Refunds"], "Refunds are paid to the original card within five days."),
        (["Refunds", "Digital goods"], "Unopened downloads only.\n\nProduct | Window\nE-book | 14 days"),
        (["Exchanges"], "- Sizes can be exchanged in store."),
    ]


def test_docx_decompression_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 50_000_000)
    assert path.stat().st_size < 200_000
    error = refused(path, "bomb.docx", "too_large")
    assert "decompression bomb" in str(error)


def test_docx_that_is_not_a_word_archive(tmp_path):
    path = tmp_path / "sheet.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    refused(path, "sheet.docx", "wrong_type")
    refused(write(tmp_path, "broken.docx", b"PK\x03\x04" + bytes(300)), "broken.docx", "corrupt")
    refused(write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)), "old.docx", "wrong_type")


# --- plain text -----------------------------------------------------------------------


def test_text_paragraphs_and_fallback_encoding(tmp_path):
    text = "Opening hours\n\n\n  Monday   to Friday,\n9:00–17:00 \r\n\r\nClosed on holidays. café"
    data = text.encode("cp1252")
    doc = load(write(tmp_path, "hours.txt", data), "hours.txt")
    assert doc.sections[0].text == ("Opening hours\n\nMonday to Friday,\n9:00–17:00\n\nClosed on holidays. café")


def test_text_file_too_large_for_memory_limit_is_refused(tmp_path):
    path = write(tmp_path, "dump.txt", b"word " * 60_000)
    error = refused(path, "dump.txt", "too_large", memory_mb=1)
    assert "Split it" in str(error)


def test_binary_garbage_named_txt_is_refused(tmp_path):
    noise = random.Random(3).randbytes(5000)
    refused(write(tmp_path, "notes.txt", noise), "notes.txt", "not_text")
    refused(write(tmp_path, "page.md", b"\x89PNG\r\n\x1a\n" + noise), "page.md", "wrong_type")


def test_a_crawled_help_centre_article_loses_its_in_page_navigation():
    # The layout of a hosted help centre's article (Zendesk's default theme): breadcrumbs,
    # the byline, the article's footer and "Related articles" sit inside <main> and <article>.
    page = (
        "<html><head><title>Where is my parcel? – Contoso Help Centre</title></head>"
        "<body><main><ol class='breadcrumbs'><li><a href='/hc'>Help Centre</a></li>"
        "<li><a href='https://help.example.com/hc/s/1'>Deliveries</a></li></ol>"
        "<article><header><h1>Where is my parcel?</h1>"
        "<div class='article-author'>Support team<ul class='meta'><li>Updated</li></ul></div></header>"
        "<div class='article-body'><p>Parcels leave within 2 days.</p>"
        "<ul><li>Track it on <a href='/track'>the tracking page</a> with its number</li></ul>"
        "<ul><li><a href='https://carrier.example.net/track'>Carrier A</a></li></ul></div>"
        "<footer><h2>Was this article helpful?</h2><small>0 out of 0 found this helpful</small>"
        "<a href='#top'>Return to top</a></footer>"
        "<section class='related-articles'><h2>Related articles</h2><ul>"
        "<li><a href='/hc/articles/2'>Can I change my delivery address?</a></li>"
        "<li><a href='https://help.example.com/hc/articles/3'>Lost parcels</a></li></ul></section>"
        "</article></main></body></html>"
    ).encode()
    doc = load_html(page, "https://help.example.com/hc/articles/1")
    assert doc.title == "Where is my parcel?"  # the site's name would prefix every passage
    assert [(s.headings, s.text) for s in doc.sections] == [
        (
            ["Where is my parcel?"],
            "Parcels leave within 2 days.\n\n- Track it on the tracking page with its number\n"
            "- [Carrier A](https://carrier.example.net/track)",
        )
    ]
    # Uploaded, the page has no address: a list linking to any absolute address is kept.
    uploaded = "\n".join(s.text for s in load_html(page, "article.html").sections)
    assert "Lost parcels" in uploaded and "Help Centre" in uploaded and "helpful" not in uploaded
