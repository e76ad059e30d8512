"""The export: every region on the map, and CSV / JSON lines / GeoJSON read back as analysts do."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from geojson_pydantic import Feature, FeatureCollection, Point
from pydantic import ValidationError
from redis.asyncio import Redis

from core.config_files import default_config_dir
from core.export import COLUMNS, Row, export_rows, file_name, make_row, parse_when, render
from core.export_cli import export_command
from core.redis_conn import RedisProcess, make_client
from core.regions import RegionsFile, RegionSpec, load_config_regions, load_regions
from core.story_archive import ArchivedReport as Report
from core.story_archive import StoryArchive, fold
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, publish_alert, running
from tests.core.archive_helpers import T0, violation
from workers.truce import role as truce_role

NOW = (T0 + timedelta(days=3)).timestamp()
WEEK = (T0 - timedelta(days=1), T0 + timedelta(days=6))
SHIPPED = load_regions(default_config_dir() / "regions.yaml")
GAZA = next(r for r in SHIPPED.regions if r.id == "gaza-israel")
# Commas, quotes, a newline, a leading formula character, and four scripts.
# Strict: every feature a Point (or unlocated), every properties member an object.
Collection = FeatureCollection[Feature[Point, dict[str, Any]]]
TRICKY_TITLE = 'Truce "broken", army says;\nshelling in Khan Younis — خان يونس'
TRICKY_EVIDENCE = "Обстрел, несмотря на перемирие: «снаряды» упали; הפגזה למרות הפסקת האש"


def test_every_shipped_region_is_on_the_map() -> None:
    for region in SHIPPED.regions:
        assert region.country, region.id
        assert region.lat is not None and region.lon is not None, region.id
        assert -90 <= region.lat <= 90 and -180 <= region.lon <= 180, region.id
    # Gaza is where Gaza is (the usual slip: latitude and longitude swapped).
    assert GAZA.lat is not None and GAZA.lon is not None
    assert math.isclose(GAZA.lat, 31.4, abs_tol=0.2) and math.isclose(GAZA.lon, 34.4, abs_tol=0.2)


@pytest.mark.parametrize("point", [{"lat": 91, "lon": 0}, {"lat": 0, "lon": -181},
                                   {"lat": 31.4}, {"lon": 34.4}])
def test_a_point_out_of_range_or_half_given_is_refused(point: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        RegionSpec.model_validate({"id": "x", "name": "X", "aliases": ["x"], **point})


async def _seed(redis: Redis) -> list[Row]:
    archive = StoryArchive(redis)
    await archive.add(violation(1, story="s1", hours=1, source="Al Jazeera, English",
                                title=TRICKY_TITLE, evidence=TRICKY_EVIDENCE, score=0.97,
                                accuser="Hamas", accused="Israel", attack="shelling",
                                place="Khan Younis", killed=4, wounded=12), now=NOW)
    await archive.add(violation(2, story="s1", hours=2, source="Reuters", score=0.9), now=NOW)
    await archive.add(violation(3, hours=30, regions=("ukraine",), source="Kyiv Independent",
                                title="=HYPERLINK(\"http://evil\") truce broken"), now=NOW)
    return await export_rows(redis, SHIPPED, *WEEK)


async def test_rows_hold_one_story_per_row_with_its_region_on_the_map(redis: Redis) -> None:
    rows = await _seed(redis)
    assert [r["story_id"] for r in rows] == ["s1", "a:al3"]
    gaza = rows[0]
    assert (gaza["event_date"], gaza["event_time"]) == ("2026-11-20", "2026-11-20T09:30:00Z")
    assert (gaza["region"], gaza["country"], gaza["latitude"], gaza["longitude"]) == (
        "gaza-israel", "Palestine", GAZA.lat, GAZA.lon)
    assert (gaza["sources"], gaza["first_source"], gaza["score"]) == (
        2, "Al Jazeera, English", 0.97)
    assert gaza["links"] == ["https://example.org/Al Jazeera, English/1",
                             "https://example.org/Reuters/2"]
    assert (gaza["killed"], gaza["wounded"], gaza["evidence"]) == (4, 12, TRICKY_EVIDENCE)
    assert rows[1]["killed"] is None and rows[1]["country"] == "Ukraine"
    assert [r["story_id"] for r in await export_rows(redis, SHIPPED, *WEEK, region="ukraine")
            ] == ["a:al3"]


async def test_csv_reads_back_with_the_csv_module_and_pandas(redis: Redis) -> None:
    rows = await _seed(redis)
    text = render(rows, "csv")
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(read[0]) == list(COLUMNS)
    assert [r["story_id"] for r in read] == ["s1", "a:al3"]
    assert read[0]["title"] == TRICKY_TITLE and read[0]["evidence"] == TRICKY_EVIDENCE
    assert read[0]["first_source"] == "Al Jazeera, English"
    assert read[0]["links"].split(" ") == ["https://example.org/Al%20Jazeera,%20English/1",
                                           "https://example.org/Reuters/2"]
    assert (read[0]["killed"], read[1]["killed"]) == ("4", "")
    assert float(read[0]["latitude"]) == GAZA.lat and float(read[0]["longitude"]) == GAZA.lon
    # A title that a spreadsheet would run as a formula is defused.
    assert read[1]["title"].startswith("'=HYPERLINK")

    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2
    for column in ("killed", "wounded", "latitude", "longitude", "sources", "score"):
        assert pd.api.types.is_numeric_dtype(frame[column]), column
    assert frame["killed"].iloc[0] == 4 and pd.isna(frame["killed"].iloc[1])
    assert frame["title"].iloc[0] == TRICKY_TITLE
    assert frame["evidence"].iloc[0] == TRICKY_EVIDENCE


async def test_jsonl_parses_with_types(redis: Redis) -> None:
    rows = await _seed(redis)
    lines = render(rows, "jsonl").splitlines()
    parsed = [json.loads(line) for line in lines]
    assert parsed == [{c: r[c] for c in COLUMNS} for r in rows]
    assert parsed[0]["title"] == TRICKY_TITLE and parsed[1]["wounded"] is None


async def test_geojson_is_valid_with_coordinates_lon_lat(redis: Redis) -> None:
    rows = await _seed(redis)
    collection = Collection.model_validate_json(render(rows, "geojson"))
    assert [f.id for f in collection.features] == ["s1", "a:al3"]
    gaza = collection.features[0]
    assert gaza.geometry is not None
    lon, lat = gaza.geometry.coordinates[:2]
    assert (lon, lat) == (GAZA.lon, GAZA.lat)
    assert gaza.properties is not None and gaza.properties["title"] == TRICKY_TITLE
    assert "latitude" not in gaza.properties and gaza.properties["killed"] == 4
    # A region without a point keeps its story, unlocated (a null geometry is valid GeoJSON).
    bare = RegionsFile(regions=(RegionSpec(id="gaza-israel", name="G", aliases=("g",)),))
    story = fold("s9", [Report.from_alert(violation(9))])
    unlocated = render([make_row(story, {r.id: r for r in bare.regions})], "geojson")
    assert Collection.model_validate_json(unlocated).features[0].geometry is None


def test_dates_and_file_names() -> None:
    assert parse_when("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_when("2026-12-01", end=True) == datetime(2026, 12, 2, tzinfo=UTC)
    assert parse_when("2026-12-01T10:00+02:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_when("yesterday")
    since, until = datetime(2026, 11, 28, 9, tzinfo=UTC), datetime(2026, 12, 5, 9, tzinfo=UTC)
    assert file_name(since, until) == "ceasefire-violations-2026-11-28_2026-12-05.csv"
    assert file_name(since, datetime(2026, 12, 5, tzinfo=UTC), "geojson").endswith(
        "2026-11-28_2026-12-04.geojson")


async def test_alerts_through_the_truces_role_end_up_in_the_export(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    # Recent: the archive keeps 400 days back from the real clock.
    start = datetime.now(UTC) - timedelta(hours=6)
    offset = (start - T0).total_seconds() / 3600
    ctx = make_ctx("truces", make_settings(redis_server.url, tmp_path, None, token=None), redis)
    async with running(truce_role.run, ctx):
        await publish_alert(redis, violation(1, label="ceasefire", hours=offset))
        await publish_alert(redis, violation(2, story="s", hours=offset + 1, source="AP"))
        await publish_alert(redis, violation(3, story="s", hours=offset + 2, source="AFP"))

        async def both_outlets_in() -> bool:
            rows = await export_rows(redis, SHIPPED, start, datetime.now(UTC))
            return len(rows) == 1 and rows[0]["sources"] == 2

        assert await wait_until(both_outlets_in, timeout=30)
    # The ceasefire alert came first on the stream and was read first: it is not archived.
    (row,) = await export_rows(redis, SHIPPED, start, datetime.now(UTC))
    assert row["story_id"] == "s" and row["first_source"] == "AP"
    assert row["links"] == ["https://example.org/AP/2", "https://example.org/AFP/3"]


@pytest.fixture
def cli_env(tmp_path: Path, redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Path]:
    """REDIS_URL at the test redis (flushed), seeded; the packaged regions."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CONFIG_DIR", raising=False)

    async def seed() -> None:
        client = make_client(redis_server.url)
        await client.flushdb()
        await _seed(client)
        await client.aclose()

    asyncio.run(seed())
    yield tmp_path


