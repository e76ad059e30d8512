"""The environment variables of every setting, listed from the model for ``run --help``."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from core.settings import SettingsFields


def shown_default(value: object) -> str:
    """Render a default the way the README's Settings table does."""
    if value is None:
        return "unset"
    if value in ((), frozenset()):
        return "empty"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _describe(field: FieldInfo) -> str:
    """Return "default X" plus the choices of a Literal, for one field."""
    if field.default_factory is not None:
        default = "computed" if field.annotation is not Path else "the packaged config/"
    else:
        default = shown_default(field.default)
    text = f"default {default}"
    if typing.get_origin(field.annotation) is typing.Literal:
        text += "; one of " + ", ".join(str(a) for a in typing.get_args(field.annotation))
    if field.description:
        text += f"; {field.description}"
    return text


def environment_variables(
    model: type[BaseModel] = SettingsFields, prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """Yield (variable, "default …") for every setting, nested sections as ``A__B``."""
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from environment_variables(nested, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}", _describe(field)
