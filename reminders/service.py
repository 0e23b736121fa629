"""Reminders as data: calendar sync, what is due, the sent-log claims, who still owes what, and
the city office's one-off reminders. No Telegram here: the scheduler sends what this decides.

Exactly once: before a message goes out, a ``reminder_sends`` row (reminder, chat, scheduled
time) is INSERTed in its own transaction; the unique key lets exactly one instance win, however
many schedulers, restarts or retries race for it. The winner sends and records the outcome.
Each message is claimed just before it is sent (not a whole broadcast at once), so a process
killed mid-broadcast leaves at most the few messages it had in flight unaccounted for; the rest
are still unclaimed and the next start sends them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import Markup
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.core.db import Database
from bot.core.errors import Refused
from bot.core.render import render
from bot.org.admins import require_city
from bot.org.identity import Identity
from bot.org.models import Administrator, TelegramBinding, Unit, UnitKind
from bot.registration.models import CountyPlan, SeatBooking
from reminders import calendar
from reminders.calendar import build_calendar
from reminders.models import ReminderSend, SendStatus, Source, StoredReminder

log = logging.getLogger(__name__)

CUSTOM_PREFIX = "custom-"
_CUSTOM_ID = re.compile(r"^custom-(\d+)$")
_ID_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


# --- the calendar in the database ----------------------------------------------------------------


@dataclass(frozen=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.removed)


def _params_json(params: dict[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True)


def sync_calendar(session: Session, config: Config, now: dt.datetime) -> SyncReport:
    """Make the calendar rows match config: insert new ids, move changed ones (an upsert, so two
    instances starting together do not collide), delete ids the config no longer yields. Paused
    flags and custom reminders are left alone."""
    wanted = {item.id: item for item in build_calendar(config)}
    existing = {
        row.id: row
        for row in session.exec(
            select(StoredReminder).where(StoredReminder.source == Source.CALENDAR)
        )
    }
    added, moved = [], []
    for item in wanted.values():
        row = existing.get(item.id)
        values = {
            "kind": item.kind,
            "fire_at": item.fire_at,
            "deadline": item.deadline,
            "template": item.template,
            "params": _params_json(item.params),
        }
        if row is not None:
            same = (
                row.kind == item.kind
                and row.fire_at == item.fire_at
                and row.deadline == item.deadline
                and row.template == item.template
                and row.params == values["params"]
            )
            if same:
                continue
            moved.append(item.id)
        else:
            added.append(item.id)
        _upsert(session, item.id, values, now)
    removed = sorted(set(existing) - set(wanted))
    if removed:
        session.execute(delete(StoredReminder).where(col(StoredReminder.id).in_(removed)))
    report = SyncReport(added, moved, removed)
    if report.changed:
        log.info(
            "reminder calendar synced: %d added, %d moved, %d removed",
            len(added),
            len(moved),
            len(removed),
        )
    return report


def _upsert(session: Session, rid: str, values: dict[str, Any], now: dt.datetime) -> None:
    table = StoredReminder.__table__
    row = {
        "id": rid,
        "source": Source.CALENDAR.value,
        "paused": False,
        "created_by": "config",
        "created_at": now,
        "updated_at": now,
        **values,
    }
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(table).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id], set_={**values, "updated_at": now}
    )
    session.execute(stmt)


def load(session: Session, reminder_id: str) -> StoredReminder | None:
    return session.get(StoredReminder, reminder_id)


def params_of(row: StoredReminder) -> dict[str, Any]:
    try:
        value = json.loads(row.params or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def upcoming(
    session: Session, now: dt.datetime, *, limit: int | None = None, include_paused: bool = False
) -> list[StoredReminder]:
    query = select(StoredReminder).where(StoredReminder.fire_at > now)
    if not include_paused:
        query = query.where(col(StoredReminder.paused).is_(False))
    query = query.order_by(col(StoredReminder.fire_at), col(StoredReminder.id))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def due(session: Session, now: dt.datetime) -> list[StoredReminder]:
    """Reminders whose time has come (sent or not: the sent-log says which chats are done)."""
    return list(
        session.exec(
            select(StoredReminder)
            .where(StoredReminder.fire_at <= now, col(StoredReminder.paused).is_(False))
            .order_by(col(StoredReminder.fire_at), col(StoredReminder.id))
        )
    )


# --- the sent-log ----------------------------------------------------------------------------------


def claim(
    session: Session,
    reminder: StoredReminder,
    chat_id: int,
    fire_at: dt.datetime,
    now: dt.datetime,
    *,
    status: SendStatus = SendStatus.CLAIMED,
    error: str = "",
) -> int | None:
    """INSERT the sent-log row; the id when this caller won it, None when someone already had.

    Give it a session of its own: the unique key decides, and the loser's transaction is rolled
    back. Commit (leave the session scope) before sending.
    """
    return _claim(session, reminder.id, chat_id, fire_at, now, status=status, error=error)


def _claim(
    session: Session,
    reminder_id: str,
    chat_id: int,
    fire_at: dt.datetime,
    now: dt.datetime,
    *,
    status: SendStatus = SendStatus.CLAIMED,
    error: str = "",
) -> int | None:
    row = ReminderSend(
        reminder_id=reminder_id,
        chat_id=chat_id,
        fire_at=fire_at,
        status=status,
        claimed_at=now,
        error=error[:500],
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return row.id


def claim_in(
    db: Database, reminder: StoredReminder, chat_id: int, now: dt.datetime, **kw
) -> int | None:
    """``claim`` in a transaction of its own."""
    with db.session() as session:
        return claim(session, reminder, chat_id, reminder.fire_at, now, **kw)


def claim_delivery(db: Database, item: Delivery, now: dt.datetime) -> Delivery | None:
    """Claim one planned message in a transaction of its own, just before sending it: the
    delivery with its ``send_id``, or None when another instance (or an earlier run) has it."""
    with db.session() as session:
        send_id = _claim(session, item.reminder_id, item.chat_id, item.fire_at, now)
    return None if send_id is None else replace(item, send_id=send_id)


def mark_sent(
    session: Session,
    send_id: int,
    now: dt.datetime,
    *,
    attempts: int,
    message_id: int | None,
    note: str = "",
) -> None:
    session.execute(
        update(ReminderSend)
        .where(col(ReminderSend.id) == send_id)
        .values(
            status=SendStatus.SENT,
            sent_at=now,
            attempts=attempts,
            message_id=message_id,
            error=note[:500],
        )
    )


def mark_failed(session: Session, send_id: int, *, attempts: int, error: str) -> None:
    session.execute(
        update(ReminderSend)
        .where(col(ReminderSend.id) == send_id)
        .values(status=SendStatus.FAILED, attempts=attempts, error=error[:500])
    )


def recover_stale(session: Session, now: dt.datetime, timeout: dt.timedelta) -> list[ReminderSend]:
    """Claims never finished (the process died between claiming and recording): marked failed
    and returned for logging. Not re-sent — the message may have gone out before the crash, and
    a duplicate is worse than a logged gap."""
    stale = list(
        session.exec(
            select(ReminderSend).where(
                ReminderSend.status == SendStatus.CLAIMED, ReminderSend.claimed_at < now - timeout
            )
        )
    )
    for row in stale:
        session.execute(
            update(ReminderSend)
            .where(col(ReminderSend.id) == row.id, ReminderSend.status == SendStatus.CLAIMED)
            .values(status=SendStatus.FAILED, error="interrupted: may or may not have been sent")
        )
    return stale


def sends_of(session: Session, reminder_ids: Iterable[str]) -> list[ReminderSend]:
    ids = list(reminder_ids)
    if not ids:
        return []
    return list(session.exec(select(ReminderSend).where(col(ReminderSend.reminder_id).in_(ids))))


# --- who still owes what (unit names only) ------------------------------------------------------


@dataclass(frozen=True)
class Owing:
    """The units a reminder concerns. ``known`` is False when the database cannot tell who has
    done it yet (then ``units`` are everyone who must)."""

    units: list[Unit]
    expected: int  # how many units the question concerns (0: the database knows of none)
    known: bool = True

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.units]


def _path_ids(unit: Unit) -> list[int]:
    return [int(i) for i in unit.path.strip("/").split("/") if i]


def _zone_round_owing(session: Session, config: Config, round_key: str) -> Owing:
    """First-level units expected in the online zone exam (not taking a category exam, not on
    the centralized list) with no active registration for the round, on themselves or below —
    the same list the city office's /status shows."""
    from bot.overview.status import status

    report = status(session, config, dt.datetime.now(config.tz))
    for item in report.rounds:
        if item.key == round_key and item.missing is not None:
            return Owing(list(item.missing), item.expected or 0)
    return Owing([], 0)


