"""A small demo unit tree and roster for the offline sandbox (never loaded into real data)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from bot.context import AppContext
from bot.core import words
from bot.core.tabular import ImportRequest
from bot.core.uow import Origin
from bot.org.models import Unit
from bot.org.units_import import import_units
from bot.roster.roster_import import import_roster

DEMO = Path(__file__).with_name("demo.toml")


@dataclass(frozen=True)
class DemoLoaded:
    units: int
    learners: int


def _demo() -> dict[str, list[dict[str, str]]]:
    return words.load(DEMO)


def load_demo(ctx: AppContext) -> DemoLoaded | None:
    """Load the demo data once; None when it is already there."""
    with ctx.unit_of_work(Origin.cli("sandbox")) as uow:
        if uow.session.exec(select(Unit).where(Unit.code == "LY")).first() is not None:
            return None
        data = _demo()
        units = import_units(uow, ImportRequest(data["units"]))
        roster = import_roster(uow, ImportRequest(data["roster"]))
    return DemoLoaded(units=units.created, learners=roster.created)
