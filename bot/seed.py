"""Start-up seeding from config.toml: the city root, the centralized-exam units and the
question-bank departments, the city office's administrator account; and, on every start, the
attachment-1 mapping of units not mapped yet (``bot.org.sectors.map_from_names``: NULL rows
only, read from their names). Idempotent."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.core import audit
from bot.core.config import Config
from bot.org.models import ROOT_CODE, Administrator, Role, Unit, UnitKind
from bot.org.sectors import map_from_names
from reminders.groups import seed_groups


def _ensure_unit(session: Session, *, code: str, name: str, kind: str, parent: Unit | None) -> bool:
    if session.exec(select(Unit).where(Unit.code == code)).first() is not None:
        return False
    unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return True


def seed(session: Session, config: Config, now: dt.datetime) -> list[str]:
    """Create what is missing and map the units not mapped yet; return the codes created
    (empty when everything exists and nothing was mapped). One audit row records it all."""
    created: list[str] = []
    if _ensure_unit(
        session, code=ROOT_CODE, name=config.campaign.city_office, kind=UnitKind.CITY, parent=None
    ):
        created.append(ROOT_CODE)
    root = session.exec(select(Unit).where(Unit.code == ROOT_CODE)).one()
    names = list(
        dict.fromkeys(config.centralized.units + [q.department for q in config.question_bank])
    )
    for name in names:
        if _ensure_unit(session, code=name, name=name, kind=UnitKind.UNIT, parent=root):
            created.append(name)
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
    mapped = map_from_names(session, config)
    if mapped.count:
        created.append(f"category_departments:{mapped.count}")
        detail["category_departments"] = mapped.detail()
    if created:
        audit.record(session, at=now, action="seed", actor="seed", detail=detail)
    return created
