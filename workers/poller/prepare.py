"""Feed bytes made safe and bounded before feedparser reads them.

feedparser's work grows with the whole document, whatever we keep of it afterwards, and a
few byte-level faults cost the whole feed. So, on the raw bytes and before parsing:

* :func:`first_entries` / :func:`cap_entries` cut the document before its (N+1)th
  ``<item>``/``<entry>`` and close the elements still open there: a 132,000-entry body costs
  what 500 entries cost (the poller cuts first thing, before hashing items, and tells
  :func:`prepare_body` not to scan for the cap again);
* :func:`repair_utf8` replaces stray bytes in a UTF-8 document, which would otherwise make
  feedparser decode all of it as windows-1252 or ISO-8859-2 (every non-ASCII letter wrong);
* :func:`neutralise_charrefs` turns character references that name no character (``&#xD800;``,
  beyond U+10FFFF) into U+FFFD, which would otherwise make feedparser raise;
* :func:`blank_controls` turns raw C0 control bytes, which XML 1.0 forbids anywhere, into
  spaces: one stray BEL in a description made the whole feed ill-formed, and the loose parser
  feedparser then falls back to costs ten times a strict parse (the text keeps no control
  characters either way: normalise.plain_text blanks them).

Every step works on ASCII-compatible bytes; a UTF-16/32 body is transcoded to UTF-8 for the
steps and back to its own encoding only when a step changed something.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

from workers.poller.items import ENTRY_START

# Comments and CDATA sections, whose insides are not markup. An unterminated one runs to the
# end (as in XML), which keeps every scan linear: a lazy ".*?-->" retried at each of a million
# unclosed "<!--" would be quadratic. Unrolled and possessive: 25x faster than ".*?" on CDATA.
_OPAQUE = (rb"<!--[^-]*+(?:-(?!->)[^-]*+)*+(?:-->|\Z)"
           rb"|<!\[CDATA\[[^\]]*+(?:\](?!\]>)[^\]]*+)*+(?:\]\]>|\Z)")
# Tags, and the constructs whose insides are not tags, for finding what is open at a cut.
_MARKUP = re.compile(
    _OPAQUE + rb"|<[?!][^>]*(?:>|\Z)|<(/?)([A-Za-z_][\w.:-]*)([^>]*)(?:>|\Z)", re.DOTALL
)
# Entry start tags outside comments and CDATA (group 1 set only for those).
_ENTRIES = re.compile(_OPAQUE + rb"|" + ENTRY_START.pattern, re.DOTALL)
# C0 controls but tab, LF and CR. In an ASCII-compatible encoding a byte below 0x20 is that
# control character, never part of a multi-byte one, except ESC (0x1B), which starts
# ISO-2022's shift sequences: kept in a document that declares one of those.
_CONTROLS = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))
_CONTROLS_BUT_ESC = _CONTROLS.replace(b"\x1b", b"")
_CHARREF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]+)|0*([0-9]+));")
_XML_DECL_ENCODING = re.compile(rb'^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["\']([\w.:-]+)')
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The bytes for feedparser and what was done to them (for the poll report and tests)."""

    body: bytes
    truncated: bool = False  # entries beyond the cap were cut off before parsing
    repaired_bytes: int = 0  # invalid UTF-8 sequences replaced by U+FFFD
    neutralised_refs: int = 0  # character references that name no character
    blanked_controls: int = 0  # raw control bytes turned into spaces


def _closing_tags(head: bytes) -> bytes:
    """Return end tags for the elements ``head`` leaves open, innermost first."""
    stack: list[bytes] = []
    for m in _MARKUP.finditer(head):
        name = m.group(2)
        if name is None or m.group(3).endswith(b"/"):
            continue  # comment, CDATA, PI, doctype, or a self-closed element
        if not m.group(1):
            stack.append(name)
        elif name in stack:
            while stack.pop() != name:  # implicitly close what a sloppy feed left open
                pass
    return b"".join(b"</" + name + b">" for name in reversed(stack))


def first_entries(body: bytes, limit: int) -> bytes | None:
    """Return ``body`` cut before its (limit+1)th entry and closed; None when nothing is cut.

    The end tags are those still open before the first entry (``</channel></rss>``,
    ``</feed>``, ``</rdf:RDF>``), so the cut document is as well-formed as the original.
    Entry tags inside comments and CDATA sections do not count.
    """
    first = cut = -1
    n = 0
    for m in _ENTRIES.finditer(body):
        if m.group(1) is None:
            continue  # a comment or CDATA section
        if n == 0:
            first = m.start()
        if n == limit:
            cut = m.start()
            break
        n += 1
    if cut < 0:
        return None
    return body[:cut] + _closing_tags(body[:first])


