"""The /register conversation's state, kept in the database: one draft per (Telegram user,
private chat), holding what has been chosen so far and the step it waits at.

Kept in the process (PTB's conversations, even persisted), the state would be lost on a restart
and unseen by a second instance behind the same webhook URL. Here every step is one unit of
work that reads the draft and moves it on, and a draft moves only from the step it is at to one
that follows it: a conditional UPDATE, so a button pressed twice, or on two instances at once,
moves it once and the second press finds it moved (``Stale``). Confirming claims the draft (a
DELETE … RETURNING) in the unit of work that writes the registration, so a double-pressed 确认
registers once. A draft not moved for ``EXPIRY`` (by the injected clock, ``uow.now``) is gone.

Each step also calls the registration service (``bot.registration.service``) as the adapter
did before: the presser's scope and the round are checked again at every press that chose
something, and the registration itself is planned and committed there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.core.config import OnlineSession
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.registration import schedule
from bot.registration import service as reg
from bot.registration.models import RegistrationDraft
from bot.results.makeup import MakeupList

EXPIRY = dt.timedelta(minutes=10)  # of inactivity: a draft not moved for longer is gone


class Step(StrEnum):
    ROUND = "round"
    DAY = "day"
    SESSION = "session"
    LEARNERS = "learners"
    CONFIRM = "confirm"


# The steps a draft may move to from each: the next one; a round the platform schedules
# (no sessions to book) goes from the round straight to the learners.
NEXT: dict[Step, tuple[Step, ...]] = {
    Step.ROUND: (Step.DAY, Step.LEARNERS),
    Step.DAY: (Step.SESSION,),
    Step.SESSION: (Step.LEARNERS,),
    Step.LEARNERS: (Step.CONFIRM,),
}


class Stale(Refused):
    """No draft of the presser's at the step a button or message belongs to: never started,
    expired, cancelled, confirmed already, or moved on (by another press). Nothing is done."""

    def __init__(self) -> None:
        super().__init__("register_stale")

    def render(self, **context: Any) -> str:
        from bot.core.render import render

        return render("register_stale")


@dataclass(frozen=True)
class Draft:
    """What a draft holds, read in one unit of work."""

    unit_code: str
    step: Step
    round_key: str | None = None
    exam_date: dt.date | None = None
    session_time: str | None = None
    learners: str | None = None

    def request(self, learners: str, queues_for_operator: bool | None) -> reg.RegistrationRequest:
        return reg.RegistrationRequest(
            round_key=self.round_key or "",
            exam_date=self.exam_date,
            session_time=self.session_time,
            learners=learners,
            unit_code=self.unit_code,
            queues_for_operator=queues_for_operator,
        )


@dataclass(frozen=True)
class LearnersPrompt:
    """The learner step's question: the booking so far and, for the makeup, the unit's list."""

    round: ExamRound
    day: dt.date | None
    time: str | None
    makeup: MakeupList | None


@dataclass(frozen=True)
class RoundChosen:
    round: ExamRound
    unit_name: str
    learners: LearnersPrompt | None  # None: a day and a session are chosen next


@dataclass(frozen=True)
class DayChosen:
    day: dt.date
    sessions: list[OnlineSession]


# --- the draft itself ---------------------------------------------------------------------------


def _known(uow: UnitOfWork) -> bool:
    """Whether the origin names a user and a chat, a draft's owner (not an anonymous sender,
    an inline message, the command line)."""
    origin = uow.origin
    return origin.kind == "telegram" and None not in (origin.telegram_user_id, origin.chat_id)


def _ids(uow: UnitOfWork) -> tuple[int, int]:
    """The draft's owner, or ``Stale`` for an origin without one."""
    user, chat = uow.origin.telegram_user_id, uow.origin.chat_id
    if not _known(uow) or user is None or chat is None:
        raise Stale()
    return user, chat


def _owner(uow: UnitOfWork) -> list[ColumnElement[bool]]:
    """The WHERE clause of the acting user's draft in this chat."""
    user, chat = _ids(uow)
    return [
        col(RegistrationDraft.telegram_user_id) == user,
        col(RegistrationDraft.chat_id) == chat,
    ]


