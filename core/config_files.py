"""Loading YAML configuration files into validated models, with one clear error per problem."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)


class ConfigError(Exception):
    """Invalid configuration: the message names the file (or variable), the key and the value."""


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
