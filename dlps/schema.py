"""The building blocks of params schemas (Int, Float, Choice, ListOf, Section, ...), each failing with one clear line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dlps.errors import UserError


class ParamError(UserError):
    """A bad value in params.yaml: the message names the key path, the value and what is allowed."""


@dataclass(frozen=True)
class Int:
    """An integer within [lo, hi]."""

    lo: int | None = None
    hi: int | None = None

    def check(self, path: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        return value

    def describe(self) -> str:
        return "an integer" + _range_text(self.lo, self.hi, lo_open=False, hi_open=False)


@dataclass(frozen=True)
class Float:
    """A finite real number within a range; ints are accepted and converted."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def check(self, path: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        v = float(value)
        too_low = self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo)
        too_high = self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi)
        if too_low or too_high:
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        return v

    def describe(self) -> str:
        return "a number" + _range_text(self.lo, self.hi, self.lo_open, self.hi_open)


@dataclass(frozen=True)
class Bool:
    """true or false."""

    def check(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"{path}: got {value!r}; allowed: true or false")
        return value

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings."""

    options: tuple[str, ...]

    def check(self, path: str, value: Any) -> str:
        if value not in self.options:
            raise ParamError(f"{path}: got {value!r}; allowed: one of {', '.join(self.options)}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class Str:
    """Any string (paths, for instance); empty allowed only if `empty`."""

    empty: bool = True

    def check(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or (not self.empty and not value):
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        return value

    def describe(self) -> str:
        return "a string" if self.empty else "a non-empty string"


@dataclass(frozen=True)
class ListOf:
    """A list of items of one kind, with a minimum length and optionally no duplicates."""

    item: Any
    min_len: int = 1
    unique: bool = False

    def check(self, path: str, value: Any) -> list:
        if not isinstance(value, list) or len(value) < self.min_len:
            raise ParamError(f"{path}: got {value!r}; allowed: {self.describe()}")
        out = [self.item.check(f"{path}[{i}]", v) for i, v in enumerate(value)]
        if self.unique and len(set(out)) != len(out):
            dup = next(v for v in out if out.count(v) > 1)
            raise ParamError(f"{path}: got {value!r} ({dup!r} repeated); allowed: {self.describe()}")
        return out

    def describe(self) -> str:
        unique = " distinct" if self.unique else ""
        return f"a list of at least {self.min_len}{unique} items, each {self.item.describe()}"


@dataclass(frozen=True)
class Section:
    """A mapping with exactly the declared keys (all required)."""

    fields: dict[str, Any]

    def check(self, path: str, value: Any) -> dict:
        where = path or "params.yaml"
        if not isinstance(value, dict):
            raise ParamError(f"{where}: got {value!r}; allowed: a mapping with keys {', '.join(self.fields)}")
        for key in value:
            if key not in self.fields:
                raise ParamError(
                    f"{_join(path, key)}: unknown key (value {value[key]!r}); allowed keys: {', '.join(self.fields)}"
                )
        for key in self.fields:
            if key not in value:
                raise ParamError(f"{_join(path, key)}: missing; allowed: {self.fields[key].describe()}")
        return {key: spec.check(_join(path, key), value[key]) for key, spec in self.fields.items()}

    def describe(self) -> str:
        return "a mapping with keys " + ", ".join(self.fields)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def _range_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi}")
    return (" " + " and ".join(parts)) if parts else ""


SEEDS = ListOf(Int(0, 2**31 - 1), min_len=1, unique=True)
