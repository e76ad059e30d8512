"""Alert rendering: escaped HTML, 4096 characters at most, never cut inside a tag or entity."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.notifier.render import render_story
from bot.store.stories import StoryItem
from bot.telegram.html import MAX_MESSAGE, safe_url, tg_len


def item(n: int, **kw: object) -> StoryItem:
    base: dict[str, object] = {
        "alert_id": f"al{n}", "source": f"Outlet {n}", "url": f"https://example.org/{n}",
        "title": f"Headline {n}", "label": "violation", "score": 0.87,
        "evidence": "Shelling resumed despite the truce.", "regions": ("gaza",), "seen": float(n),
    }
    base.update(kw)
    return StoryItem(**base)  # type: ignore[arg-type]


class _Tags(HTMLParser):
    """Checks tags balance and only Telegram's tags appear."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in {"b", "a", "blockquote", "code"}, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check(html: str) -> str:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    # Every '&' starts a complete entity (nothing was cut after escaping).
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", html)
    return "".join(parser.text)


def test_everything_is_escaped_and_fields_are_shown() -> None:
    nasty = item(1, title='<script>alert("x")</script> & co', source="A&B <News>",
                 evidence="He said <b>\"ceasefire\"</b> & left", url='https://e.org/?a=1&b="2"')
    html = render_story([nasty], {"gaza": "Gaza Strip"})
    text = _check(html)
    assert '<script>alert("x")</script> & co' in text
    assert "A&B <News>" in text and "Gaza Strip" in text and "87%" in text
    assert 'He said <b>"ceasefire"</b> & left' in text
    assert 'href="https://e.org/?a=1&amp;b=&quot;2&quot;"' in html
    assert "violation" in text.lower()


def test_javascript_links_are_not_linked() -> None:
    html = render_story([item(1, url="javascript:alert(1)")])
    assert "href" not in html
    assert safe_url("ftp://x.org/") is None and safe_url("https://x.org/a") == "https://x.org/a"


def test_three_outlets_named_with_count() -> None:
    html = render_story([item(1), item(2, source="AP"), item(3, source="Reuters"),
                         item(4, source="AP")])
    text = _check(html)
    assert "Also reported by AP, Reuters — 3 sources" in text


def test_huge_fields_fit_4096_without_cutting_tags_or_entities() -> None:
    amp = "&<>\"' " * 3000
    items = [item(1, title=amp, evidence=amp, source="S" + amp[:500])]
    items += [item(n, source=f"{amp[:300]}{n}", url=f"https://e.org/{'&' * 900}{n}")
              for n in range(2, 60)]
    for count in (1, 2, 5, 59):
        html = render_story(items[:count])
        assert tg_len(html) <= MAX_MESSAGE
        _check(html)
    emoji = [item(1, title="🔥" * 5000, evidence="💥" * 5000)]
    html = render_story(emoji)
    assert tg_len(html) <= MAX_MESSAGE
    _check(html)