def test_cli_writes_each_format(cli_env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(export_command, ["--since", "2026-11-19", "--until", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert [r["story_id"] for r in csv.DictReader(io.StringIO(result.stdout, newline=""))] == [
        "s1", "a:al3"]
    assert "exported 2 violation stories" in result.stderr
    out = cli_env / "gaza.geojson"
    result = runner.invoke(export_command, ["--since", "2026-11-19", "--region", "gaza-israel",
                                            "--format", "geojson", "--out", str(out)])
    assert result.exit_code == 0, result.output
    collection = Collection.model_validate_json(out.read_text("utf-8"))
    assert [f.id for f in collection.features] == ["s1"]
    result = runner.invoke(export_command, ["--since", "2026-11-20T09:00:00Z", "--until",
                                            "2026-11-20T10:00:00Z", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["story_id"] for line in result.stdout.splitlines()] == ["s1"]


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last week"], "not a date"),
    (["--since", "2026-12-05", "--until", "2026-12-01"], "must be after --since"),
    (["--since", "2026-12-01", "--region", "atlantis"], "unknown region 'atlantis'"),
    (["--since", "2026-12-01", "--format", "xlsx"], "xlsx"),
])
def test_cli_errors_are_clear(cli_env: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(export_command, args)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_config_regions_fall_back_to_the_packaged_file(tmp_path: Path) -> None:
    assert load_config_regions(tmp_path) == SHIPPED
