"""Violation stories for analysts: one row per story, as CSV, JSON lines or GeoJSON.

Rows come from the story archive (core/story_archive.py) and the regions file, which places
each region on the map (``lat``, ``lon``, ``country`` of regions.yaml). The columns follow
ACLED's habits (an event date, a place, actors, fatalities) so the file loads where theirs do.
Used by ``ceasefire-watch export`` (core/export_cli.py) and the admins' ``/export``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args

from redis.asyncio import Redis

from core.regions import RegionsFile, RegionSpec
from core.story_archive import ArchivedStory, StoryArchive

Format = Literal["csv", "jsonl", "geojson"]
FORMATS: tuple[str, ...] = get_args(Format)
COLUMNS = (
    "event_date", "event_time", "story_id", "region", "regions", "country", "latitude",
    "longitude", "accuser", "accused", "attack", "place", "killed", "wounded", "sources",
    "first_source", "evidence", "title", "links", "score",
)
# Columns holding text from feeds. In the CSV a leading = + - @ (or tab, CR) makes a
# spreadsheet run the cell as a formula: such a cell gets a leading apostrophe (OWASP's advice).
TEXT_COLUMNS = frozenset({"accuser", "accused", "attack", "place", "first_source", "evidence",
                          "title"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_COLUMNS = ("regions", "links")  # lists in JSON; space-separated in the CSV

Row = dict[str, Any]


def parse_when(text: str, *, end: bool = False) -> datetime:
    """A UTC time from ``YYYY-MM-DD`` or ISO 8601; a bare date as an end means the day's end.

    ValueError says what was wrong. A time without a zone is UTC.
    """
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        # "--until 2026-12-05" includes that day: the bound is the next midnight (excluded).
        start = datetime.combine(day, time(), UTC)
        return start + timedelta(days=1) if end else start
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO 8601 time)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def make_row(story: ArchivedStory, regions: Mapping[str, RegionSpec], region: str | None = None
             ) -> Row:
    """One story as a row: ``region`` (when asked for) or the story's first region leads."""
    lead_id = region if region is not None else (story.regions[0] if story.regions else "")
    lead = regions.get(lead_id)
    when = story.first_report.astimezone(UTC)
    return {
        "event_date": when.date().isoformat(),
        "event_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "story_id": story.story_id,
        "region": lead_id,
        "regions": list(story.regions),
        "country": lead.country if lead is not None else "",
        "latitude": lead.lat if lead is not None else None,
        "longitude": lead.lon if lead is not None else None,
        "accuser": story.accuser,
        "accused": story.accused,
        "attack": story.attack,
        "place": story.place,
        "killed": story.killed,
        "wounded": story.wounded,
        "sources": len(story.sources),
        "first_source": story.sources[0].source if story.sources else "",
        "evidence": story.evidence,
        "title": story.title,
        "links": [s.url for s in story.sources],
        "score": round(story.score, 3),
    }


async def export_rows(
    redis: Redis, spec: RegionsFile, since: datetime, until: datetime, region: str | None = None
) -> list[Row]:
    """The rows of every violation story first reported in [since, until), oldest first."""
    stories = await StoryArchive(redis).stories(since, until, region)
    by_id = {r.id: r for r in spec.regions}
    return [make_row(s, by_id, region) for s in stories]


def _csv_cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in LIST_COLUMNS:
        # Split on spaces by readers: a space inside a link (never valid in a URL) is escaped.
        return " ".join(v.replace(" ", "%20") for v in value)
    text = str(value)
    if column in TEXT_COLUMNS and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV (RFC 4180: a header, CRLF line ends, quotes where needed)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(c, row[c]) for c in COLUMNS])
    return out.getvalue()


def to_jsonl(rows: Sequence[Row]) -> str:
    """The rows as JSON lines: one object per story, numbers as numbers, null when unknown."""
    return "".join(json.dumps({c: row[c] for c in COLUMNS}, ensure_ascii=False) + "\n"
                   for row in rows)


def feature(row: Row) -> dict[str, Any]:
    """One row as a GeoJSON Point feature (RFC 7946: [longitude, latitude]).

    A row whose region has no coordinates keeps its place with a null geometry, which the RFC
    allows for an unlocated feature.
    """
    lat, lon = row["latitude"], row["longitude"]
    geometry = None if lat is None or lon is None else {"type": "Point", "coordinates": [lon, lat]}
    properties = {c: row[c] for c in COLUMNS if c not in ("latitude", "longitude")}
    return {"type": "Feature", "id": row["story_id"], "geometry": geometry,
            "properties": properties}


def to_geojson(rows: Sequence[Row]) -> str:
    """The rows as one GeoJSON FeatureCollection of Point features."""
    collection = {"type": "FeatureCollection", "features": [feature(r) for r in rows]}
    return json.dumps(collection, ensure_ascii=False) + "\n"


def render(rows: Sequence[Row], fmt: Format) -> str:
    """The rows in format ``fmt`` (csv, jsonl or geojson)."""
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "jsonl":
        return to_jsonl(rows)
    return to_geojson(rows)


def file_name(since: datetime, until: datetime, fmt: Format = "csv") -> str:
    """A file name naming the days covered, e.g. ceasefire-violations-2026-11-28_2026-12-05.csv."""
    last = until - timedelta(microseconds=1)  # an end at midnight belongs to the day before
    return f"ceasefire-violations-{since.date().isoformat()}_{last.date().isoformat()}.{fmt}"