def declared_charset(body: bytes, headers: Mapping[str, str]) -> str:
    """Return the encoding the HTTP header or XML declaration names, lowercased, or ""."""
    m = _CHARSET.search(headers.get("content-type", ""))
    if m:
        return m.group(1).lower()
    decl = _XML_DECL_ENCODING.match(body[:512])
    return decl.group(1).decode("ascii").lower() if decl else ""


def repair_utf8(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, int]:
    """Replace invalid sequences of a UTF-8 document by U+FFFD; return (body, how many).

    Only when the document is UTF-8 by declaration (or by XML's default) and has more valid
    non-ASCII characters than invalid sequences: a mislabelled windows-1252 feed (many bad
    bytes, no valid multi-byte character) is left for feedparser's own fallbacks.
    """
    charset = declared_charset(body, headers)
    if charset and charset not in _UTF8_NAMES:
        return body, 0
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, 0
    text = body.decode("utf-8", "replace")
    genuine = body.count("\ufffd".encode())
    replaced = text.count("\ufffd") - genuine
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    valid = non_ascii - replaced - genuine
    if valid < replaced:
        return body, 0
    return text.encode("utf-8"), replaced


def _names_no_character(m: re.Match[bytes]) -> bool:
    hexa, dec = m.group(1), m.group(2)
    digits = hexa if hexa is not None else dec
    if len(digits) > 8:  # past U+10FFFF either way (and int() of a huge run is slow)
        return True
    value = int(hexa, 16) if hexa is not None else int(dec)
    return 0xD800 <= value <= 0xDFFF or value > 0x10FFFF


def neutralise_charrefs(body: bytes) -> tuple[bytes, int]:
    """Replace character references to surrogates or beyond U+10FFFF; return (body, count)."""
    if b"&#" not in body:
        return body, 0
    count = 0

    def sub(m: re.Match[bytes]) -> bytes:
        nonlocal count
        if not _names_no_character(m):
            return m.group(0)
        count += 1
        return b"&#xFFFD;"

    fixed = _CHARREF.sub(sub, body)
    return (fixed, count) if count else (body, 0)


def blank_controls(body: bytes, charset: str = "") -> tuple[bytes, int]:
    """Replace raw C0 control bytes (not tab, LF, CR) by spaces; return (body, count).

    ESC is kept when ``charset`` (the declared one) is an ISO-2022 encoding.
    """
    controls = _CONTROLS_BUT_ESC if charset.startswith("iso-2022") else _CONTROLS
    # translate+delete in C: a clean body (the usual case) costs one pass and no copy kept.
    count = len(body) - len(body.translate(None, controls))
    if not count:
        return body, 0
    return body.translate(bytes.maketrans(controls, b" " * len(controls))), count


def _wide_codec(body: bytes) -> tuple[str, bytes] | None:
    """Return (codec, BOM) of a UTF-16/32 body, or None when it is ASCII-compatible."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, bom
    head = body[:4]
    if head[:2] == b"<\x00":
        return ("utf-32-le" if head[2:4] == b"\x00\x00" else "utf-16-le"), b""
    if head[:1] == b"\x00":
        return ("utf-32-be" if head[:3] == b"\x00\x00\x00" else "utf-16-be"), b""
    return None


def _ascii_compatible(body: bytes) -> tuple[bytes, tuple[str, bytes] | None]:
    """Return ``body`` as UTF-8 when it is UTF-16/32 (else as it is), and its (codec, BOM)."""
    wide = _wide_codec(body)
    if wide is None:
        return body, None
    codec, bom = wide
    return body[len(bom):].decode(codec, "replace").encode("utf-8"), wide


def _restore(work: bytes, wide: tuple[str, bytes] | None) -> bytes:
    """Return ``work`` (from :func:`_ascii_compatible`) in its document's own encoding again."""
    if wide is None:
        return work
    codec, bom = wide
    return bom + work.decode("utf-8").encode(codec)


def cap_entries(body: bytes, limit: int) -> bytes | None:
    """Return ``body`` (in any encoding) cut to its first ``limit`` entries; None if shorter."""
    work, wide = _ascii_compatible(body)
    cut = first_entries(work, limit)
    return None if cut is None else _restore(cut, wide)


def prepare_body(body: bytes, headers: Mapping[str, str], max_entries: int | None) -> Prepared:
    """Return ``body`` bounded to ``max_entries`` entries and repaired, ready for feedparser.

    ``max_entries`` None: the caller has bounded the body already (:func:`cap_entries`).
    """
    work, wide = _ascii_compatible(body)
    cut = first_entries(work, max_entries) if max_entries is not None else None
    if cut is not None:
        work = cut
    repaired = 0
    if wide is None:
        work, repaired = repair_utf8(work, headers)
    work, refs = neutralise_charrefs(work)
    work, controls = blank_controls(work, declared_charset(work, headers))
    if wide is not None:
        if cut is None and not refs and not controls:
            return Prepared(body)
        work = _restore(work, wide)
    return Prepared(work, cut is not None, repaired, refs, controls)
