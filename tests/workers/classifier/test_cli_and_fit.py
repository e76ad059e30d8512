"""CLI commands ``classify`` / ``eval`` and the calibration fit script, end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from core.config_files import default_config_dir
from workers.classifier.cli import classify_cmd, eval_cmd
from workers.classifier.engine import Classifier
from workers.classifier.fit import main as fit_main

ITEMS = [
    {
        "id": "1",
        "title": "Azerbaijan accuses Armenia of violating the ceasefire",
        "text": "",
        "label": "violation",
    },
    {
        "id": "2",
        "title": "UN calls for immediate ceasefire in Sudan",
        "text": "",
        "label": "ceasefire",
    },
    {
        "id": "3",
        "title": "Bank of England holds rates",
        "text": "Inflation eased.",
        "label": "none",
    },
    {
        "id": "4",
        "title": "Waffenruhe im Gazastreifen verlängert",
        "text": "",
        "lang": "de",
        "label": "ceasefire",
    },
]


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_classify_reads_json_lines_and_writes_json_lines() -> None:
    runner = CliRunner()
    result = runner.invoke(classify_cmd, ["-"], input=_jsonl(ITEMS))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["1", "2", "3", "4"]
    assert [o["label"] for o in out] == ["violation", "ceasefire", "none", "ceasefire"]
    for o in out:
        assert {"id", "label", "score", "evidence", "regions", "lang"} <= set(o)
    assert out[0]["regions"] == ["nagorno-karabakh"]
    assert out[3]["lang"] == "de"


def test_classify_one_text() -> None:
    result = CliRunner().invoke(
        classify_cmd, ["--text", "Russia and Ukraine accuse each other of breaking truce"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["label"] == "violation"


def test_classify_reports_bad_json_line() -> None:
    result = CliRunner().invoke(classify_cmd, ["-"], input='{"id": "1", "title": "x"}\nnot json\n')
    assert result.exit_code != 0
    assert ":2: not valid JSON" in result.output


def test_eval_prints_figures_overall_and_per_language(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(_jsonl(ITEMS), "utf-8")
    result = CliRunner().invoke(eval_cmd, [str(path)])
    assert result.exit_code == 0, result.output
    assert "violation   1.000  1.000  1.000" in result.output
    assert "macro-F1 1.000" in result.output
    assert "items/s" in result.output
    assert "lang=de" in result.output and "lang=en" in result.output  # given, else detected


def test_eval_rejects_unknown_label(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(_jsonl([{"id": "1", "title": "x", "text": "", "label": "maybe"}]), "utf-8")
    result = CliRunner().invoke(eval_cmd, [str(path)])
    assert result.exit_code != 0
    assert "label" in result.output


def test_fit_writes_only_parameters(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    config = tmp_path / "config"
    shutil.copytree(
        default_config_dir(), config, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    data = tmp_path / "labelled.jsonl"
    data.write_text(_jsonl(ITEMS * 5), "utf-8")
    result = CliRunner().invoke(
        fit_main, ["--data", str(data), "--config-dir", str(config), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "out-of-fold" in result.output and "threshold" in result.output
    assert (config / "classifier_ngrams.bin").stat().st_size > 0
    text = (config / "classifier_params.yaml").read_text("utf-8")
    assert "Azerbaijan" not in text and "Bank of England" not in text  # no item text
    params = yaml.safe_load(text)
    assert set(params["weights"]) == {"violation", "ceasefire", "none"}
    refitted = Classifier.from_config(config)
    assert refitted.classify(ITEMS[0]["title"], "").label == "violation"
