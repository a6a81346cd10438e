"""Text out of an uploaded document: plain text, Markdown, HTML and PDF.

The type comes from the bytes (`storage.content`), the file name only tells Markdown from
plain text. A file of another type is refused (415); one that can't be read as its type
(a corrupt PDF) raises `ExtractionFailed`, which fails the document with the reason."""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser

from personae.errors import UnsupportedMediaType, ValidationFailed
from personae.storage.content import detect_mime

TEXT, MARKDOWN, HTML, PDF = "text/plain", "text/markdown", "text/html", "application/pdf"
SUPPORTED = (TEXT, MARKDOWN, HTML, PDF)
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown")


class ExtractionFailed(ValidationFailed):
    """The file is of a supported type but can't be read as one."""


def document_type(content: bytes, filename: str) -> str:
    """The type of `content` if Personae can read it, else 415."""
    found = detect_mime(content)
    if found == TEXT and filename.lower().endswith(MARKDOWN_SUFFIXES):
        return MARKDOWN
    if found in SUPPORTED:
        return found
    raise UnsupportedMediaType(
        f"{found} documents can't be read; send text, Markdown, HTML or PDF", field="body"
    )


def extract(content: bytes, mime_type: str) -> str:
    """The text of a document of `mime_type` (one of `SUPPORTED`)."""
    if mime_type == PDF:
        return _pdf(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExtractionFailed(f"not UTF-8 text (byte {error.start})", field="body") from None
    return _html(text) if mime_type == HTML else text


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns about every oddity
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ExtractionFailed("the PDF is encrypted", field="body")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ExtractionFailed:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise ExtractionFailed(f"the PDF can't be read: {error}", field="body") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ExtractionFailed("the PDF holds no text (scanned pages need OCR)", field="body")
    return text


BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "li",
        "ul",
        "ol",
        "table",
        "tr",
        "br",
        "hr",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "title",
        "dt",
        "dd",
        "figcaption",
    }
)
SPACES = re.compile(r"\s+")
SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})


class _Text(HTMLParser):
    """Visible text, headings as Markdown headings, blocks as paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                self.parts.append("#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(SPACES.sub(" ", data))


def _html(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    paragraphs = ("".join(parser.parts)).split("\n\n")
    return "\n\n".join(SPACES.sub(" ", p).strip() for p in paragraphs if p.strip())
