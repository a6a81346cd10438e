"""Splitting text into chunks of about `size` tokens that overlap by `overlap` tokens,
cut where the text itself breaks: at headings first, then paragraphs, then sentences.

Tokens are counted as words and punctuation marks, which tracks the word-piece counts of
embedding models closely enough to size chunks, with no tokenizer to install."""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(r"\w+|[^\w\s]")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


@dataclass(frozen=True)
class Piece:
    """One chunk: its text, its token count and the headings above it."""

    text: str
    tokens: int
    headings: tuple[str, ...] = ()


@dataclass
class _Section:
    headings: tuple[str, ...]
    paragraphs: list[str]


def split(text: str, *, size: int = 512, overlap: int = 64) -> list[Piece]:
    """`text` as chunks of at most `size` tokens (a chunk repeats up to `overlap` tokens
    of the one before it, within a section); a heading always starts a new chunk."""
    if overlap >= size:
        raise ValueError("the overlap must be smaller than the chunk size")
    pieces: list[Piece] = []
    for section in _sections(text):
        units = [unit for paragraph in section.paragraphs for unit in _units(paragraph, size)]
        pieces += _pack(units, section.headings, size, overlap)
    return pieces


def _sections(text: str) -> list[_Section]:
    """Paragraphs grouped under the Markdown headings that precede them."""
    sections = [_Section((), [])]
    path: list[tuple[int, str]] = []
    for block in PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        lines: list[str] = []
        for line in block.strip("\n").split("\n"):
            heading = HEADING.match(line.strip())
            if heading is None:
                lines.append(line)
                continue
            if lines:
                sections[-1].paragraphs.append("\n".join(lines))
                lines = []
            level = len(heading.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, heading.group(2)))
            sections.append(_Section(tuple(title for _, title in path), [line.strip()]))
        if lines and "\n".join(lines).strip():
            sections[-1].paragraphs.append("\n".join(lines).strip())
    return [section for section in sections if section.paragraphs]


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int
    opens_paragraph: bool


def _units(paragraph: str, size: int) -> list[_Unit]:
    """The paragraph whole if it fits, else its sentences, else windows of `size` tokens."""
    tokens = count_tokens(paragraph)
    if tokens <= size:
        return [_Unit(paragraph, tokens, True)]
    parts: list[tuple[str, int]] = []
    for sentence in SENTENCE_END.split(paragraph):
        count = count_tokens(sentence)
        parts += [(sentence, count)] if count <= size else _windows(sentence, size)
    return [_Unit(text, count, index == 0) for index, (text, count) in enumerate(parts)]


def _windows(text: str, size: int) -> list[tuple[str, int]]:
    spans = [match.span() for match in TOKEN.finditer(text)]
    return [
        (text[spans[i][0] : spans[min(i + size, len(spans)) - 1][1]], min(size, len(spans) - i))
        for i in range(0, len(spans), size)
    ]


def _tail(text: str, tokens: int) -> str:
    """The last `tokens` tokens of `text`, as written."""
    spans = [match.start() for match in TOKEN.finditer(text)]
    return text[spans[-tokens] :] if tokens and len(spans) >= tokens else text


def _pack(units: list[_Unit], headings: tuple[str, ...], size: int, overlap: int) -> list[Piece]:
    pieces: list[Piece] = []
    text, count = "", 0
    for unit in units:
        if text and count + unit.tokens > size:
            pieces.append(Piece(text, count, headings))
            room = min(overlap, size - unit.tokens)
            text = _tail(text, room) if room > 0 else ""
            count = count_tokens(text)
        joiner = "\n\n" if unit.opens_paragraph else " "
        text = f"{text}{joiner}{unit.text}" if text else unit.text
        count += unit.tokens
    if text:
        pieces.append(Piece(text, count, headings))
    return pieces