def _county_plan_owing(session: Session) -> Owing:
    planned = set(session.exec(select(CountyPlan.unit_id)))
    counties = session.exec(
        select(Unit)
        .where(col(Unit.kind).in_([UnitKind.COUNTY, UnitKind.PARK]))
        .order_by(col(Unit.path), col(Unit.id))
    ).all()
    return Owing([u for u in counties if u.id not in planned], len(counties))


def _named_units(session: Session, names: list[str]) -> list[Unit]:
    rows = {u.name: u for u in session.exec(select(Unit).where(col(Unit.name).in_(names)))}
    return [rows[n] for n in names if n in rows]


def _centralized_owing(session: Session, config: Config) -> Owing:
    booked = select(SeatBooking.unit_id).where(SeatBooking.status != "cancelled")
    booked_ids = set(session.exec(booked))
    units = _named_units(session, list(config.centralized.units))
    return Owing([u for u in units if u.id not in booked_ids], len(units))


def _question_bank_owing(session: Session, config: Config) -> Owing:
    units = _named_units(session, [q.department for q in config.question_bank])
    try:
        from bot.bank.models import QuestionSubmission

        current = select(QuestionSubmission.unit_id).where(
            col(QuestionSubmission.superseded_at).is_(None)
        )
    except (ImportError, AttributeError):  # no submissions table: name everyone who must
        return Owing(units, len(units), known=False)
    done = set(session.exec(current))
    return Owing([u for u in units if u.id not in done], len(units))


