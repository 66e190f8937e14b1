"""Small files built in tests, good and hostile, so no large fixture needs committing."""

from __future__ import annotations

import io
import zipfile


def pdf(
    pages: list[str],
    *,
    image: bool = False,
    empty_pages: bool = False,
    stream_filter: bytes = b"",
    raw_contents: bytes | None = None,
) -> bytes:
    """A minimal PDF written by hand: one Helvetica text line per line of each page's text,
    optionally a 1x1 image drawn full-page (how a scan looks to a parser). `empty_pages`
    writes pages with no content at all, to make thousands of pages cheaply."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream",
    }
    kids = []
    for number, text in enumerate(pages):
        page_id, content_id = 5 + 2 * number, 6 + 2 * number
        if raw_contents is not None or empty_pages:
            content = raw_contents or b""
        else:
            ops = [b"BT /F1 11 Tf 14 TL 72 720 Td"]
            for line in text.split("\n"):
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
            ops.append(b"ET")
            if image:
                ops.append(b"q 612 0 0 792 0 0 cm /Im0 Do Q")
            content = b"\n".join(ops)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            b"<< /Font << /F1 3 0 R >> /XObject << /Im0 4 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        objects[content_id] = b"<< /Length %d %s>>\nstream\n" % (len(content), stream_filter) + content + b"\nendstream"
        kids.append(b"%d 0 R" % page_id)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def encrypted_pdf(pages: list[str], password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf(pages))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bomb(unpacked_mb: int = 50) -> bytes:
    """A .docx (zip) whose document part unpacks to `unpacked_mb` MB from a few dozen KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * (unpacked_mb * 1024 * 1024))
    return buffer.getvalue()


def multipart(files: list[tuple[str, bytes]], boundary: str = "prompteur-test-boundary") -> tuple[bytes, str]:
    """A multipart body written byte by byte, so a file name reaches the server exactly as
    given (HTTP clients escape or refuse some names)."""
    body = bytearray()
    for name, data in files:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode("utf-8", "surrogateescape")
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"