def _live(uow: UnitOfWork) -> ColumnElement[bool]:
    """Moved within the last ``EXPIRY`` (its last moment included)."""
    return col(RegistrationDraft.updated_at) >= uow.now - EXPIRY


# What a step's UPDATE or DELETE returns of the draft, in Draft's order after ``step``.
_HELD = (
    col(RegistrationDraft.unit_code),
    col(RegistrationDraft.round_key),
    col(RegistrationDraft.exam_date),
    col(RegistrationDraft.session_time),
    col(RegistrationDraft.learners),
)


def _held(row: Any, step: Step) -> Draft:
    return Draft(row[0], step, row[1], row[2], row[3], row[4])


def start(uow: UnitOfWork, unit_code: str) -> None:
    """A new draft at the round step, replacing any the user had in this chat (/register
    again starts over). One upsert on the owner's unique key."""
    user, chat = _ids(uow)
    values = {
        "unit_code": unit_code,
        "round_key": None,
        "exam_date": None,
        "session_time": None,
        "learners": None,
        "step": Step.ROUND.value,
        "updated_at": uow.now,
    }
    table = RegistrationDraft.__table__  # type: ignore[attr-defined]
    make = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = make(table).values(telegram_user_id=user, chat_id=chat, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.telegram_user_id, table.c.chat_id], set_=values
    )
    uow.session.execute(statement)


def find(uow: UnitOfWork, step: Step) -> Draft | None:
    """The user's live draft in this chat if it waits at ``step``; one query on the owner's
    unique index."""
    if not _known(uow):
        return None
    row = uow.session.execute(
        select(*_HELD).where(*_owner(uow), col(RegistrationDraft.step) == step.value, _live(uow))
    ).first()
    return _held(row, step) if row is not None else None


# Built once: asked of every private message, and building the statement costs three times
# what running it does.
_WAITING = select(col(RegistrationDraft.telegram_user_id), col(RegistrationDraft.chat_id)).where(
    col(RegistrationDraft.telegram_user_id).in_(bindparam("users", expanding=True)),
    col(RegistrationDraft.step) == bindparam("step"),
    col(RegistrationDraft.updated_at) >= bindparam("since"),
)


def waiting_at(
    connection: Connection, owners: frozenset[tuple[int, int]], step: Step, now: dt.datetime
) -> dict[tuple[int, int], bool]:
    """Which of ``owners`` ((user, chat) pairs) have a live draft waiting at ``step``: one
    query for a burst of private messages (``bot.core.batch``), on the owners' unique index."""
    if not owners:
        return {}
    users = sorted({user for user, _ in owners})
    rows = connection.execute(_WAITING, {"users": users, "step": step.value, "since": now - EXPIRY})
    return {(user, chat): True for user, chat in rows if (user, chat) in owners}


def at(uow: UnitOfWork, step: Step) -> Draft:
    """The user's live draft waiting at ``step``, or ``Stale``."""
    found = find(uow, step)
    if found is None:
        raise Stale()
    return found


def advance(uow: UnitOfWork, came: Step, to: Step, **values: Any) -> Draft:
    """Move the user's live draft from ``came`` to ``to`` with the values chosen, once: one
    UPDATE … RETURNING conditional on the step, so of two presses (on two instances) one moves
    it and the other finds it moved, ``Stale``."""
    if to not in NEXT.get(came, ()):
        raise ValueError(f"a draft does not move from {came} to {to}")
    row = uow.session.execute(
        update(RegistrationDraft)
        .where(*_owner(uow), col(RegistrationDraft.step) == came.value, _live(uow))
        .values(step=to.value, updated_at=uow.now, **values)
        .returning(*_HELD)
    ).first()
    if row is None:
        raise Stale()
    return _held(row, to)


def touch(uow: UnitOfWork, step: Step) -> None:
    """The user is still at ``step`` (a list to correct): inactivity counts from now."""
    if not _known(uow):
        return
    uow.session.execute(
        update(RegistrationDraft)
        .where(*_owner(uow), col(RegistrationDraft.step) == step.value, _live(uow))
        .values(updated_at=uow.now)
    )


