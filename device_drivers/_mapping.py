"""Helpers shared by the GATT -> domain mappings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from device_drivers.codecs.numbers import Mder, MderFloat
from device_drivers.errors import MappingError

T = TypeVar("T")


def number(value: Mder | None, what: str) -> float:
    """A required value: a finite number, or MappingError naming the special value."""
    if isinstance(value, MderFloat):
        return value.value
    shown = "absent" if value is None else value.value
    raise MappingError(f"{what} is {shown}, not a number")


def optional_number(value: Mder | None) -> float | None:
    """An optional value: specials (NaN, NRes, ±INF) mean 'not available'."""
    return value.value if isinstance(value, MderFloat) else None


def build(factory: Callable[..., T], **fields: object) -> T:
    try:
        return factory(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"reading out of bounds: {problems}") from exc
