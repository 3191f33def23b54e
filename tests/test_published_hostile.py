"""Hostile published documents are contained like hostile submissions: each is
refused with one clear Chinese message for that file, within the readers' explicit
limits, quickly, and nothing runs that the document carries. The files are made
here: a malformed and an encrypted PDF, a PDF of 10,000 pages, a scan without a
text layer, a DOCX zip bomb, a 50 MB page and a page full of scripts."""

from __future__ import annotations

import io
import time
import zipfile
from functools import cache

import pytest
from PIL import Image
from test_published_html import APPLIED, PROACTIVE, REVIEWED, applications, page, proactive_national, review

from pipeline.ingest.published import PublishedRefused, read_html, word
from pipeline.ingest.published import pdf as pdf_reader
from pipeline.ingest.published.files import read_report


def refused(read, *args) -> str:
    started = time.monotonic()
    with pytest.raises(PublishedRefused) as caught:
        read(*args)
    assert time.monotonic() - started < 5  # refused from the outside, not after parsing it all
    return str(caught.value)


def pdf_of_pages(count: int) -> bytes:
    """A valid PDF of `count` empty A4 pages, with its cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{n} 0 R" for n in range(3, 3 + count))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@cache
def a_report_pdf() -> bytes:
    """A real report PDF: the HTML test page printed by WeasyPrint (a writer nianbao uses)."""
    from weasyprint import HTML

    html = page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)).decode()
    style = "<style>table { border-collapse: collapse } td { border: 1px solid black }</style>"
    return HTML(string=html.replace("<head>", "<head>" + style)).write_pdf()


def test_a_printed_pdf_reads_before_the_hostile_ones_are_refused():
    report = pdf_reader.read_pdf(a_report_pdf(), 2023)
    assert report.unread == []
    assert {(c.row, c.column): c.value for c in report.cells}[("fees", "amount")] == "24252.311082"


def test_a_malformed_pdf_is_refused():
    assert "PDF 文件已损坏" in refused(pdf_reader.read_pdf, b"%PDF-1.7\n" + bytes(range(256)) * 64, 2023)
    truncated = a_report_pdf()
    assert "PDF 文件已损坏" in refused(pdf_reader.read_pdf, truncated[: len(truncated) // 2], 2023)
    assert "不是 PDF" in refused(pdf_reader.read_pdf, b"<html>not a pdf</html>", 2023)


def test_an_encrypted_pdf_is_refused():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_report_pdf())))
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    assert "已加密（需要密码才能打开）" in refused(pdf_reader.read_pdf, out.getvalue(), 2023)


def test_a_pdf_of_ten_thousand_pages_is_refused_by_its_page_count():
    message = refused(pdf_reader.read_pdf, pdf_of_pages(10_000), 2023)
    assert message == f"PDF 文件有 10000 页，超过 {pdf_reader.MAX_PAGES} 页的上限，不读取"


def test_a_scan_without_a_text_layer_is_refused():
    scan = io.BytesIO()
    Image.new("L", (620, 877), 255).save(scan, "PDF")  # how scanners write a page
    assert "没有文字层（是扫描件或图片）" in refused(pdf_reader.read_pdf, scan.getvalue(), 2023)
    assert "没有文字层" in refused(pdf_reader.read_pdf, pdf_of_pages(2), 2023)


def test_a_docx_zip_bomb_is_refused_from_its_declared_sizes():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(word.MAX_UNPACKED // len(chunk) + 1):
                fh.write(chunk)
    data = bomb.getvalue()
    assert len(data) < 1024 * 1024  # a small file that unpacks past the limit
    assert "疑为压缩炸弹" in refused(word.read_docx, data, 2023)
    # under the total, but packed far tighter than any document part
    ratio = io.BytesIO()
    with zipfile.ZipFile(ratio, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))
    assert "压缩比异常" in refused(word.read_docx, ratio.getvalue(), 2023)
    assert "无法作为 zip 包打开" in refused(word.read_docx, b"PK\x03\x04 broken", 2023)


def test_a_fifty_megabyte_page_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.html"
    with big.open("wb") as fh:
        fh.write(b"<html><body>")
        fh.write(b"<p>x</p>" * (50 * 1024 * 1024 // 8))
    assert "超过 10 MB 的上限" in refused(read_report, big, 2023)  # from its size on disk
    assert "超过 10 MB 的上限" in refused(read_html, big.read_bytes(), 2023)


def test_scripts_in_a_page_are_never_run_and_never_read():
    hostile = page(proactive_national(PROACTIVE), applications(APPLIED), review(REVIEWED)).decode()
    forged = "<table><tr><td>规章</td><td>999</td><td>999</td><td>999</td></tr></table>"
    hostile = hostile.replace(
        "<p>五、存在的主要问题",
        f"<script>document.write('{forged}'); fetch('http://127.0.0.1:9/steal')</script>"
        f'<noscript>{forged}</noscript><p onclick="alert(1)">五、存在的主要问题',
    ).replace("一是公开意识有待加强。", "一是公开意识有待加强。<script>var x = '九九九';</script>")
    report = read_html(hostile.encode(), 2023)
    assert report.unread == []
    assert {(c.row, c.column): c.value for c in report.cells}[("regulations", "issued")] == "0"
    assert report.sections["problems"] == "一是公开意识有待加强。"
    assert not any("999" in text or "document" in text for text in report.sections.values())
