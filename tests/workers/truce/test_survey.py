"""``python -m workers.truce.survey``: counts and samples of what the extractor finds."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from core.config_files import default_config_dir
from workers.truce.survey import main, published, survey

ITEMS = [
    {"id": "a", "lang": "en", "date": "2024-03-06", "label": "ceasefire",
     "title": "Israel and Hamas agree to a four-day truce from Saturday noon", "text": ""},
    {"id": "b", "lang": "en", "date": "2024-03-06", "label": "violation",
     "title": "Azerbaijan accuses Armenia of shelling Tovuz despite the ceasefire",
     "text": "Two soldiers were wounded, the ministry said."},
    {"id": "c", "lang": "en", "date": "", "label": "none", "title": "Armistice Day parade",
     "text": ""},
]


def test_survey_counts_kinds_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    out = io.StringIO()
    survey([path], default_config_dir(), out=out)
    text = out.getvalue()
    assert "items: 2" in text  # the "none" item is not surveyed
    assert re.search(r"ceasefire:agreed\s+1", text)
    assert re.search(r"violation:violated\s+1", text)
    assert "ceasefire: starts=1" in text
    assert "accuser=1  accused=1  place=1  attack=1" in text
    assert "samples:" in text


def test_dataset_dates() -> None:
    assert published("2023-04-25").isoformat() == "2023-04-25T12:00:00+00:00"
    assert published("2023-04").day == 15
    assert published("2004/2005").year == 2004
    assert published("").year == 2024


def test_survey_of_the_shared_training_set(shared_dir: Path, capsys: object) -> None:
    # Skipped (by the shared_dir fixture) when ../shared is not beside the checkout.
    assert main([str(shared_dir / "eval" / "train.jsonl")]) == 0
