"""Alert messages as Telegram HTML: everything escaped, at most 4096 characters, tags never cut."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bot.store.stories import StoryItem
from bot.telegram.html import MAX_MESSAGE, clip, esc, safe_url, same_text, tg_len
from core.truce_text import accusation, fmt_time

_LABELS = {"violation": "🔴 Ceasefire violation reported", "ceasefire": "🕊 Ceasefire news"}


def _link(url: str, label: str) -> str:
    good = safe_url(url)
    return f'<a href="{esc(good)}">{esc(label)}</a>' if good else esc(label)


def _sources(items: Sequence[StoryItem]) -> list[StoryItem]:
    """One item per outlet, first report first."""
    seen: set[str] = set()
    out: list[StoryItem] = []
    for item in items:
        key = item.source.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def claim_line(items: Sequence[StoryItem]) -> str:
    """``Armenia accuses Azerbaijan · shelling · Tartar · killed 2``, or "" when none accuses."""
    item = next((i for i in items if i.label == "violation" and i.accuser), None)
    if item is None:
        return ""
    return accusation(item.accuser, item.accused, item.attack, item.place,
                      killed=item.killed, wounded=item.wounded)


def truce_line(item: StoryItem) -> str:
    """The truce that made an item with no truce word an alert, or "" when a word did."""
    if not item.truce_region:
        return ""
    since = (
        f" since {fmt_time(datetime.fromtimestamp(item.truce_since, UTC))}"
        if item.truce_since is not None else ""
    )
    return f"During the truce in force{since} (no truce word in the report)"


def _compose(
    items: Sequence[StoryItem], names: Mapping[str, str], title_max: int, quote_max: int,
    others_max: int,
) -> str:
    first = items[0]
    outlets = _sources(items)
    top = max(items, key=lambda i: (i.label == "violation", i.score))
    regions: list[str] = []
    for item in items:
        regions += [r for r in item.regions if r not in regions]
    region_text = ", ".join(names.get(r.lower(), r) for r in regions) or "unspecified"
    lines = [
        f"<b>{esc(_LABELS.get(top.label, 'Report'))}</b> · confidence {top.score:.0%}",
        f"<b>{esc(clip(first.title, title_max) or '(no headline)')}</b>",
        f"📍 {esc(clip(region_text, 200))}",
    ]
    if claim := claim_line(items):
        lines.append(f"⚔️ {esc(clip(claim, 200))}")
    if context := truce_line(top):
        lines.append(f"🕊 {esc(context)}")
    lines.append(f"📰 {esc(clip(first.source, 80))}")
    evidence = top.evidence or first.evidence
    if evidence and quote_max > 0:
        if same_text(evidence, top.title):
            # Quoting the headline again says nothing: say that the headline decided.
            lines.append("Why: the headline itself reports it.")
        else:
            lines.append(f"<blockquote>{esc(clip(evidence, quote_max))}</blockquote>")
    lines.append(_link(first.url, f"Read at {clip(first.source, 60)}"))
    if len(outlets) > 1:
        others = outlets[1:]
        shown = others[:others_max]
        parts = [_link(o.url, clip(o.source, 60)) for o in shown]
        if len(others) > len(shown):
            parts.append(f"{len(others) - len(shown)} more")
        lines.append(f"➕ Also reported by {', '.join(parts)} — {len(outlets)} sources")
    return "\n".join(lines)


def render_story(items: Sequence[StoryItem], names: Mapping[str, str] | None = None) -> str:
    """The message for a story (its first report leads; later outlets are listed)."""
    if not items:
        raise ValueError("a story has at least one report")
    names = names or {}
    # Shrink the free-text parts step by step (before escaping) until the message fits.
    for title_max, quote_max, others_max in (
        (300, 1500, 20), (200, 800, 10), (150, 400, 5), (100, 200, 3), (80, 0, 1), (60, 0, 0),
    ):
        text = _compose(items, names, title_max, quote_max, others_max)
        if tg_len(text) <= MAX_MESSAGE:
            return text
    return esc(clip(items[0].title, 1000))
