"""What every section of config.toml is built from: the model base, the error, common types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Percent = Annotated[int, Field(ge=0, le=100)]
Positive = Annotated[int, Field(gt=0)]


class ConfigError(Exception):
    """A config.toml problem, with a one-line bilingual message naming the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Window(_Model):
    """A span of whole days, both ends included."""

    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def _check_order(model: BaseModel, *pairs: tuple[str, str]) -> None:
    for first, second in pairs:
        a, b = getattr(model, first), getattr(model, second)
        if a > b:
            raise ValueError(f"{first} ({a}) must not be after {second} ({b})")
