"""Dataclass records kept in Redis as JSON, read back by any later version."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def record_from_json(cls: type[R], raw: str) -> R:
    """Build ``cls`` from its JSON: unknown fields are ignored, ``regions`` becomes a tuple.

    Fields this version does not know come from a newer writer (a rolling upgrade), so they
    are dropped rather than refused; a missing optional field takes its default.
    """
    data: dict[str, Any] = json.loads(raw)
    if "regions" in data:
        data["regions"] = tuple(data["regions"] or ())
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})
