"""``ceasefire-watch feedback export``: readers' votes as labelled items for a re-fit.

One JSON line per voted story, in the labelled-set format (``id``, ``lang``, ``title``,
``text``, ``label``, ``note``) that ``python -m workers.classifier.fit --data FILE`` reads.
The label follows the chats' majority vote on the story's lead report:

- correct, wrong region: the alert's label (wrong region says so in the note: the label
  was right, the place was not);
- false alarm on a ``ceasefire`` alert: ``none``;
- false alarm on a ``violation`` alert: ``ceasefire`` when the text has a truce word of the
  classifier's lexicon (it is about a truce, just not a breach), else ``none``.

A tie keeps the alert's label (an even split is no reason to overturn the classifier) and
says so in the note; every relabelled item says why, so a reviewer can check it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from core.config_files import ConfigError, default_config_dir
from core.feedback import FeedbackItem, FeedbackStore, Vote, majority
from core.redis_conn import StartupError, open_redis
from core.settings import Settings, load_settings
from workers.classifier.lexicon import Lexicon, load_lexicons
from workers.classifier.text import fold

TruceCheck = Callable[[str, str], bool]
_SAYS = {"correct": "correct", "false_alarm": "false alarm", "wrong_region": "wrong region"}
# On a tie the vote that keeps the alert's label wins, correct before wrong region.
_KEEPS = ("correct", "wrong_region", "false_alarm")


def truce_check(lexicons: dict[str, Lexicon]) -> TruceCheck:
    """A test of 'the text has a truce word' by the item's language's lexicon (any if unknown)."""

    def has_truce_word(lang: str, text: str) -> bool:
        low = fold(text)
        chosen = [lexicons[lang]] if lang in lexicons else list(lexicons.values())
        return any(lex.patterns["truce"].search(low) for lex in chosen if lex.has("truce"))

    return has_truce_word


def export_line(item: FeedbackItem, votes: list[Vote], has_truce: TruceCheck
                ) -> dict[str, Any] | None:
    """The labelled item the votes on one story give, or None without votes."""
    top, counts = majority(votes)
    if not top:
        return None
    winner = next(k for k in _KEEPS if k in top)
    tally = ", ".join(f"{_SAYS[k]} {counts[k]}" for k in _KEEPS if counts[k])
    regions = ", ".join(item.regions) or "no region"
    notes = [f"reader feedback from {len(votes)} chats ({tally}) on a {item.label} alert "
             f"(score {item.score:.2f}, regions: {regions})"]
    if len(top) > 1:
        notes.append(f"tie between {' and '.join(_SAYS[k] for k in top)}: "
                     "kept the alert's label")
    label = item.label
    if winner == "wrong_region":
        notes.append(f"readers said the region is wrong (alerted for {regions}); "
                     "the label stands")
    elif winner == "false_alarm":
        if item.label == "violation" and has_truce(item.lang, f"{item.title}\n{item.text}"):
            label = "ceasefire"
            notes.append("false alarm on a violation alert whose text has a truce word: "
                         "relabelled ceasefire (check it reports a truce, not a breach)")
        else:
            label = "none"
            notes.append(f"false alarm on a {item.label} alert: relabelled none"
                         + (" (no truce word in the text)" if item.label == "violation" else ""))
    return {"id": item.article_id, "lang": item.lang, "title": item.title, "text": item.text,
            "label": label, "note": "; ".join(notes)}


async def export_items(store: FeedbackStore, since: float, has_truce: TruceCheck
                       ) -> list[dict[str, Any]]:
    """The labelled items of every story voted on at or after ``since`` (epoch s)."""
    out: list[dict[str, Any]] = []
    for story_id in await store.voted_stories(since):
        item = await store.item(story_id)
        if item is None:
            continue
        line = export_line(item, await store.votes(story_id), has_truce)
        if line is not None:
            out.append(line)
    return out


async def _export(settings: Settings, since: float, has_truce: TruceCheck
                  ) -> list[dict[str, Any]]:
    async with open_redis(settings) as redis:
        return await export_items(FeedbackStore(redis), since, has_truce)


@click.group("feedback")
def feedback_group() -> None:
    """Readers' votes on alerts (the buttons under every alert)."""


@feedback_group.command("export")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]),
              default=None, help="Only stories voted on from this UTC date or time on.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file (default: standard output).")
@click.option("--config-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Directory with lexicons/ (default: the shipped configuration).")
def export_cmd(since: datetime | None, out: Path | None, config_dir: Path | None) -> None:
    """Write the voted items as labelled JSON lines (for workers.classifier.fit --data)."""
    try:
        settings = load_settings()
        lexicons = load_lexicons((config_dir or default_config_dir()) / "lexicons")
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None
    start = since.replace(tzinfo=UTC).timestamp() if since is not None else 0.0
    try:
        items = asyncio.run(_export(settings, start, truce_check(lexicons)))
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    text = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(items)} items to {out}", err=True)
