"""Alert rendering: escaped HTML, at most 4096, tags never cut; who accuses whom; the truce."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from bot.notifier.console import render_first
from bot.notifier.render import render_story
from bot.store.stories import StoryItem
from bot.telegram.html import MAX_MESSAGE, safe_url, tg_len
from core.models import TruceContext, TruceEvent
from tests.bot.helpers import make_alert


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


def test_a_violation_says_who_accuses_whom_how_where_and_the_toll() -> None:
    claim = item(1, accuser="Armenia", accused="Azerbaijan", attack="shelling", place="Tartar",
                 killed=2)
    text = _check(render_story([claim]))
    assert "Armenia accuses Azerbaijan · shelling · Tartar · killed 2" in text
    # Only the parts the report states; a later outlet's claim stands in for a first without.
    text = _check(render_story([item(2), item(3, accuser="Armenia", place="Tartar <x>")]))
    assert "Accusation by Armenia · Tartar <x>" in text and "killed" not in text
    assert "accuses" not in _check(render_story([item(4, attack="shelling")]))  # no accuser
    news = item(5, label="ceasefire", accuser="Armenia", accused="Azerbaijan")
    assert "accuses" not in _check(render_story([news]))  # ceasefire news accuses no one


def test_the_claim_is_worded_in_the_reader_language_with_its_plural() -> None:
    tolls = {n: _check(render_story([item(1, accuser="Armenia", accused="Azerbaijan", killed=n)],
                                    lang="ru")) for n in (1, 3, 5)}
    # The names as the report gave them; the words and the plural forms Russian's.
    assert "Armenia обвиняет Azerbaijan · 1 погибший" in tolls[1]
    assert "· 3 погибших" in tolls[3] and "· 5 погибших" in tolls[5]
    assert "accuses" not in tolls[1] and "killed" not in tolls[5]


def test_an_alert_found_through_the_truce_says_so() -> None:
    since = datetime(2023, 9, 19, 12, tzinfo=UTC).timestamp()
    text = _check(render_story([item(1, truce_region="gaza", truce_since=since)]))
    # Babel's English date; the time zone named, as the line stands on its own.
    assert "During the truce in force since Sep 19, 2023, 12:00 UTC (no truce word in the report)" \
        in text
    # A French chat in Paris: Babel's French rules (day first, "sept."), its zone's hour.
    french = _check(render_story([item(1, truce_region="gaza", truce_since=since)], lang="fr",
                                 zone="Europe/Paris"))
    assert "Pendant la trêve en vigueur depuis 19 sept. 2023, 14:00 Europe/Paris" in french
    text = _check(render_story([item(1, truce_region="gaza")]))
    assert "During the truce in force (no truce word in the report)" in text
    assert "During the truce" not in _check(render_story([item(1)]))


def test_story_items_carry_the_event_and_old_items_still_load() -> None:
    alert = make_alert(1).model_copy(update={
        "event": TruceEvent(kind="violated", accuser="Armenia", accused="Azerbaijan", killed=0),
        "truce": TruceContext(region="gaza", since=datetime(2023, 9, 19, tzinfo=UTC)),
    })
    stored = StoryItem.from_alert(alert, seen=5.0)
    assert StoryItem.from_json(stored.to_json()) == stored
    assert stored.killed == 0 and stored.truce_region == "gaza" and stored.truce_since
    # What the previous version wrote and reads: no event fields at all.
    plain = StoryItem.from_alert(make_alert(2), seen=5.0)
    assert set(json.loads(plain.to_json())) == {
        "alert_id", "source", "url", "title", "label", "score", "evidence", "regions", "seen"}
    old = json.loads(plain.to_json())
    assert StoryItem.from_json(json.dumps(old)) == plain
    assert StoryItem.from_json(json.dumps({**old, "from_the_future": 1})) == plain


def test_console_shows_the_claim_and_the_truce_too() -> None:
    alert = make_alert(1, regions=("nagorno-karabakh",)).model_copy(update={
        "event": TruceEvent(kind="violated", accuser="Armenia", accused="Azerbaijan",
                            attack="shelling", place="Tartar\x1b[31m", killed=3),
        "truce": TruceContext(region="nagorno-karabakh",
                              since=datetime(2023, 9, 19, 12, tzinfo=UTC)),
    })
    text = render_first(alert, {})
    assert "claim:  Armenia accuses Azerbaijan · shelling · Tartar [31m · killed 3" in text
    assert "truce:  during the truce in force since 19 Sep 2023 12:00 UTC" in text
    assert "claim" not in render_first(make_alert(2), {})