def _makeup_list_owing(session: Session, config: Config) -> Owing:
    """Units whose makeup list (from the imported results) is not registered yet; not known
    before any result is imported."""
    from bot.results.service import makeup_owing

    units, expected, known = makeup_owing(session, config)
    return Owing(units, expected, known)


def owing_for(session: Session, config: Config, row: StoredReminder) -> Owing | None:
    """Who still has to act on this reminder, where the database knows; None where it is not a
    question of anyone owing anything (an exam eve, the study start, a custom text)."""
    params = params_of(row)
    if row.kind == calendar.QUESTION_BANK:
        return _question_bank_owing(session, config)
    if row.kind == calendar.COUNTY_PLAN:
        return _county_plan_owing(session)
    if row.kind == calendar.CENTRALIZED_PREREGISTRATION and params.get("phase") != "open":
        return _centralized_owing(session, config)
    if row.kind == calendar.REGISTRATION and params.get("phase") != "open":
        return _zone_round_owing(session, config, f"zone{params.get('round')}")
    if row.kind == calendar.MAKEUP_LIST:
        return _makeup_list_owing(session, config)
    return None


# --- rendering ---------------------------------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def template_context(config: Config, row: StoredReminder, now: dt.datetime) -> dict[str, Any]:
    params = params_of(row)
    zone = config.zone_round(params["round"]) if isinstance(params.get("round"), int) else None
    exam_date = _date(params.get("exam_date"))
    credit_day = None
    if exam_date is not None:
        credit_day = exam_date - dt.timedelta(days=config.study.deadline_days_before_exam)
    return {
        "c": config,
        "r": params,
        "zone": zone,
        "exam_date": exam_date,
        "credit_day": credit_day,
        "fire_at": row.fire_at.astimezone(config.tz),
        "deadline": row.deadline.astimezone(config.tz),
        "now": now.astimezone(config.tz),
        "text": row.text or "",
        "kind": row.kind,
    }


def render_text(
    session: Session, config: Config, row: StoredReminder, now: dt.datetime
) -> tuple[str, Owing | None]:
    """The message as it would be sent at ``now``, and who it names."""
    owing = owing_for(session, config, row)
    names = owing.names if owing else []
    limit = config.reminders.max_names
    text = render(
        row.template,
        **template_context(config, row, now),
        owing=owing,
        names=names[:limit],
        more=max(0, len(names) - limit),
        total=len(names),
    )
    return text, owing


