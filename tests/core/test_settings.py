"""Settings: environment over YAML over defaults, and one clear error for bad configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from core.config_files import ConfigError, default_config_dir
from core.settings import Settings, SettingsFields, load_settings
from core.settings_help import shown_default


def write_config(tmp_path: Path, text: str) -> Path:
    """Write a settings.yaml into a fresh config dir and return the dir."""
    (tmp_path / "settings.yaml").write_text(text)
    return tmp_path


def test_environment_overrides_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path, "log_level: DEBUG\nhealth_port: 9000\nstreams:\n  batch_size: 7\n")
    monkeypatch.setenv("HEALTH_PORT", "9100")
    monkeypatch.setenv("ADMIN_IDS", "11, 22 33")
    monkeypatch.setenv("STREAMS__MAX_DELIVERIES", "9")
    settings = load_settings(config_dir=cfg)
    assert settings.health_port == 9100
    assert settings.log_level == "DEBUG"
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.streams.max_deliveries == 9
    # One variable of a section overrides that key only: the file's other keys still apply.
    assert settings.streams.batch_size == 7


def test_yaml_applies_when_environment_is_silent(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "health_port: 9000\nstreams:\n  batch_size: 7\n")
    settings = load_settings(config_dir=cfg)
    assert settings.health_port == 9000
    assert settings.streams.batch_size == 7


def test_token_is_secret_and_blank_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("REDIS_URL", " ")
    settings = load_settings()
    assert "AAAA" not in repr(settings)
    assert settings.redis_url is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("health_port: 99999\n", "invalid value for 'health_port': 99999"),
        ("streams:\n  batch_size: zero\n", "invalid value for 'streams.batch_size': 'zero'"),
        ("log_format: xml\n", "invalid value for 'log_format': 'xml'"),
        ("no_such_key: 1\n", "unknown key 'no_such_key'"),
        ("[1, 2\n", "not valid YAML"),
    ],
)
def test_bad_yaml_names_key_and_value(tmp_path: Path, text: str, expected: str) -> None:
    cfg = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir=cfg)
    assert expected in str(info.value)
    assert str(cfg / "settings.yaml") in str(info.value)


def test_bad_environment_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_PORT", "eighty")
    with pytest.raises(ConfigError, match="environment: invalid value for 'health_port': 'eighty'"):
        load_settings()


def test_cli_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "LOUD", "DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", "run"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        "ceasefire-watch: configuration error: environment: invalid value for 'log_level': "
        "'LOUD': Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    ]


def test_bad_feeds_file_stops_start_up_naming_key(tmp_path: Path) -> None:
    shutil.copytree(default_config_dir(), tmp_path / "cfg", ignore=shutil.ignore_patterns("__*"))
    (tmp_path / "cfg" / "feeds.yaml").write_text(
        "feeds:\n  - id: ok-feed\n    url: https://example.org/rss\n    name: OK\n"
        "  - id: bad\n    url: ftp://example.org/rss\n    name: Bad\n"
    )
    env = {"PATH": "/usr/bin:/bin", "CONFIG_DIR": str(tmp_path / "cfg"),
           "DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", "run", "--roles", "poller"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ceasefire-watch: configuration error: ")
    assert "feeds.yaml: invalid value for 'feeds.1.url': 'ftp://example.org/rss'" in last


def documented_settings(
    model: type[BaseModel] = Settings, env: str = "", key: str = ""
) -> Iterator[tuple[str, str, str | None]]:
    """Yield (environment variable, YAML key, shown default) of every setting, nested too.

    The default is None where a factory computes it (the README describes it in words).
    """
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from documented_settings(nested, f"{env}{name.upper()}__", f"{key}{name}.")
            continue
        shown = None if field.default_factory is not None else shown_default(field.default)
        yield f"{env}{name.upper()}", f"{key}{name}", shown


def readme_settings_rows() -> dict[str, tuple[str, str]]:
    """Return the README's Settings table: environment variable -> (YAML key, default)."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    section = text.partition("\n## Settings\n")[2].partition("\n## ")[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_readme_lists_every_setting_with_its_default() -> None:
    rows = readme_settings_rows()
    expected = list(documented_settings())
    for env, key, default in expected:
        assert env in rows, f"README Settings table lacks {env} ({key}, default {default})"
        assert rows[env][0] == key, f"README: {env} should be YAML key {key}"
        if default is not None:
            assert rows[env][1] == default, f"README: {env} default should be {default}"
    assert sorted(rows) == sorted(env for env, _, _ in expected), "README lists a removed setting"


def test_packaged_settings_file_repeats_the_model_defaults() -> None:
    # The packaged settings.yaml is read whenever CONFIG_DIR has none: a value there that
    # differs from the model's default would make the README's default column wrong.
    packaged = yaml.safe_load((default_config_dir() / "settings.yaml").read_text())
    assert SettingsFields.model_validate(packaged).model_dump() == SettingsFields().model_dump()
