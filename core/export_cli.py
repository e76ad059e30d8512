"""``ceasefire-watch export``: the archived violation stories as CSV, JSON lines or GeoJSON."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import click

from core.config_files import ConfigError
from core.export import FORMATS, Format, Row, export_rows, parse_when, render
from core.redis_conn import StartupError, open_redis
from core.regions import RegionsFile, load_config_regions
from core.settings import Settings, load_settings


def _when(value: str | None, option: str, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value, end=end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _config() -> tuple[Settings, RegionsFile]:
    try:
        settings = load_settings()
        return settings, load_config_regions(settings.config_dir)
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


async def _rows(settings: Settings, spec: RegionsFile, since: datetime, until: datetime,
                region: str | None) -> list[Row]:
    async with open_redis(settings) as redis:
        return await export_rows(redis, spec, since, until, region)


@click.command("export")
@click.option("--since", "since_text", required=True, metavar="DATE",
              help="First day, UTC (YYYY-MM-DD), or an ISO 8601 time.")
@click.option("--until", "until_text", metavar="DATE",
              help="Last day, included (YYYY-MM-DD), or an ISO 8601 time (excluded). "
                   "Default: now.")
@click.option("--region", metavar="ID", help="Only stories in this region (an id of regions.yaml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="csv (a header row), jsonl (one object a line) or geojson "
                   "(a FeatureCollection of points).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of standard output.")
def export_command(since_text: str, until_text: str | None, region: str | None, fmt: str,
                   out: Path | None) -> None:
    """Export violation stories, one row each, first reported from --since to --until.

    Columns: event_date, event_time, story_id, region, regions, country, latitude, longitude,
    accuser, accused, attack, place, killed, wounded, sources, first_source, evidence,
    title, links, score. Stories are kept 400 days.
    """
    since = cast(datetime, _when(since_text, "--since"))
    until = _when(until_text, "--until", end=True) or datetime.now(UTC)
    if until <= since:
        raise click.BadParameter("must be after --since", param_hint="--until")
    settings, spec = _config()
    known = [r.id for r in spec.regions]
    if region is not None and region not in known:
        raise click.BadParameter(f"unknown region {region!r}; known: {', '.join(known)}",
                                 param_hint="--region")
    try:
        rows = asyncio.run(_rows(settings, spec, since, until, region))
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    text = render(rows, cast(Format, fmt))
    if out is None:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    else:
        # newline="": the CSV's own CRLF line ends are kept as written.
        out.write_text(text, encoding="utf-8", newline="")
    click.echo(f"exported {len(rows)} violation stories, {since:%Y-%m-%d %H:%M} to "
               f"{until:%Y-%m-%d %H:%M} UTC" + (f", to {out}" if out else ""), err=True)
