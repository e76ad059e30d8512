"""What a failover run published, and the count of what was lost or repeated on the way.

Counted on the promoted primary (articles, alerts) and the Bot API emulator (messages) against
the reports put on the feeds (testkit/failover.py runs the scenario).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.keys import ALERTS, ARTICLES
from core.models import Alert, Article, decode
from core.streams import read_range
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feedgen import Generator
from testkit.feeds import FeedServer

_HREF = re.compile(r'href="([^"]+)"')


@dataclass
class Load:
    """What the test published: every item's link, and the violations' links."""

    gen: Generator
    links: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def produce(self, feeds: FeedServer, count: int) -> None:
        """Put ``count`` more reports on the feeds."""
        for _ in range(count):
            feed_id, item, is_violation = self.gen.next()
            feeds.add(feed_id, item)
            self.links.append(item.link)
            if is_violation:
                self.violations.append(item.link)


@dataclass
class Figures:
    """The run's outcome, counted on the promoted primary and the Bot API emulator."""

    articles_lost: int
    article_repeats: int
    alert_repeats: int
    messages_expected: int
    messages_lost: int
    messages_repeated: int
    max_per_link: int

    def line(self) -> str:
        """One printable line."""
        return (f"articles lost {self.articles_lost}, repeated entries {self.article_repeats}; "
                f"alerts repeated {self.alert_repeats}; violation messages expected "
                f"{self.messages_expected}, lost {self.messages_lost}, duplicated "
                f"{self.messages_repeated}")


async def first_entry_after(redis: Redis, stream: str, after_ms: int) -> float | None:
    """Epoch seconds of the first entry of ``stream`` written after ``after_ms``, if any."""
    rows = await redis.xrange(stream, f"{after_ms + 1}-0", "+", count=1)
    return int(str(rows[0][0]).split("-")[0]) / 1000 if rows else None


async def count(redis: Redis, load: Load, emulator: BotAPIEmulator) -> Figures:
    """Lost and repeated articles, alerts and messages, against what was published."""
    articles = [decode(f, Article) for _, f in await read_range(redis, ARTICLES)]
    queued = Counter(a.url for a in articles)
    alerts = Counter(decode(f, Alert).id for _, f in await read_range(redis, ALERTS))
    sent: Counter[str] = Counter()
    for messages in emulator.messages.values():
        for message in messages:
            sent.update(set(_HREF.findall(message.text)))
    per_link = [sent[v] for v in load.violations]
    return Figures(
        articles_lost=sum(1 for link in load.links if link not in queued),
        article_repeats=sum(n - 1 for n in queued.values()),
        alert_repeats=sum(n - 1 for n in alerts.values()),
        messages_expected=len(load.violations),
        messages_lost=sum(1 for n in per_link if n == 0),
        messages_repeated=sum(n - 1 for n in per_link if n > 1),
        max_per_link=max(per_link, default=0),
    )
