"""The liaison groups the reminders go to, in the database (``liaison_groups``).

Config names the groups (``[telegram] group_chat_ids``) and seeds this table at every start;
the table is what the reminders read. It also remembers what config cannot know: Telegram gives
a group a new chat id when it becomes a supergroup (a ``migrate_to_chat_id`` service message,
or a send answered ``ChatMigrated``). ``move`` then records the new id, carries the group's
sent-log over (what it already had is not sent again) and says whether the city office is yet
to be told. Config may keep the old id: seeding never brings a moved group back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from bot.core.config import Config
from bot.core.uow import UnitOfWork
from bot.org.models import Administrator, Role, TelegramBinding
from reminders import sendlog
from reminders.models import LiaisonGroup

TITLE_LENGTH = 255  # the column's size


def seed_groups(session: Session, config: Config, now: dt.datetime) -> list[str]:
    """Make the table follow config: a row for every configured id not known yet; a group (or
    the supergroup it became) whose id config no longer names is retired, and comes back when
    config names it again. Idempotent; returns what it created or changed ("group:<id>",
    "group-retired:<id>", "group-restored:<id>")."""
    named = set(config.telegram.group_chat_ids)
    rows = {row.chat_id: row for row in session.exec(select(LiaisonGroup))}
    changed: list[str] = []
    for chat_id in config.telegram.group_chat_ids:
        if chat_id not in rows:
            row = LiaisonGroup(
                chat_id=chat_id, origin_chat_id=chat_id, created_at=now, updated_at=now
            )
            session.add(row)
            rows[chat_id] = row
            changed.append(f"group:{chat_id}")
    for row in rows.values():
        retired = row.origin_chat_id not in named and row.chat_id not in named
        if row.retired != retired:
            row.retired, row.updated_at = retired, now
            session.add(row)
            changed.append(f"group-{'retired' if retired else 'restored'}:{row.chat_id}")
    session.flush()
    return changed


def served(uow: UnitOfWork) -> list[int]:
    """The chat ids the group reminders go to now, in the order config gave them."""
    query = (
        select(LiaisonGroup.chat_id)
        .where(col(LiaisonGroup.moved_to).is_(None), col(LiaisonGroup.retired).is_(False))
        .order_by(col(LiaisonGroup.id))
    )
    return list(uow.session.exec(query))


@dataclass(frozen=True)
class GroupMove:
    """Telegram says the group ``old`` is now the supergroup ``new`` (``via``: a service
    message or a send's answer; ``title`` when the message told it)."""

    old: int
    new: int
    via: str
    title: str = ""


@dataclass(frozen=True)
class Moved:
    """What ``move`` did. ``known``: a group the reminders serve (or served); ``changed``: this
    call recorded the move (so the city office is yet to be told: once, by whoever changed it);
    ``sends``: sent-log rows carried over to the new id."""

    old: int
    new: int
    title: str
    known: bool
    changed: bool
    sends: int


def move(uow: UnitOfWork, request: GroupMove) -> Moved:
    """Record that a group got a new chat id. Unknown chats change nothing but their sent-log
    (a send to them is still retried at the new id); a move already recorded changes nothing
    again. Audited when it changes the group."""
    old, new = request.old, request.new
    sends = sendlog.move_chat(uow, old, new)
    row = uow.session.exec(select(LiaisonGroup).where(LiaisonGroup.chat_id == old)).first()
    title = request.title[:TITLE_LENGTH] or (row.title if row is not None else "")
    if row is None or old == new:
        return Moved(old, new, title, known=row is not None, changed=False, sends=sends)
    result = uow.session.execute(
        update(LiaisonGroup)
        .where(col(LiaisonGroup.chat_id) == old, col(LiaisonGroup.moved_to).is_(None))
        .values(moved_to=new, updated_at=uow.now)
    )
    if cast(CursorResult[Any], result).rowcount != 1:  # moved already (or by another instance)
        return Moved(old, new, title, known=True, changed=False, sends=sends)
    _carry_on(uow, row, new, title)
    uow.audit(
        "group.moved",
        target=str(old),
        detail={"to": new, "via": request.via, "sends": sends, "title": title},
    )
    return Moved(old, new, title, known=True, changed=True, sends=sends)


def _carry_on(uow: UnitOfWork, old: LiaisonGroup, new_id: int, title: str) -> None:
    """The row of the new id takes the old one's place (config still knows it by its origin)."""
    row = uow.session.exec(select(LiaisonGroup).where(LiaisonGroup.chat_id == new_id)).first()
    if row is None:
        row = LiaisonGroup(
            chat_id=new_id,
            origin_chat_id=old.origin_chat_id,
            created_at=uow.now,
            updated_at=uow.now,
        )
    row.moved_to, row.retired, row.updated_at = None, old.retired, uow.now
    row.title = title or row.title
    uow.session.add(row)
    uow.session.flush()


def city_office_chats(uow: UnitOfWork) -> list[int]:
    """The private chats of the city office's bound administrators (told when a group moves)."""
    query = (
        select(TelegramBinding.telegram_user_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(Administrator.role == Role.CITY, col(TelegramBinding.revoked_at).is_(None))
        .order_by(col(TelegramBinding.id))
    )
    return [int(user_id) for user_id in uow.session.exec(query)]
