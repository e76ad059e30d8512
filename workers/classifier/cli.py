"""CLI commands ``classify`` and ``eval`` (plain click commands the core CLI group adds)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from core.config_files import ConfigError, default_config_dir, effective_config_dir
from workers.classifier.engine import Classifier
from workers.classifier.evaluation import Scores, format_scores
from workers.classifier.model import LABELS

_CONFIG_OPTION = click.option(
    "--config-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Directory with lexicons/, regions.yaml and classifier_params.yaml "
    "(default: the configuration shipped with the package).",
)


def _load(config_dir: Path | None) -> Classifier:
    try:
        # A --config-dir holding some files only overlays the packaged ones, as for `run`; the
        # classifier reads everything at load, so the overlay folder may go right after.
        with effective_config_dir(config_dir or default_config_dir()) as folder:
            return Classifier.from_config(folder)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _items(stream: IO[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Parse JSON lines; a bad line stops with its line number (nothing silently skipped)."""
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{source}:{n}: not valid JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise click.ClickException(f"{source}:{n}: expected a JSON object")
        yield n, item


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


@click.command("classify")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-", required=False)
@click.option("--text", "one_text", default=None, help="Classify this one text (headline) instead.")
@click.option("--lang", default=None, help="Language of --text (default: detect).")
@_CONFIG_OPTION
def classify_cmd(
    file: IO[str], one_text: str | None, lang: str | None, config_dir: Path | None
) -> None:
    """Classify JSON lines (id, title, text, optional lang) from FILE or stdin.

    Prints one JSON line per item: id, label, score, evidence, regions, lang (plus
    p_violation, rule, parties and reason).
    """
    clf = _load(config_dir)
    if one_text is not None:
        result = clf.classify(one_text, "", lang)
        click.echo(json.dumps({"id": None, **result.to_dict()}, ensure_ascii=False))
        return
    source = getattr(file, "name", "-")
    for _, item in _items(file, source):
        result = clf.classify(_text(item, "title"), _text(item, "text"), item.get("lang") or None)
        out = {"id": item.get("id"), **result.to_dict()}
        click.echo(json.dumps(out, ensure_ascii=False))


@click.command("eval")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--errors", "show_errors", is_flag=True, help="Also list the misclassified items.")
@_CONFIG_OPTION
def eval_cmd(file: IO[str], show_errors: bool, config_dir: Path | None) -> None:
    """Score the classifier on labelled JSON lines (id, title, text, lang, label).

    Prints per-label precision / recall / F1, macro-F1, the confusion matrix and items per
    second, overall and per language.
    """
    clf = _load(config_dir)
    source = getattr(file, "name", "-")
    items = list(_items(file, source))
    overall = Scores()
    per_lang: dict[str, Scores] = {}
    errors: list[str] = []
    # The language model loads on first use (about 0.1 s): not part of the per-item rate.
    clf.classify("warm-up", "", None)
    start = time.perf_counter()
    for n, item in items:
        gold = item.get("label")
        if gold not in LABELS:
            raise click.ClickException(f"{source}:{n}: 'label' must be one of {list(LABELS)}")
        result = clf.classify(_text(item, "title"), _text(item, "text"), item.get("lang") or None)
        overall.add(str(gold), result.label)
        lang = str(item.get("lang") or result.lang or "?")
        per_lang.setdefault(lang, Scores()).add(str(gold), result.label)
        if show_errors and result.label != gold:
            errors.append(
                f"{item.get('id')} gold={gold} got={result.label} ({result.rule}): "
                f"{_text(item, 'title')[:100]}"
            )
    elapsed = time.perf_counter() - start
    click.echo(format_scores(overall, f"{source}: all"))
    rate = len(items) / elapsed if elapsed > 0 else float("inf")
    click.echo(f"items/s {rate:,.0f} ({len(items)} items in {elapsed:.3f} s, one core)")
    for lang in sorted(per_lang):
        click.echo("")
        click.echo(format_scores(per_lang[lang], f"{source}: lang={lang}"))
    if errors:
        click.echo("\nmisclassified:")
        for line in errors:
            click.echo(f"  {line}")


def main() -> None:  # pragma: no cover - convenience entry point
    """Run the commands without the core CLI: ``python -m workers.classifier.cli eval F``."""
    group = click.Group(commands={"classify": classify_cmd, "eval": eval_cmd})
    sys.exit(group())


if __name__ == "__main__":  # pragma: no cover
    main()
