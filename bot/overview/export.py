"""The registrations workbook (``/export``, ``python -m bot export FILE``): every active online
registration, the centralized-exam slots with their bookings, the units that have not registered
per round, and the county plans. One function writes it to a path or a binary buffer.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from sqlmodel import Session, col, func, select

from bot.core import xlsx
from bot.core.config import Config
from bot.org.models import Unit
from bot.overview import status as reports
from bot.registration.models import Registration
from bot.registration.plans import LATE, MISSING

SHEET_REGISTRATIONS = "报名汇总"
SHEET_CENTRALIZED = "集中考试"
SHEET_MISSING = "未报名单位"
SHEET_PLANS = "县市区集中组考"
SHEETS = (SHEET_REGISTRATIONS, SHEET_CENTRALIZED, SHEET_MISSING, SHEET_PLANS)

STATE_LABELS = {"pre": "预报名", "confirmed": "已确认"}
PLAN_LABELS = {"submitted": "已报送", LATE: "逾期报送", MISSING: "未报送"}


def _registrations(session: Session, config: Config, book: Workbook) -> None:
    sheet = xlsx.add_sheet(
        book,
        SHEET_REGISTRATIONS,
        ["单位", "单位编码", "轮次", "考试日期", "场次", "人数", "报名时间"],
        [30, 18, 20, 12, 8, 8, 18],
    )
    order = {f"zone{r.number}": r.number for r in config.zone_rounds}
    order["makeup"] = len(order) + 1
    rows = session.exec(
        select(Registration, Unit)
        .join(Unit, col(Unit.id) == Registration.unit_id)
        .where(Registration.status == reports.ACTIVE)
    ).all()
    rows = sorted(
        rows,
        key=lambda pair: (
            order.get(pair[0].round_key, 99),
            pair[0].exam_date,
            pair[0].session_time,
            pair[1].code,
            pair[0].id,
        ),
    )
    tz = config.tz
    xlsx.put_rows(
        sheet,
        [
            [
                unit.name,
                unit.code,
                reports.round_label(config, reg.round_key),
                reg.exam_date,
                reg.session_time,
                reg.learner_count,
                reg.created_at.astimezone(tz),
            ]
            for reg, unit in rows
        ],
    )


def _centralized(status: reports.StatusReport, book: Workbook) -> None:
    sheet = xlsx.add_sheet(
        book,
        SHEET_CENTRALIZED,
        ["考试日期", "场次", "时间", "容量", "已预订", "单位", "座位数", "状态"],
        [12, 10, 14, 8, 8, 30, 8, 10],
    )
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
            rows.append(
                [*head, booking.unit.name, booking.seats, STATE_LABELS.get(booking.status, "")]
            )
    xlsx.put_rows(sheet, rows)


def _missing(status: reports.StatusReport, book: Workbook) -> None:
    sheet = xlsx.add_sheet(book, SHEET_MISSING, ["轮次", "单位", "单位编码", "所属"], [20, 30, 18, 14])
    rows: list[list[Any]] = []
    for rnd in status.rounds:
        for unit in rnd.missing or []:
            rows.append([rnd.name, unit.name, unit.code, unit.county or "市直"])
    xlsx.put_rows(sheet, rows)


def _plans(status: reports.StatusReport, book: Workbook) -> None:
    sheet = xlsx.add_sheet(
        book,
        SHEET_PLANS,
        ["县市区/园区", "单位编码", "状态", "组考单位数", "考试日期", "说明", "报送时间"],
        [16, 14, 10, 10, 30, 50, 18],
    )
    tz = status.now.tzinfo
    xlsx.put_rows(
        sheet,
        [
            [
                row.unit_name,
                row.unit_code,
                PLAN_LABELS[row.state],
                row.unit_count,
                "、".join(d.isoformat() for d in row.dates),
                row.detail,
                row.submitted_at.astimezone(tz) if row.submitted_at else None,
            ]
            for row in status.plans.rows
        ],
    )
    for r in range(2, sheet.max_row + 1):
        sheet.cell(row=r, column=6).alignment = Alignment(wrap_text=True, vertical="top")


def count_registrations(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Registration).where(Registration.status == reports.ACTIVE)
    ).one()


def build_workbook(session: Session, config: Config, now: dt.datetime) -> Workbook:
    status = reports.status(session, config, now)
    book = xlsx.new_workbook()
    _registrations(session, config, book)
    _centralized(status, book)
    _missing(status, book)
    _plans(status, book)
    book.properties.title = f"{config.campaign.title} 报名汇总"
    book.properties.creator = config.campaign.city_office
    return book


def write_registrations_xlsx(
    session: Session,
    config: Config,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    *,
    now: dt.datetime | None = None,
) -> int:
    """Write the workbook to a file path or a binary buffer; return its size in bytes.

    ``now`` (the injected clock's) decides round states and late plans; by default the real time
    in the campaign's timezone.
    """
    now = now or dt.datetime.now(config.tz)
    book = build_workbook(session, config, now)
    return xlsx.save(book, path_or_buffer)
