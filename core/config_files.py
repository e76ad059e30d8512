"""Loading YAML configuration files into validated models, with one clear error per problem."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """Invalid configuration: the message names the file (or variable), the key and the value."""


class StartupError(RuntimeError):
    """Start-up can never succeed as configured: say so in one line and exit 1."""


def default_config_dir() -> Path:
    """Return the directory of the configuration files shipped with the package."""
    return Path(str(resources.files("config")))


def describe_validation_error(exc: ValidationError, origin: str) -> str:
    """Turn the first pydantic error into one line naming origin, key and offending value."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err.get("loc", ())) or "<root>"
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{origin}: invalid value for '{key}': {shown}: {err.get('msg', 'invalid')}{more}"


def read_yaml(path: Path) -> Any:
    """Read a YAML file; raise ConfigError naming the file when it is missing or not YAML."""
    try:
        with path.open("rb") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_yaml(path: Path, model: type[T]) -> T:
    """Load ``path`` and validate it as ``model``; raise ConfigError with a clear message."""
    data = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, str(path))) from None


def _packaged_files() -> list[str]:
    """Return the packaged configuration files a role reads, relative to the package folder."""
    root = default_config_dir()
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        # settings.yaml is read before this runs; the demo's files are the demo's own.
        if (not path.is_file() or rel.parts[0] in ("demo", "settings.yaml")
                or path.suffix in (".py", ".pyc") or any(p.startswith("__") for p in rel.parts)):
            continue
        out.append(rel.as_posix())
    return sorted(out)


def missing_config_files(config_dir: Path) -> list[str]:
    """Return the packaged configuration files that ``config_dir`` does not provide."""
    if config_dir.resolve() == default_config_dir().resolve():
        return []
    return [rel for rel in _packaged_files() if not (config_dir / rel).is_file()]


def _summary(files: list[str]) -> str:
    folders: dict[str, int] = {}
    for rel in files:
        folder = rel.rpartition("/")[0]
        folders[folder] = folders.get(folder, 0) + 1
    shown = [f"{folder}/ ({n} files)" for folder, n in sorted(folders.items()) if folder]
    return ", ".join(shown + [rel for rel in files if "/" not in rel]) or "nothing"


@contextlib.contextmanager
def effective_config_dir(config_dir: Path) -> Iterator[Path]:
    """Yield ``config_dir``, or a folder where each file it lacks falls back to the packaged one.

    A CONFIG_DIR made to change feeds.yaml alone must not lose the lexicons: the fallback is per
    file, through links in a temporary folder that lives as long as the context, and the log
    says which files came from where.
    """
    missing = missing_config_files(config_dir)
    if not missing:
        yield config_dir
        return
    with tempfile.TemporaryDirectory(prefix="ceasefire-watch-config-") as tmp:
        root = Path(tmp)
        own = sorted(p.relative_to(config_dir).as_posix()
                     for p in config_dir.rglob("*") if p.is_file())
        packaged = default_config_dir()
        sources = {rel: config_dir / rel for rel in own} | {rel: packaged / rel for rel in missing}
        for rel, source in sources.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source.resolve())
        log.info("configuration: %s from %s; packaged defaults for %s",
                 _summary(own), config_dir, _summary(missing))
        yield root
