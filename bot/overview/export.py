"""The registrations workbook (``/export``, ``python -m bot export FILE``): every active online
registration, the centralized-exam slots with their bookings, the units that have not registered
per round, and the county plans. One function writes it to a path or a binary buffer, as of the
unit of work's moment; its words (sheets, headers, state labels) are in ``export.toml``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

if TYPE_CHECKING:  # openpyxl is imported where a workbook is made (bot.core.xlsx)
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

from bot.core import rounds, words, xlsx
from bot.core.config import Config
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.models import Unit
from bot.overview import status as reports
from bot.registration.models import Registration

LABELS_FILE = Path(__file__).with_name("export.toml")
SHEET_KEYS = ("registrations", "centralized", "missing", "plans")


def labels() -> dict[str, Any]:
    return words.load(LABELS_FILE)


def sheet_names() -> tuple[str, ...]:
    return tuple(labels()["sheets"][key]["name"] for key in SHEET_KEYS)


SHEETS = sheet_names()


def file_name(moment: dt.datetime) -> str:
    """The workbook's file name for /export, by the day of ``moment``."""
    return str(labels()["file_name"]).format(day=f"{moment:%Y%m%d}")


def _sheet(book: Workbook, key: str) -> Worksheet:
    spec = labels()["sheets"][key]
    headers, widths = zip(*spec["columns"], strict=True)
    return xlsx.add_sheet(book, spec["name"], headers, widths)


def _registrations(session: Session, config: Config, book: Workbook) -> None:
    sheet = _sheet(book, "registrations")
    order = {key: i for i, key in enumerate(rounds.keys(config))}
    rows = session.exec(
        select(Registration, Unit)
        .join(Unit, col(Unit.id) == Registration.unit_id)
        .where(Registration.status == reports.ACTIVE)
    ).all()
    rows = sorted(
        rows,
        key=lambda pair: (
            order.get(pair[0].round_key, len(order)),
            pair[0].exam_date,
            pair[0].session_time,
            pair[1].code,
            pair[0].id or 0,
        ),
    )
    names = {key: rounds.name(config, key) for key in {reg.round_key for reg, _unit in rows}}
    xlsx.put_rows(
        sheet,
        [
            [
                unit.name,
                unit.code,
                names[reg.round_key],
                reg.exam_date,
                reg.session_time,
                reg.learner_count,
                reg.created_at.astimezone(config.tz),
            ]
            for reg, unit in rows
        ],
    )


def _centralized(status: reports.StatusReport, book: Workbook) -> None:
    sheet = _sheet(book, "centralized")
    states = labels()["booking_states"]
    rows: list[list[Any]] = []
    for slot in status.centralized.slots:
        head = [
            slot.exam_date,
            slot.label,
            f"{slot.start:%H:%M}-{slot.end:%H:%M}",
            slot.capacity,
            slot.used,
        ]
        if not slot.bookings:
            rows.append([*head, "", None, ""])
        for booking in slot.bookings:
            rows.append([*head, booking.unit.name, booking.seats, states.get(booking.status, "")])
    xlsx.put_rows(sheet, rows)


def _missing(config: Config, status: reports.StatusReport, book: Workbook) -> None:
    sheet = _sheet(book, "missing")
    city_level = labels()["city_level"]
    rows: list[list[Any]] = []
    for rnd in status.rounds:
        name = rounds.name(config, rnd.key)
        for unit in rnd.missing or []:
            rows.append([name, unit.name, unit.code, unit.county or city_level])
    xlsx.put_rows(sheet, rows)


def _plans(status: reports.StatusReport, book: Workbook) -> None:
    sheet = _sheet(book, "plans")
    states, separator = labels()["plan_states"], labels()["date_separator"]
    tz = status.now.tzinfo
    xlsx.put_rows(
        sheet,
        [
            [
                row.unit_name,
                row.unit_code,
                states[row.state],
                row.unit_count,
                separator.join(d.isoformat() for d in row.dates),
                row.detail,
                row.submitted_at.astimezone(tz) if row.submitted_at else None,
            ]
            for row in status.plans.rows
        ],
    )
    for r in range(2, sheet.max_row + 1):
        xlsx.wrap(sheet.cell(row=r, column=6))


def count_registrations(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Registration).where(Registration.status == reports.ACTIVE)
    ).one()


def build_workbook(session: Session, config: Config, now: dt.datetime) -> Workbook:
    status = reports.status(session, config, now)
    book = xlsx.new_workbook()
    _registrations(session, config, book)
    _centralized(status, book)
    _missing(config, status, book)
    _plans(status, book)
    book.properties.title = str(labels()["title"]).format(campaign=config.campaign.title)
    book.properties.creator = config.campaign.city_office
    return book


@dataclass(frozen=True)
class Exported:
    size: int  # bytes written
    registrations: int  # active registrations in the workbook
    at: dt.datetime  # the moment it describes


def write_registrations_xlsx(
    uow: UnitOfWork, target: str | os.PathLike[str] | IO[bytes]
) -> Exported:
    """Write the workbook to a file path or a binary buffer, for the city office (or the
    server's operator). ``uow.now`` decides round states and late plans."""
    city_or_operator(uow)
    book = build_workbook(uow.session, uow.config, uow.now)
    size = xlsx.save(book, target)
    return Exported(size, count_registrations(uow.session), uow.now)
