"""Plain text of feed fields: tags stripped, references decoded, spaces folded, capped.

Summaries arrive as HTML fragments of every quality, from "<p>text</p>" to 60 KB articles
and hostile markup. Simple markup is read by a regular expression (_simple_text), the rest
by html.parser (_from_markup); both give the same text, and both read long markup only as
far as the cap needs.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

_BLOCK = frozenset({"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3",
                    "h4", "h5", "h6", "blockquote", "section", "article", "figure", "hr"})
_SKIP = frozenset({"script", "style", "noscript", "iframe", "template", "svg"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with spaces where block elements break."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# HTML comments as browsers end them: "<!-->" and "<!--->" close at once, "--!>" closes too,
# and an unterminated one runs to the end. html.parser leaves those ill-formed ones as text.
_COMMENT = re.compile(r"<!--(?:-?>|.*?(?:--!?>|\Z))", re.DOTALL)
# A tag-like run of 2,000+ characters with no ">": html.parser rescans such a run from each
# "<" in it, so 60 KB of "<a <a <a …" cost 40 s of CPU (quadratic) and froze the poller.
# No reader needs it: an element's start tag keeps its name (a long <script ...> must still
# hide its content), anything else goes. Found by splitting at ">" (linear: a regex for the
# run would rescan up to 2,000 characters from every "<").
_LONG_TAG = 2000
_TAG_START = re.compile(r"<(?:([A-Za-z][\w:.-]{0,40}+)|[/!?])")


def _without_long_tags(text: str) -> str:
    """Return ``text`` with every tag-like run of _LONG_TAG+ characters cut to its name."""
    parts = text.split(">")
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if len(part) < _LONG_TAG:
            continue
        m = _TAG_START.search(part, 0, len(part) - _LONG_TAG + 1)
        if m is not None:
            name = m.group(1)
            tail = (f"<{name}" + (">" if i == last else "")) if name else " "
            parts[i] = part[: m.start()] + tail
    return ">".join(parts)


# Markup is read in steps of this many characters, and no further once the text already runs
# past the cap by the margin: a 60 KB content:encoded body yields its 1,500 characters from
# its first few KB. html.parser is incremental and holds back an unfinished tag or character
# reference, so the text read so far is exactly the start of the whole text but for its last
# few characters (a reference it could not yet tell was one): the margin covers those.
_HTML_STEP = 2048
_MARGIN = 64


def _finish(text: str) -> str:
    """Return extracted text with double-escaped entities decoded, debris gone, spaces folded."""
    # Entities double-escaped upstream ("&amp;amp;") survive one pass: decode once more.
    if "&" in text:
        text = html.unescape(text)
    if "<!--" in text:  # an escaped comment is debris too, not text a reader should see
        text = _COMMENT.sub(" ", text)
    # Spaces folded by split() and join(): a regular expression replacing every run, single
    # spaces included, took five times as long. Control characters become spaces, folded
    # too; isprintable() is True for most text, which holds none.
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return text if text.isprintable() else " ".join(_CONTROL.sub(" ", text).split())


def _from_markup(markup: str, limit: int) -> str:
    """Return the finished text of an HTML fragment, reading no more than ``limit`` needs."""
    parser = _TextExtractor()
    check_at = limit + _MARGIN
    try:
        for at in range(0, len(markup), _HTML_STEP):
            parser.feed(markup[at:at + _HTML_STEP])
            read = sum(map(len, parser.parts))
            if read > check_at and at + _HTML_STEP < len(markup):
                text = _finish("".join(parser.parts))
                if len(text) > limit + _MARGIN:
                    return text
                check_at = 2 * read  # mostly spaces so far: look again at twice the length
        parser.close()
    except (AssertionError, ValueError):  # pathological markup: fall back to unescape
        return _finish(html.unescape(markup))
    return _finish("".join(parser.parts))


# Tags whose markup the fast path reads (_simple_text): common inline and block elements with
# nothing special to html.parser (no script or style content, no RCDATA, no foreign content).
_SIMPLE_TAGS = _BLOCK | frozenset({
    "a", "abbr", "b", "big", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
    "dfn", "dl", "dt", "em", "figcaption", "font", "footer", "header", "i", "img", "ins", "kbd",
    "main", "mark", "nav", "picture", "pre", "q", "s", "samp", "small", "source", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "tfoot", "thead", "time", "tt", "u",
    "var", "wbr", "aside", "address", "details", "summary",
})
# A start or end tag: name, then attributes in which a quoted value may hold ">" but no "<".
_SIMPLE_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,15})(?:\s+(?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*)?/?>"
)


def _simple_text(markup: str, limit: int) -> str | None:
    """Return the text html.parser would give for simple markup, else None (not simple).

    Simple: every "<" opens a tag of _SIMPLE_TAGS that _SIMPLE_TAG reads whole. For those,
    html.parser reports the text between tags with its character references decoded, and
    a block tag breaks it: exactly what this does, in a few passes of C instead of a Python
    call per tag (html.parser took a third of the time of parsing a feed). Long markup is
    read first as far as the cap needs, as _from_markup does.
    """
    window = 4 * (limit + _MARGIN)
    if len(markup) > 2 * window:
        # Up to a tag's end: what follows cannot change the text before it (html.parser
        # reads in one pass too), and a reference cut short at the end is past the margin.
        end = markup.rfind(">", 0, window) + 1
        head = _simple_pieces(markup[:end]) if end else None
        if head is not None and len(text := _finish(head)) > limit + _MARGIN:
            return text
    whole = _simple_pieces(markup)
    return None if whole is None else _finish(whole)


def _simple_pieces(markup: str) -> str | None:
    """Return the decoded text of simple ``markup`` with block breaks, unfinished; else None."""
    pieces = _SIMPLE_TAG.split(markup)  # text, "/" or "", name, text, "/" or "", name, ...
    names = [name.lower() for name in pieces[2::3]]
    # Every "<" a tag: none left in the text between them (nor inside a tag, by _SIMPLE_TAG).
    if markup.count("<") != len(names) or not _SIMPLE_TAGS.issuperset(names):
        return None
    out = [""] * (2 * len(names) + 1)
    out[0::2] = [html.unescape(text) if "&" in text else text for text in pieces[0::3]]
    out[1::2] = [" " if name in _BLOCK else "" for name in names]
    return "".join(out)


def plain_text(value: str | None, limit: int) -> str:
    """Return ``value`` as plain text: tags stripped, entities decoded, spaces folded, capped."""
    if not value:
        return ""
    text = value
    if "<!--" in text:
        text = _COMMENT.sub(" ", text)
    if "<" in text:
        if len(text) >= _LONG_TAG:
            text = _without_long_tags(text)
        simple = _simple_text(text, limit)
        text = _from_markup(text, limit) if simple is None else simple
    else:  # no markup: what html.parser would do is decode the references
        text = _finish(html.unescape(text) if "&" in text else text)
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit * 0.6 else cut).rstrip(" ,;:-") + "…"
    return text


