"""A small demo unit tree and roster for the offline sandbox (never loaded into real data)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from bot.context import AppContext
from bot.org.models import Unit
from bot.org.units_import import import_units
from bot.roster.roster_import import import_roster

DEMO = Path(__file__).with_name("demo.toml")


@dataclass(frozen=True)
class DemoLoaded:
    units: int
    learners: int


def _demo() -> dict[str, list[dict[str, str]]]:
    with DEMO.open("rb") as handle:
        return tomllib.load(handle)


def load_demo(ctx: AppContext) -> DemoLoaded | None:
    """Load the demo data once; None when it is already there."""
    with ctx.db.session() as session:
        if session.exec(select(Unit).where(Unit.code == "LY")).first() is not None:
            return None
        data = _demo()
        units = import_units(session, data["units"], now=ctx.now(), actor="sandbox")
        roster = import_roster(session, data["roster"], now=ctx.now(), actor="sandbox")
    return DemoLoaded(units=units.created, learners=roster.created)
