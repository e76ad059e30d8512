"""Arabic and Hebrew alerts and digests: valid Telegram HTML, laid out right to left."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.i18n import FSI, PDI, RLM, translator
from bot.notifier.digest import render_digest
from bot.notifier.render import render_story
from bot.store.stories import StoryItem
from testkit.botapi.rules import html_error

TAG = re.compile(r"<[^>]+>")


def item(n: int, **kw: object) -> StoryItem:
    base: dict[str, object] = {
        "alert_id": f"al{n}", "source": f"Outlet {n}", "url": f"https://example.org/{n}",
        "title": f"Shelling reported near Tartar {n}", "label": "violation", "score": 0.87,
        "evidence": "Shelling resumed despite the truce.", "regions": ("gaza",),
        "seen": float(n), "lang": "en",
    }
    base.update(kw)
    return StoryItem(**base)  # type: ignore[arg-type]


def _own_lines(html: str) -> list[str]:
    """The lines of our own text: all but the quoted evidence (it keeps its direction)."""
    return [line for line in html.split("\n") if line and not line.startswith("<blockquote>")]


@pytest.mark.parametrize("lang", ["ar", "he"])
def test_an_rtl_alert_is_valid_html_and_every_own_line_starts_right_to_left(lang: str) -> None:
    items = [item(1), item(2, source="Reuters"), item(3, source="AP")]
    html = render_story(items, {"gaza": "Gaza Strip"}, lang)
    assert html_error(html) is None, html_error(html)
    lines = _own_lines(html)
    assert len(lines) >= 5
    assert all(line.startswith(RLM) for line in lines), lines
    t = translator(lang)
    # The frame is the catalogue's, not English.
    label = t.gettext("🔴 Ceasefire violation reported")
    assert label != "🔴 Ceasefire violation reported"
    assert lines[0].startswith(f"{RLM}<b>{label}</b>")
    assert t.gettext("confidence {percent}", percent="87%") in lines[0]
    assert "Also reported by" not in html and "Read at" not in html
    # Latin runs (headline, outlets) are isolated so they do not scramble the line.
    assert f"<b>{FSI}Shelling reported near Tartar 1{PDI}</b>" in html
    assert f"{FSI}Reuters{PDI}" in html
    # The evidence stays in its own language, with that language named in the reader's.
    assert "<blockquote>Shelling resumed despite the truce.</blockquote>" in html
    assert t.language_name("en") in html


def test_the_arabic_alert_reads_right_to_left_in_order() -> None:
    html = render_story([item(1), item(2, source="Reuters")], {"gaza": "Gaza Strip"}, "ar")
    text = TAG.sub("", html)
    lines = [line for line in text.split("\n") if line]
    # Line order is the frame's: label, headline, place, outlet, evidence, link, others.
    assert "الإبلاغ عن خرق لوقف إطلاق النار" in lines[0]
    assert "Shelling reported near Tartar 1" in lines[1]
    assert "Gaza Strip" in lines[2]
    assert lines[-2].startswith(RLM + "اقرأ في ")
    assert lines[-1].startswith(RLM + "➕ أفادت به أيضًا:") and lines[-1].endswith("مصدران")
    for line in lines:
        # Every isolate is closed on its line (an open one would swallow the rest).
        assert line.count(FSI) == line.count(PDI)


def test_an_arabic_digest_is_valid_and_right_to_left() -> None:
    stories = [[item(1)], [item(2), item(3, source="AP")]]
    html = render_digest(stories, {"gaza": "غزة"}, date(2026, 1, 2), lang="ar")
    assert html_error(html) is None
    lines = [line for line in html.split("\n") if line]
    assert all(line.startswith(RLM) for line in lines), lines
    assert "الملخص اليومي" in lines[0]
    assert "مصدر واحد" in html and "مصدران" in html


def test_english_stays_left_to_right_without_marks() -> None:
    html = render_story([item(1, lang="ru"), item(2, source="AP")])
    assert RLM not in html and FSI not in html
    assert "🗣 Quoted in Russian:" in html
    assert html_error(html) is None


@pytest.mark.parametrize("lang", ["ar", "he"])
def test_an_rtl_escalation_notice_is_valid_and_right_to_left(lang: str) -> None:
    from bot.notifier.escalation import render_escalation
    from tests.bot.notifier.test_escalation import escalation

    html = render_escalation(escalation(5), {"gaza-israel": "Gaza / Israel"}, lang)
    assert html_error(html) is None
    lines = [line for line in html.split("\n") if line]
    assert len(lines) == 6 and all(line.startswith(RLM) for line in lines), lines
    assert translator(lang).gettext("📈 <b>Escalation:</b> {headline}", headline="") in html
    assert f"{FSI}Gaza / Israel{PDI}" in html
    huge = render_escalation(escalation(40, title="x" * 300 + " {n}"), {}, lang)
    assert html_error(huge) is None and huge.split("\n")[-1].startswith(RLM + "… ")