def title(config: Config, row: StoredReminder) -> Markup:
    """A one-line name for listings (/reminders), already escaped for HTML."""
    return Markup(render("reminder_title", **template_context(config, row, row.fire_at)))


# --- private targets -----------------------------------------------------------------------------


def bound_admins(session: Session, unit_ids: list[int]) -> dict[int, list[int]]:
    """Telegram user id -> the owing units they administer (active bindings only)."""
    if not unit_ids:
        return {}
    rows = session.exec(
        select(TelegramBinding.telegram_user_id, Administrator.unit_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(Administrator.unit_id).in_(unit_ids))
        .where(col(TelegramBinding.revoked_at).is_(None))
    )
    targets: dict[int, list[int]] = {}
    for user_id, unit_id in rows:
        targets.setdefault(int(user_id), []).append(unit_id)
    return targets


# --- deciding what to send now --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A message due to one chat. ``send_id`` is set once it is claimed (``claim_delivery``):
    then this instance, and no other, sends ``text`` to ``chat_id``."""

    reminder_id: str
    chat_id: int
    fire_at: dt.datetime
    text: str
    send_id: int | None = None


def _covered(history: list[ReminderSend], fire_at: dt.datetime) -> bool:
    """Already handled for this scheduled time; or sent at or after it (the config moved the
    reminder to an earlier time than it already went out: sending again would be a duplicate)."""
    return any(
        h.fire_at == fire_at
        or (h.status == SendStatus.SENT and h.sent_at is not None and h.sent_at >= fire_at)
        for h in history
    )


def prepare(
    db: Database,
    config: Config,
    now: dt.datetime,
    group_ids: list[int],
    *,
    logged: set[tuple[str, dt.datetime]] | None = None,
    record_skips: bool = True,
) -> list[Delivery]:
    """Every due (reminder, chat) not yet in the sent-log, with its text: what to send now.
    Nothing is claimed here; the sender claims each message just before sending it.

    A reminder whose deadline has passed (it fell due while the bot was down or paused) is
    claimed as ``skipped`` and logged instead (``record_skips=False``: only logged, for a clock
    that may travel back, as in the sandbox). Nothing is claimed during the quiet hours.
    """
    rcfg = config.reminders
    if rcfg.quiet(now.astimezone(config.tz).time()):
        return []
    with db.session() as session:
        rows = due(session, now)
        history: dict[tuple[str, int], list[ReminderSend]] = {}
        for send in sends_of(session, [r.id for r in rows]):
            history.setdefault((send.reminder_id, send.chat_id), []).append(send)
    logged = logged if logged is not None else set()
    deliveries: list[Delivery] = []
    for row in rows:
        open_groups = [
            g for g in group_ids if not _covered(history.get((row.id, g), []), row.fire_at)
        ]
        if row.deadline <= now:
            for chat_id in open_groups if record_skips else []:
                if claim_in(
                    db, row, chat_id, now, status=SendStatus.SKIPPED, error="deadline passed"
                ):
                    log.info(
                        "reminder %s skipped for chat %s: due %s, deadline %s passed before it "
                        "could be sent",
                        row.id,
                        chat_id,
                        row.fire_at.astimezone(config.tz).isoformat(),
                        row.deadline.astimezone(config.tz).isoformat(),
                    )
            if not (group_ids and record_skips) and (row.id, row.fire_at) not in logged:
                logged.add((row.id, row.fire_at))
                log.info("reminder %s not sent: its deadline passed before it could be", row.id)
            continue
        if not open_groups and not rcfg.private_targets:
            continue
        with db.session() as session:
            text, owing = render_text(session, config, row, now)
            private: list[tuple[int, str]] = []
            if rcfg.private_targets and owing is not None and owing.units:
                names = {u.id: u.name for u in owing.units}
                for user_id, unit_ids in bound_admins(session, list(names)).items():
                    if _covered(history.get((row.id, user_id), []), row.fire_at):
                        continue
                    body = render(
                        "reminder_private",
                        c=config,
                        units=[names[i] for i in unit_ids],
                        text=text,
                        known=owing.known,
                    )
                    private.append((user_id, body))
        targets = [(g, text) for g in open_groups] + private
        deliveries.extend(Delivery(row.id, chat_id, row.fire_at, body) for chat_id, body in targets)
    return deliveries


# --- the city office's one-off reminders ----------------------------------------------------------


@dataclass(frozen=True)
class CustomRequest:
    fire_at: dt.datetime
    text: str


def parse_custom(config: Config, args: list[str], now: dt.datetime) -> CustomRequest:
    """``2022-09-15 09:00 文本`` → a validated request, or Refused with the reason."""
    rcfg = config.reminders
    if len(args) < 3:
        raise Refused("remind_usage")
    day_text, time_text = args[0], args[1]
    text = " ".join(args[2:]).strip()
    try:
        day = dt.date.fromisoformat(day_text)
        if not re.fullmatch(r"\d{1,2}:\d{2}", time_text):
            raise ValueError(time_text)
        hour, minute = (int(p) for p in time_text.split(":"))
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=config.tz)
    except ValueError as exc:
        raise Refused("remind_bad_time", date=day_text[:20], time=time_text[:20]) from exc
    if moment <= now:
        raise Refused("remind_past", now=f"{now.astimezone(config.tz):%Y-%m-%d %H:%M}")
    if rcfg.quiet(moment.time()):
        raise Refused("remind_quiet")
    if not text:
        raise Refused("remind_usage")
    if len(text) > rcfg.custom_max_length:
        raise Refused("remind_too_long", limit=rcfg.custom_max_length, length=len(text))
    return CustomRequest(moment, text)


def _next_custom_id(session: Session) -> str:
    numbers = [
        int(m.group(1))
        for rid in session.exec(
            select(StoredReminder.id).where(StoredReminder.source == Source.CUSTOM)
        )
        if (m := _CUSTOM_ID.match(rid))
    ]
    return f"{CUSTOM_PREFIX}{max(numbers, default=0) + 1}"


def add_custom(
    session: Session,
    config: Config,
    identity: Identity,
    request: CustomRequest,
    now: dt.datetime,
    chat_id: int | None = None,
) -> StoredReminder:
    require_city(identity)
    row = StoredReminder(
        id=_next_custom_id(session),
        kind=calendar.CUSTOM,
        source=Source.CUSTOM,
        fire_at=request.fire_at,
        deadline=request.fire_at + dt.timedelta(hours=config.reminders.custom_valid_hours),
        template="reminder_custom",
        params="{}",
        text=request.text,
        created_by=identity.unit_name,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()  # a concurrent /remind_add taking the same id fails here, changing nothing
    audit.record(
        session,
        at=now,
        action="reminder.add",
        actor=identity.unit_name,
        target=row.id,
        detail={"fire_at": request.fire_at.isoformat(), "text": request.text},
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )
    return row


def set_paused(
    session: Session,
    identity: Identity,
    reminder_id: str,
    paused: bool,
    now: dt.datetime,
    chat_id: int | None = None,
) -> StoredReminder:
    """Pause or resume; refuses an unknown id or a no-op. A resumed reminder whose time passed
    while paused is sent at once if its deadline has not passed, else skipped (as after
    downtime)."""
    require_city(identity)
    rid = reminder_id.strip().lower()
    row = load(session, rid) if _ID_SHAPE.match(rid) else None
    if row is None:
        raise Refused("remind_unknown", id=reminder_id[:64])
    if row.paused == paused:
        raise Refused("remind_already_paused" if paused else "remind_not_paused", id=row.id)
    changed = session.execute(
        update(StoredReminder)
        .where(col(StoredReminder.id) == row.id, col(StoredReminder.paused).is_(not paused))
        .values(paused=paused, updated_at=now)
    )
    if changed.rowcount != 1:  # someone else flipped it in the meantime
        raise Refused("remind_already_paused" if paused else "remind_not_paused", id=row.id)
    audit.record(
        session,
        at=now,
        action="reminder.pause" if paused else "reminder.resume",
        actor=identity.unit_name,
        target=row.id,
        detail={"fire_at": row.fire_at.isoformat()},
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )
    row.paused = paused
    return row