def discard(uow: UnitOfWork, step: Step | None = None) -> bool:
    """Delete the user's draft in this chat (only if it waits at ``step``, when given);
    whether a live one was deleted (an expired one is deleted all the same)."""
    if not _known(uow):
        return False
    where = _owner(uow)
    if step is not None:
        where.append(col(RegistrationDraft.step) == step.value)
    gone = uow.session.execute(
        delete(RegistrationDraft).where(*where).returning(col(RegistrationDraft.updated_at))
    ).first()
    return gone is not None and gone[0] >= uow.now - EXPIRY


def claim(uow: UnitOfWork) -> Draft:
    """Take the user's draft waiting at the confirmation, once: DELETE … RETURNING, so of two
    presses (on two instances) one gets it and the other ``Stale``. Rolled back with the unit
    of work when the registration is refused."""
    row = uow.session.execute(
        delete(RegistrationDraft)
        .where(*_owner(uow), col(RegistrationDraft.step) == Step.CONFIRM.value, _live(uow))
        .returning(*_HELD)
    ).first()
    if row is None:
        raise Stale()
    return _held(row, Step.CONFIRM)


# --- the conversation's steps, one unit of work each --------------------------------------------


def open_draft(uow: UnitOfWork, unit_code: str | None) -> reg.Opening:
    """/register [unit code]: the opening; a draft starts when a round may be chosen, and any
    earlier one ends when none may."""
    opening = reg.open_registration(uow, unit_code)
    if opening.allowed:
        start(uow, opening.unit.code)
    else:
        discard(uow)
    return opening


def _learners_prompt(uow: UnitOfWork, draft: Draft, item: ExamRound) -> LearnersPrompt:
    offer = reg.makeup_offer(uow, draft.unit_code, item.key)
    return LearnersPrompt(item, draft.exam_date, draft.session_time, offer)


def choose_round(uow: UnitOfWork, round_key: str) -> RoundChosen:
    """A round pressed: checked for the unit (scope, window, its exam) and kept; a round the
    platform schedules goes on to the learners."""
    draft = at(uow, Step.ROUND)
    unit = reg.registering_unit(uow, draft.unit_code)
    item = reg.choose_round(uow, draft.unit_code, round_key)
    if schedule.books_sessions(uow.config, item):
        advance(uow, Step.ROUND, Step.DAY, round_key=item.key)
        return RoundChosen(item, unit.name, None)
    moved = advance(
        uow, Step.ROUND, Step.LEARNERS, round_key=item.key, exam_date=None, session_time=None
    )
    return RoundChosen(item, unit.name, _learners_prompt(uow, moved, item))


def choose_day(uow: UnitOfWork, day: dt.date) -> DayChosen:
    """A day pressed: kept (checked with the whole booking at the learner step) and the
    round's sessions offered."""
    moved = advance(uow, Step.DAY, Step.SESSION, exam_date=day)
    item = schedule.find_round(uow.config, moved.round_key or "")
    return DayChosen(day, schedule.sessions(uow.config, item))


def choose_session(uow: UnitOfWork, session_time: str) -> LearnersPrompt:
    moved = advance(uow, Step.SESSION, Step.LEARNERS, session_time=session_time)
    return _learners_prompt(uow, moved, schedule.find_round(uow.config, moved.round_key or ""))


def give_learners(uow: UnitOfWork, typed: str, queues_for_operator: bool | None = None) -> reg.Plan:
    """The learners typed: the whole registration checked (nothing written but the draft,
    which waits for the confirmation with them)."""
    draft = at(uow, Step.LEARNERS)
    planned = reg.plan(uow, draft.request(typed, queues_for_operator))
    advance(uow, Step.LEARNERS, Step.CONFIRM, learners=typed)
    return planned


def confirm(uow: UnitOfWork, queues_for_operator: bool | None = None) -> reg.Registered:
    """确认: claim the draft and commit its registration in this one unit of work (checked
    again: the clock and the roster may have moved since the summary)."""
    draft = claim(uow)
    return reg.commit(uow, draft.request(draft.learners or "", queues_for_operator))
