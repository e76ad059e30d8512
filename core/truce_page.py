"""Truce pages of the ops server: /truces (regions with a state) and /truces/{region}.

Self-contained HTML: no script, nothing loaded from elsewhere, an inline SVG chart, and a
layout that fits a 390 px phone. Everything from the news is escaped; only http(s) links are
made clickable. The words are core/truce_text.py's, the same as the bot's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from redis.asyncio import Redis

from core.config_files import config_file
from core.redis_conn import RECONNECT_ERRORS
from core.regions import REGIONS_FILE, load_regions
from core.truce import advance
from core.truce_model import ACTIVE, TruceState
from core.truce_store import load_state, load_states
from core.truce_text import (
    PHASE_WORDS,
    accusation,
    cause_text,
    fmt_time,
    phase_text,
    recent_counts,
    since_text,
    sort_key,
    span_text,
    utc,
)

CHART_DAYS = 30
MAX_TIMELINE = 300

STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem;color:#1d1d1f;background:#fafafa;
overflow-wrap:anywhere;line-height:1.4}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.4rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.15rem .8rem;margin:.5rem 0}
dt{color:#555}dd{margin:0}ol,ul{padding-left:1.1rem}li{margin:.45rem 0}
.phase{font-weight:600;font-size:1.1rem}.in_force{color:#1b7f3a}.violated{color:#b00020}
.agreed,.talks{color:#8a5a00}.ended,.collapsed,.none{color:#555}small,time{color:#666}
.chart{width:100%;max-width:40rem;height:auto;display:block}.bar{fill:#c0392b}
.chart text{font-size:10px;fill:#444}.axis{stroke:#999;stroke-width:1}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# As /status: no script runs and nothing loads but the pinned stylesheet.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def chart_days(state: TruceState, now: datetime) -> list[date]:
    """The 30 days charted: up to today, or up to the newest report when that is older."""
    end = utc(now).date()
    if state.last_report is not None and state.last_report < now - timedelta(days=CHART_DAYS):
        end = utc(state.last_report).date()  # replayed or long-quiet history
    return [end - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]


def daily_counts(state: TruceState, days: list[date]) -> list[int]:
    """Distinct violation stories first reported on each day (UTC)."""
    per_day = Counter(utc(v.first).date() for v in state.violations)
    return [per_day.get(d, 0) for d in days]


def _link(url: str, text: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return escape(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return escape(text)  # never a javascript: href
    return f'<a href="{escape(url.strip())}" rel="noopener noreferrer">{escape(text)}</a>'


def chart_svg(days: list[date], counts: list[int]) -> str:
    """Bars per day with axis labels, scaled to the width it is given."""
    width, height, left, right, top, bottom = 360, 190, 30, 8, 12, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*counts, 1])
    slot = plot_w / len(days)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="violations per day" xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
    ]
    for value in sorted({0, peak, peak // 2} if peak >= 4 else {0, peak}):
        y = top + plot_h - plot_h * value / peak
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{value}</text>')
    for n, (day, count) in enumerate(zip(days, counts, strict=True)):
        bar_h = plot_h * count / peak
        x = left + n * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" data-day="{day.isoformat()}" '
            f'data-count="{count}"><title>{day.isoformat()}: {count}</title></rect>'
        )
        last = n == len(days) - 1
        if last or (n % 7 == 0 and n < len(days) - 4):  # a week apart, none overlapping
            anchor = "end" if last else "middle" if n else "start"
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 13}" '
                f'text-anchor="{anchor}">{day.strftime("%d %b")}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle">'
        "day (UTC) · distinct violation stories</text></svg>"
    )
    return "".join(parts)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        '<p><small><a href="/truces">All truces</a> · <a href="/status">Status</a></small></p>'
        f"{body}</body></html>"
    )


def render_index(states: Iterable[TruceState], names: dict[str, str], now: datetime) -> str:
    """The /truces page: one entry per region with a state, truces in force first."""
    shown = sorted((advance(s, now) for s in states), key=sort_key)
    items = []
    for state in shown:
        day, week = recent_counts(state, now)
        items.append(
            f'<li><a href="/truces/{escape(state.region)}"><b>'
            f"{escape(names.get(state.region, state.region))}</b></a> — "
            f'<span class="{escape(state.phase)}">{escape(phase_text(state, now))}'
            f"{escape(span_text(state))}</span>"
            f"<br><small>violations 24 h: {day}, 7 d: {week}"
            f" · last report {fmt_time(state.last_report)}</small></li>"
        )
    listing = f"<ul>{''.join(items)}</ul>" if items else "<p>No truce reported yet.</p>"
    return _page(
        "Truces — ceasefire-watch",
        f"<h1>Truces by region</h1><p><small>generated {fmt_time(now)}</small></p>{listing}",
    )


def _state_rows(state: TruceState, now: datetime) -> str:
    day, week = recent_counts(state, now)
    active = state.phase in ACTIVE
    past = state.phase in ("ended", "collapsed") and state.since is not None
    rows = [
        ("In force since", since_text(state) if active else ""),
        ("Last truce from", since_text(state) if past else ""),
        ("Until", fmt_time(state.until) if state.until else ""),
        ("Starts", fmt_time(state.starts) if state.starts else ""),
        (
            "Violations of this truce" if active else "Violations of the last truce",
            str(state.violated) if active or state.violated else "",
        ),
        ("Violations, last 24 h", str(day)),
        ("Violations, last 7 days", str(week)),
        ("Last violation", fmt_time(state.last_violation) if state.last_violation else ""),
        ("Last report", fmt_time(state.last_report)),
    ]
    return "".join(f"<dt>{k}</dt><dd>{escape(v)}</dd>" for k, v in rows if v)


def _timeline(state: TruceState) -> list[tuple[datetime, str]]:
    stories = {v.story_id: v for v in state.violations}
    merged: set[str] = set()
    entries = []
    for t in state.transitions:
        words = PHASE_WORDS.get(t.phase, t.phase) if t.phase != t.previous else "new end"
        if t.until is not None and t.phase in ACTIVE:
            words += f" until {fmt_time(t.until)}"
        detail = cause_text(t.cause)
        story = stories.get(t.story_id) if t.story_id else None
        if story is not None and t.cause == "violated" and t.story_id not in merged:
            merged.add(t.story_id)  # the violation that made the phase: one entry, not two
            claim = accusation(story.accuser, story.accused, story.attack, story.place)
            detail += f" · {claim}" if claim else ""
        link = f"<br>{_link(t.url, t.title)}" if t.title else ""
        entries.append(
            (t.at, f'<b class="{escape(t.phase)}">{escape(words)}</b> · {escape(detail)}{link}')
        )
    for v in state.violations:
        if v.story_id in merged:
            continue
        claim = accusation(v.accuser, v.accused, v.attack, v.place)
        reports = f" · {v.reports} reports" if v.reports > 1 else ""
        entries.append(
            (
                v.first,
                f'<b class="violated">violation</b>'
                f"{escape(' · ' + claim if claim else '')}{reports}"
                f"<br>{_link(v.url, v.title or '(no headline)')}",
            )
        )
    return sorted(entries, key=lambda e: utc(e[0]), reverse=True)


def render_region(state: TruceState | None, name: str, now: datetime) -> str:
    """The /truces/{region} page: state, 30-day chart, timeline newest first."""
    title = f"Truce: {name} — ceasefire-watch"
    if state is None:
        return _page(title, f"<h1>{escape(name)}</h1><p>No truce reported here yet.</p>")
    state = advance(state, now)
    days = chart_days(state, now)
    counts = daily_counts(state, days)
    entries = _timeline(state)
    items = "".join(
        f"<li><time>{fmt_time(at)}</time> {text}</li>" for at, text in entries[:MAX_TIMELINE]
    )
    older = len(entries) - MAX_TIMELINE
    more = f"<p><small>{older} older entries not shown.</small></p>" if older > 0 else ""
    body = (
        f"<h1>{escape(name)}</h1>"
        f'<p class="phase {escape(state.phase)}">{escape(phase_text(state, now))}</p>'
        f"<dl>{_state_rows(state, now)}</dl>"
        f"<h2>Violations per day</h2><p><small>{days[0]:%d %b %Y} – {days[-1]:%d %b %Y} (UTC):"
        f" {sum(counts)} in these {CHART_DAYS} days</small></p>{chart_svg(days, counts)}"
        "<h2>Timeline</h2>"
        + (f'<ul class="timeline">{items}</ul>{more}' if items else "<p>Nothing yet.</p>")
        + f"<p><small>generated {fmt_time(now)}</small></p>"
    )
    return _page(title, body)


class TrucePages:
    """The aiohttp handlers of /truces and /truces/{region}."""

    def __init__(
        self, redis: Redis, config_dir: Path, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.config_dir = config_dir
        self.clock = clock
        self._names: dict[str, str] | None = None

    async def names(self) -> dict[str, str]:
        """Region id -> name from regions.yaml (read once, off the event loop)."""
        if self._names is None:
            path = config_file(self.config_dir, REGIONS_FILE)
            spec = await asyncio.to_thread(load_regions, path)
            self._names = {r.id: r.name for r in spec.regions}
        return self._names

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def index(self, _: web.Request) -> web.Response:
        """GET /truces."""
        try:
            states = await load_states(self.redis)
        except RECONNECT_ERRORS as exc:
            return _html(_page("Truces", f"<p>redis unreachable: {type(exc).__name__}</p>"), 503)
        return _html(render_index(states, await self.names(), self._now()))

    async def region(self, request: web.Request) -> web.Response:
        """GET /truces/{region}: 404 for a region that regions.yaml does not know."""
        region = request.match_info["region"].strip().lower()
        names = await self.names()
        try:
            state = await load_state(self.redis, region) if len(region) <= 80 else None
        except RECONNECT_ERRORS as exc:
            return _html(_page("Truces", f"<p>redis unreachable: {type(exc).__name__}</p>"), 503)
        if region not in names and state is None:
            body = (
                f"<h1>Unknown region</h1><p>No region has the id “{escape(region[:80])}”. "
                'Regions with a truce are listed at <a href="/truces">/truces</a>; every '
                "id is in config/regions.yaml.</p>"
            )
            return _html(_page("Unknown region — ceasefire-watch", body), 404)
        return _html(render_region(state, names.get(region, region), self._now()))


def _html(page: str, status: int = 200) -> web.Response:
    return web.Response(text=page, content_type="text/html", status=status, headers=PAGE_HEADERS)
