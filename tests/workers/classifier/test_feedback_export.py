"""``feedback export``: the label the votes give, the JSON lines, a re-fit that reads them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.config_files import default_config_dir
from core.feedback import FeedbackItem, FeedbackStore, Vote, VoteKind
from core.redis_conn import RedisProcess, make_client
from workers.classifier.feedback_cli import (
    TruceCheck,
    export_line,
    feedback_group,
    truce_check,
)
from workers.classifier.fit import load_items
from workers.classifier.fit import main as fit_main
from workers.classifier.lexicon import load_lexicons

TRUCE = "Shelling was reported despite the ceasefire."
NO_TRUCE = "Shelling was reported near the border."


def item(label: str = "violation", text: str = TRUCE, lang: str = "en",
         story: str = "s1") -> FeedbackItem:
    """A voted story's snapshot."""
    return FeedbackItem(
        story_id=story, alert_id=f"a-{story}", article_id=f"a-{story}", lang=lang,
        title="Clashes reported", text=text, label=label, score=0.8, regions=("gaza",),
        seen=1.0,
    )


def votes(*kinds: VoteKind) -> list[Vote]:
    """One vote per chat, in order."""
    return [Vote(n, kind, None, float(n)) for n, kind in enumerate(kinds)]


@pytest.fixture(scope="module")
def has_truce() -> TruceCheck:
    """The shipped lexicons' truce-word test."""
    return truce_check(load_lexicons(default_config_dir() / "lexicons"))


@pytest.mark.parametrize(
    "case",
    [
        ("violation", TRUCE, ("correct", "correct", "false_alarm"), "violation", "correct 2"),
        ("violation", TRUCE, ("wrong_region",), "violation", "region is wrong"),
        ("violation", TRUCE, ("false_alarm",), "ceasefire", "truce word"),
        ("violation", NO_TRUCE, ("false_alarm",), "none", "no truce word"),
        ("ceasefire", TRUCE, ("false_alarm", "false_alarm"), "none", "relabelled none"),
        ("ceasefire", TRUCE, ("wrong_region", "correct"), "ceasefire", "tie"),
        ("violation", TRUCE, ("false_alarm", "correct"), "violation", "kept the alert's label"),
    ],
)
def test_label_from_the_chats_majority(
    has_truce: TruceCheck, case: tuple[str, str, tuple[VoteKind, ...], str, str]
) -> None:
    label, text, kinds, expected, in_note = case
    line = export_line(item(label, text), votes(*kinds), has_truce)
    assert line is not None
    assert line["label"] == expected
    assert in_note in line["note"]
    assert set(line) == {"id", "lang", "title", "text", "label", "note"}


def test_a_truce_word_is_looked_up_in_the_items_language(has_truce: TruceCheck) -> None:
    ru = item(text="Обстрел продолжился, несмотря на перемирие.", lang="ru")
    line = export_line(ru, votes("false_alarm"), has_truce)
    assert line is not None and line["label"] == "ceasefire"


@pytest.fixture
def env(redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """REDIS_URL at the test redis (flushed) with votes on two stories, one of them old."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)

    async def seed() -> None:
        client = make_client(redis_server.url)
        await client.flushdb()
        store = FeedbackStore(client)
        old = 1_700_000_000.0  # 2023-11-14
        await store.vote(item(story="old"), 1, "correct", None, at=old)
        await store.vote(item(story="s1"), 1, "false_alarm", None)
        await store.vote(item(story="s1"), 2, "false_alarm", None)
        await client.aclose()

    asyncio.run(seed())
    yield


@pytest.mark.usefixtures("env")
def test_export_since_writes_lines_a_refit_reads(tmp_path: Path) -> None:
    out = tmp_path / "votes.jsonl"
    result = CliRunner().invoke(
        feedback_group, ["export", "--since", "2024-01-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    [line] = load_items(out)
    assert line["id"] == "a-s1" and line["label"] == "ceasefire" and line["lang"] == "en"
    everything = CliRunner().invoke(feedback_group, ["export"])
    assert everything.exit_code == 0, everything.output
    assert [json.loads(x)["id"] for x in everything.output.splitlines()] == ["a-old", "a-s1"]

    # The exported lines join the training data of a re-fit (a dry run writes nothing).
    pytest.importorskip("sklearn")
    train = tmp_path / "train.jsonl"
    rows = [
        {"id": "1", "title": "Azerbaijan accuses Armenia of violating the ceasefire",
         "text": "", "label": "violation"},
        {"id": "2", "title": "UN calls for immediate ceasefire in Sudan", "text": "",
         "label": "ceasefire"},
        {"id": "3", "title": "Bank of England holds rates", "text": "Inflation eased.",
         "label": "none"},
    ] * 5
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    fitted = CliRunner().invoke(
        fit_main, ["--data", str(train), "--data", str(out), "--folds", "2", "--dry-run"]
    )
    assert fitted.exit_code == 0, fitted.output
    assert "out-of-fold" in fitted.output
