"""Start-up seeding from config.toml: the city root, the centralized-exam units and the
question-bank departments, the city office's administrator account; and, on every start, the
attachment-1 mapping of units not mapped yet (``bot.org.sectors.map_from_names``: NULL rows
only, read from their names). Idempotent.

The mapping reads every unit still NULL, and most of a city's units stay NULL for good (their
names name no department): a few hundred milliseconds at every start for a city of 3,000 units.
Serving starts without waiting for it (``seed(..., map_units=False)``, then ``map_units`` once
the bot is polling: ``bot.app``); the command line and tests seed and map in one go."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.org.models import ROOT_CODE, Administrator, Role, Unit, UnitKind
from bot.org.sectors import map_from_names
from reminders.groups import seed_groups

SEED_ACTION = "seed"  # the audit action of seeding (and of a mapping pass at start)


def _add_unit(session: Session, *, code: str, name: str, kind: str, parent: Unit | None) -> Unit:
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def _seed_units(session: Session, config: Config) -> tuple[Unit, list[str]]:
    """The root and the units config names, those missing created; one query finds which
    exist (a restart creates nothing and should cost one round trip, not one per unit)."""
    names = list(
        dict.fromkeys(config.centralized.units + [q.department for q in config.question_bank])
    )
    existing = {
        unit.code: unit
        for unit in session.exec(select(Unit).where(col(Unit.code).in_([ROOT_CODE, *names])))
    }
    created: list[str] = []
    root = existing.get(ROOT_CODE)
    if root is None:
        root = _add_unit(
            session,
            code=ROOT_CODE,
            name=config.campaign.city_office,
            kind=UnitKind.CITY,
            parent=None,
        )
        created.append(ROOT_CODE)
    for name in names:
        if name not in existing:
            _add_unit(session, code=name, name=name, kind=UnitKind.UNIT, parent=root)
            created.append(name)
    return root, created


def seed(
    session: Session, config: Config, now: dt.datetime, *, map_units: bool = True
) -> list[str]:
    """Create what is missing and (unless ``map_units`` is False) map the units not mapped yet;
    return the codes created (empty when everything exists and nothing was mapped). One audit
    row records it all."""
    root, created = _seed_units(session, config)
    has_city_admin = session.exec(
        select(Administrator).where(
            Administrator.unit_id == root.id, Administrator.role == Role.CITY
        )
    ).first()
    if has_city_admin is None:
        assert root.id is not None
        session.add(
            Administrator(
                unit_id=root.id, role=Role.CITY, name=config.campaign.city_office, created_at=now
            )
        )
        created.append("admin:city")
    from bot.registration.seats import ensure_slots

    slots = ensure_slots(session, config)
    if slots:
        created.append(f"seat_slots:{slots}")
    created += seed_groups(session, config, now)
    detail: dict[str, object] = {"created": created}
    if map_units:
        mapped = map_from_names(session, config)
        if mapped.count:
            created.append(f"category_departments:{mapped.count}")
            detail["category_departments"] = mapped.detail()
    if created:
        audit.record(session, at=now, action=SEED_ACTION, actor="seed", detail=detail)
    return created


def map_units(session: Session, config: Config, now: dt.datetime) -> int:
    """The mapping part of ``seed`` on its own (for a start that seeded without it): map the
    units not mapped yet, audited as seeding is; the number of units mapped."""
    mapped = map_from_names(session, config)
    if mapped.count:
        audit.record(
            session,
            at=now,
            action=SEED_ACTION,
            actor="seed",
            detail={"created": [], "category_departments": mapped.detail()},
        )
    return mapped.count
