"""Text out of documents, with the type taken from the bytes."""

from __future__ import annotations

import pytest

from personae.errors import UnsupportedMediaType
from personae.knowledge.extract import ExtractionFailed, document_type, extract
from tests.pdfs import text_pdf


def test_types_come_from_the_bytes_and_only_markdown_from_the_name() -> None:
    assert document_type(b"plain words", "notes.txt") == "text/plain"
    assert document_type(b"# Title\n\nbody", "notes.md") == "text/markdown"
    assert document_type(b"<!DOCTYPE html><html><body>x</body></html>", "a.txt") == "text/html"
    assert document_type(text_pdf(["hi"]), "report.txt") == "application/pdf"
    with pytest.raises(UnsupportedMediaType, match="image/png"):
        document_type(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "notes.md")
    with pytest.raises(UnsupportedMediaType):
        document_type(b"MZ\x90\x00 an executable", "readme.txt")


def test_html_keeps_visible_text_in_blocks_and_headings() -> None:
    page = (
        b"<html><head><title>T</title><style>p{}</style><script>evil()</script></head>"
        b"<body><h2>Menu</h2><p>Soup of <b>the</b> day</p><ul><li>one</li><li>two</li></ul>"
        b"</body></html>"
    )
    assert extract(page, "text/html") == "## Menu\n\nSoup of the day\n\none\n\ntwo"


def test_pdf_text_comes_page_by_page_and_a_broken_pdf_says_why() -> None:
    pdf = text_pdf(["First page (one).", "Second page."])
    assert extract(pdf, "application/pdf") == "First page (one).\n\nSecond page."
    with pytest.raises(ExtractionFailed, match="PDF can't be read"):
        extract(b"%PDF-1.7\n" + b"\x00garbage" * 50, "application/pdf")
    with pytest.raises(ExtractionFailed, match="UTF-8"):
        extract(b"caf\xe9", "text/plain")
