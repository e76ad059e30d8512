"""Loading YAML configuration files into validated models, with one clear error per problem."""

from __future__ import annotations

import contextlib
import logging
import re
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


# The feeds list's name in a config folder (core.feeds.FEEDS_FILE; that module imports this one).
FEEDS_YAML = "feeds.yaml"
# Prefix of the overlay folders effective_config_dir makes; real_config_paths looks for it.
_OVERLAY_PREFIX = "ceasefire-watch-config-"


def config_file(config_dir: Path, rel: str, feeds_file: Path | None = None) -> Path:
    """Return the file ``rel`` as the service reads it: ``config_dir``'s own, else the packaged one.

    The one rule of the configuration overlay, used for every file: a CONFIG_DIR overrides the
    packaged folder file by file, and FEEDS_FILE (``feeds_file``) is the feeds list whatever
    either folder holds.
    """
    if feeds_file is not None and rel == FEEDS_YAML:
        return feeds_file
    own = config_dir / rel
    return own if own.is_file() else default_config_dir() / rel


def missing_config_files(config_dir: Path) -> list[str]:
    """Return the packaged configuration files that ``config_dir`` does not provide."""
    if config_dir.resolve() == default_config_dir().resolve():
        return []
    return [rel for rel in _packaged_files() if not (config_dir / rel).is_file()]


def _own_files(config_dir: Path) -> list[str]:
    if config_dir.resolve() == default_config_dir().resolve():
        return []
    return sorted(p.relative_to(config_dir).as_posix() for p in config_dir.rglob("*")
                  if p.is_file() and not any(part.startswith((".", "__"))
                                             for part in p.relative_to(config_dir).parts))


def _summary(files: list[str]) -> str:
    folders: dict[str, int] = {}
    for rel in files:
        folder = rel.rpartition("/")[0]
        folders[folder] = folders.get(folder, 0) + 1
    shown = [f"{folder}/ ({n} files)" for folder, n in sorted(folders.items()) if folder]
    return ", ".join(shown + [rel for rel in files if "/" not in rel]) or "nothing"


def check_config_paths(config_dir: Path, feeds_file: Path | None = None) -> None:
    """Raise ConfigError naming CONFIG_DIR or FEEDS_FILE when it does not exist."""
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: no such folder (CONFIG_DIR)")
    if feeds_file is not None and not feeds_file.is_file():
        raise ConfigError(f"{feeds_file}: file not found (FEEDS_FILE)")


@contextlib.contextmanager
def effective_config_dir(config_dir: Path, feeds_file: Path | None = None) -> Iterator[Path]:
    """Yield ``config_dir``, or a folder holding :func:`config_file`'s choice for every file.

    A CONFIG_DIR made to change feeds.yaml alone must not lose the lexicons: code that reads a
    whole folder (lexicons/, events/) sees the overlay through links in a temporary folder that
    lives as long as the context, and the log says which files came from where.
    """
    check_config_paths(config_dir, feeds_file)
    missing = missing_config_files(config_dir)
    if not missing and feeds_file is None:
        yield config_dir
        return
    own = _own_files(config_dir)
    with tempfile.TemporaryDirectory(prefix=_OVERLAY_PREFIX) as tmp:
        root = Path(tmp)
        for rel in sorted({*own, *_packaged_files(), *([FEEDS_YAML] if feeds_file else [])}):
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(config_file(config_dir, rel, feeds_file).resolve())
        if feeds_file is not None:
            own = [rel for rel in own if rel != FEEDS_YAML]
            missing = [rel for rel in missing if rel != FEEDS_YAML]
            log.info("configuration: feeds from %s (FEEDS_FILE)", feeds_file)
        if own or missing:  # else the packaged folder with FEEDS_FILE alone
            log.info("configuration: %s from %s; packaged defaults for %s",
                     _summary(own), config_dir, _summary(missing))
        yield root


def real_config_paths(text: str) -> str:
    """Return ``text`` with each path inside an overlay folder replaced by the file it links to.

    So that an error about a file of the overlay names the file the user wrote.
    """
    def real(match: re.Match[str]) -> str:
        path = Path(match.group())
        return str(path.resolve()) if path.exists() else match.group()

    return re.sub(r"/[^\s:'\"]*" + _OVERLAY_PREFIX + r"[^/\s]+/[^\s:'\"]+", real, text)
