"""Alert messages as Telegram HTML: everything escaped, at most 4096 characters, tags never cut."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bot.i18n import N_, Translator, translator
from bot.store.stories import StoryItem
from bot.telegram.html import MAX_MESSAGE, clip, esc, safe_url, same_text, tg_len
from core.truce_text import accusation, fmt_time

_LABELS = {
    "violation": N_("🔴 Ceasefire violation reported"), "ceasefire": N_("🕊 Ceasefire news"),
}
_REPORT = N_("Report")


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


def claim_line(items: Sequence[StoryItem], t: Translator | None = None) -> str:
    """``Armenia accuses Azerbaijan · shelling · Tartar · killed 2``, or "" when none accuses.

    In the reader's words; the names, the attack and the place as the report gave them
    (isolated in a right-to-left language).
    """
    t = t or translator(None)
    item = next((i for i in items if i.label == "violation" and i.accuser), None)
    if item is None:
        return ""
    # Each part clipped, never the whole: a cut would leave an isolate open.
    iso = t.isolate
    return accusation(iso(clip(item.accuser, 50)), iso(clip(item.accused, 50)),
                      iso(clip(item.attack, 50)), iso(clip(item.place, 50)),
                      killed=item.killed, wounded=item.wounded, words=t)


def truce_line(item: StoryItem, t: Translator | None = None) -> str:
    """The truce that made an item with no truce word an alert, or "" when a word did."""
    t = t or translator(None)
    if not item.truce_region:
        return ""
    if item.truce_since is None:
        return t.gettext("During the truce in force (no truce word in the report)")
    return t.gettext(
        "During the truce in force since {time} (no truce word in the report)",
        time=t.isolate(fmt_time(datetime.fromtimestamp(item.truce_since, UTC), words=t)),
    )


def _quoted_in(t: Translator, item_lang: str) -> str:
    """The evidence's language when it is not the reader's (the quote is never translated)."""
    code = item_lang.strip().lower()
    if not code or code == t.lang:
        return ""
    return t.gettext("Quoted in {language}:", language=esc(t.language_name(code)))


def _compose(
    items: Sequence[StoryItem], names: Mapping[str, str], title_max: int, quote_max: int,
    others_max: int, *, t: Translator,
) -> str:
    first = items[0]
    outlets = _sources(items)
    top = max(items, key=lambda i: (i.label == "violation", i.score))
    regions: list[str] = []
    for item in items:
        regions += [r for r in item.regions if r not in regions]
    region_text = ", ".join(names.get(r.lower(), r) for r in regions) or t.gettext("unspecified")
    # Our own lines start with t.mark (RTL languages); the outlets' words are isolated runs.
    m, iso = t.mark, t.isolate
    label = t.gettext(_LABELS.get(top.label, _REPORT))
    title = clip(first.title, title_max) or t.gettext("(no headline)")
    lines = [
        m + f"<b>{esc(label)}</b> · "
        + t.gettext("confidence {percent}", percent=f"{top.score:.0%}"),
        m + f"<b>{iso(esc(title))}</b>",
        m + f"📍 {iso(esc(clip(region_text, 200)))}",
    ]
    if claim := claim_line(items, t):
        lines.append(m + f"⚔️ {esc(claim)}")
    if context := truce_line(top, t):
        lines.append(m + f"🕊 {esc(context)}")
    lines.append(m + f"📰 {iso(esc(clip(first.source, 80)))}")
    evidence = top.evidence or first.evidence
    if evidence and quote_max > 0:
        if same_text(evidence, top.title):
            # Quoting the headline again says nothing: say that the headline decided.
            lines.append(m + esc(t.gettext("Why: the headline itself reports it.")))
        else:
            if quoted_in := _quoted_in(t, top.lang if top.evidence else first.lang):
                lines.append(m + "🗣 " + quoted_in)
            # The quote keeps its own language and direction (no mark: it is not our text).
            lines.append(f"<blockquote>{esc(clip(evidence, quote_max))}</blockquote>")
    source = iso(clip(first.source, 60))
    lines.append(m + _link(first.url, t.gettext("Read at {source}", source=source)))
    if len(outlets) > 1:
        others = outlets[1:]
        shown = others[:others_max]
        parts = [_link(o.url, iso(clip(o.source, 60))) for o in shown]
        if len(others) > len(shown):
            parts.append(esc(t.ngettext("{n} more", "{n} more", len(others) - len(shown))))
        lines.append(m + "➕ " + t.ngettext(
            "Also reported by {outlets} — {n} source", "Also reported by {outlets} — {n} sources",
            len(outlets), outlets=", ".join(parts),
        ))
    return "\n".join(lines)


def render_story(
    items: Sequence[StoryItem], names: Mapping[str, str] | None = None, lang: str | None = None,
    *, zone: str | None = None,
) -> str:
    """The message for a story in the reader's language, times in its zone; outlets listed."""
    if not items:
        raise ValueError("a story has at least one report")
    names = names or {}
    t = translator(lang).in_zone(zone)
    # Shrink the free-text parts step by step (before escaping) until the message fits.
    for title_max, quote_max, others_max in (
        (300, 1500, 20), (200, 800, 10), (150, 400, 5), (100, 200, 3), (80, 0, 1), (60, 0, 0),
    ):
        text = _compose(items, names, title_max, quote_max, others_max, t=t)
        if tg_len(text) <= MAX_MESSAGE:
            return text
    return esc(clip(items[0].title, 1000))
