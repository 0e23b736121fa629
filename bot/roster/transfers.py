"""Transfers through the platform: the receiving unit asks, the origin unit is told, and a
learner from another county moves only with the origin's (or the city office's) consent.

The notice: personnel changes are made by the receiving unit's administrator. The bot asks the
platform (a ``transfer`` task, written in the confirm's transaction) and moves the learner in
its own roster only once the platform has applied it (``move_learner``, the task kind's effect).
Until then the learner stays in the origin unit's scope, so ``/transfer`` followed by
``/resetpw`` cannot reach a learner of another county.

A transfer from outside the receiving administrator's county (``home_path``) waits for approval
when ``[platform] cross_county_transfer_approval`` is on: the task is written awaiting approval,
and the origin unit's administrators and the city office get approve / deny buttons. The buttons
carry only the task id; each press is scope-checked, and a conditional UPDATE lets one decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import find_unit
from bot.org.identity import Identity
from bot.org.models import Administrator, Role, TelegramBinding, Unit, UnitKind
from bot.platform.delivery import Effect
from bot.platform.models import PlatformTask, TaskKind, TaskStatus
from bot.platform.tasks import TaskRequest, TaskView, fields_of, submit
from bot.roster.accounts import mask_name, pk
from bot.roster.models import Learner

# The transfer task's own fields (docs/platform-api.md).
FROM_CODE, FROM_NAME = "from_unit_code", "from_unit_name"
TO_CODE, TO_NAME = "to_unit_code", "to_unit_name"
TASK_ID_LENGTH = 32  # bot.platform.tasks.new_id: uuid4 hex
HEX_DIGITS = frozenset("0123456789abcdef")
COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)


@dataclass(frozen=True)
class TransferNotice:
    """A private message about a transfer to an administrator of the origin unit (who is
    taking which learner) or of the city office; with approve / deny buttons when it waits."""

    chat_id: int
    task_id: str
    masked_name: str
    account: str
    from_unit_name: str
    to_unit_name: str
    requester_name: str
    asks_approval: bool
    to_origin: bool  # False: to the city office


@dataclass(frozen=True)
class TransferSubmitted:
    task_id: str
    awaiting_approval: bool
    notices: tuple[TransferNotice, ...]


@dataclass(frozen=True)
class Approval:
    """An approve / deny button: the task it names, and the answer."""

    task_id: str
    approve: bool

    @classmethod
    def parse(cls, raw_id: str, *, approve: bool) -> Approval | None:
        """From a button's data; None for data this bot never sent."""
        if len(raw_id) != TASK_ID_LENGTH or not set(raw_id) <= HEX_DIGITS:
            return None
        return cls(raw_id, approve)


@dataclass(frozen=True)
class ApprovalDone:
    approved: bool
    task_id: str
    masked_name: str
    account: str
    from_unit_name: str
    to_unit_name: str
    requester_name: str
    approver_name: str
    requester_chat_id: int | None  # told of a denial (the platform's result comes otherwise)


# --- the rule: which transfers need the origin's consent ----------------------------------------


def home_path(session: Session, identity: Identity) -> str:
    """The part of the unit tree the administrator's unit belongs to: the county or park it lies
    in; for a unit directly under the city office (and the city office itself), its own
    subtree. A transfer from outside it comes from another county."""
    ids = [int(part) for part in identity.unit_path.strip("/").split("/") if part.isdigit()]
    for unit_id in ids:  # from the root down: the first county or park on the way
        unit = session.get(Unit, unit_id)
        if unit is not None and unit.kind in COUNTY_KINDS:
            return unit.path
    return identity.unit_path


def needs_approval(uow: UnitOfWork, identity: Identity, origin: Unit) -> bool:
    if not uow.config.platform.cross_county_transfer_approval:
        return False
    return not origin.path.startswith(home_path(uow.session, identity))


def open_transfer(session: Session, account: str) -> PlatformTask | None:
    """A transfer of this learner that is still waiting (for approval or for the platform)."""
    return session.exec(
        select(PlatformTask)
        .where(PlatformTask.kind == TaskKind.TRANSFER.value)
        .where(PlatformTask.account == account)
        .where(col(PlatformTask.status).in_([s.value for s in TaskStatus if s.open]))
    ).first()


def refuse_if_open(session: Session, account: str) -> None:
    """One open transfer of a learner at a time. The refusal names no task: the asker may be
    another unit, which learns no more than /transfer's confirm step shows anyway."""
    if open_transfer(session, account) is not None:
        raise Refused("transfer_open", account=account)


# --- the confirm: the task, and who is told ------------------------------------------------------


def submit_transfer(
    uow: UnitOfWork, identity: Identity, learner: Learner, origin: Unit, target: Unit
) -> TransferSubmitted:
    """Write the transfer task (queued, or awaiting approval) and its audit row; the notices
    for the origin unit's administrators (and, when it waits, the city office's)."""
    refuse_if_open(uow.session, learner.account)
    waits = needs_approval(uow, identity, origin)
    fields = {
        FROM_CODE: origin.code,
        FROM_NAME: origin.name,
        TO_CODE: target.code,
        TO_NAME: target.name,
    }
    task = submit(
        uow,
        TaskRequest(
            TaskKind.TRANSFER,
            account=learner.account,
            unit_code=target.code,
            fields=fields,
            needs_approval=waits,
        ),
    )
    uow.audit(
        "transfer.submit",
        target=learner.account,
        detail={"from": origin.code, "to": target.code, "task": task.id, "approval": waits},
    )

    def notice(chat_id: int, to_origin: bool) -> TransferNotice:
        return TransferNotice(
            chat_id=chat_id,
            task_id=task.id,
            masked_name=mask_name(learner.name),
            account=learner.account,
            from_unit_name=origin.name,
            to_unit_name=target.name,
            requester_name=identity.unit_name,
            asks_approval=waits,
            to_origin=to_origin,
        )

    origin_chats = bound_chats(uow.session, unit_id=pk(origin.id))
    city_chats = bound_chats(uow.session, role=Role.CITY) if waits else []
    notices = [notice(chat, True) for chat in origin_chats]
    notices += [notice(chat, False) for chat in city_chats if chat not in origin_chats]
    mine = identity.telegram_user_id
    return TransferSubmitted(task.id, waits, tuple(n for n in notices if n.chat_id != mine))


def bound_chats(
    session: Session, *, unit_id: int | None = None, role: Role | None = None
) -> list[int]:
    """The private chats (Telegram user ids) of the administrators bound now, of one unit or
    of one role."""
    query = (
        select(TelegramBinding.telegram_user_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(TelegramBinding.revoked_at).is_(None))
    )
    if unit_id is not None:
        query = query.where(Administrator.unit_id == unit_id)
    if role is not None:
        query = query.where(Administrator.role == role.value)
    return sorted(set(session.exec(query).all()))


# --- approve / deny ------------------------------------------------------------------------------


def decide_approval(uow: UnitOfWork, approval: Approval) -> ApprovalDone:
    """The origin's (or the city office's) answer to a transfer awaiting approval, once:
    approved, the task is queued for the platform; denied, it is cancelled and never sent."""
    identity: Identity = uow.authorize()
    task = uow.session.get(PlatformTask, approval.task_id)
    if task is None or task.kind != TaskKind.TRANSFER.value:
        raise Refused("action_unknown")
    fields = fields_of(task)
    origin = find_unit(uow.session, str(fields.get(FROM_CODE, "")))
    if not _may_approve(identity, origin, task):
        raise Refused("action_unknown")
    if task.status != TaskStatus.AWAITING_APPROVAL.value:
        raise Refused("action_done", status=task.status)
    if approval.approve:
        values: dict[str, Any] = {"status": TaskStatus.QUEUED.value, "next_attempt_at": uow.now}
    else:
        values = {
            "status": TaskStatus.CANCELLED.value,
            "next_attempt_at": None,
            "finished_at": uow.now,
            "finished_by": identity.unit_name[:128],
            "notified_at": uow.now,  # the requester is told by the caller, once
        }
    claimed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(PlatformTask)
            .where(
                col(PlatformTask.id) == task.id,
                col(PlatformTask.status) == TaskStatus.AWAITING_APPROVAL.value,
            )
            .values(**values)
        ),
    )
    if claimed.rowcount != 1:
        raise Refused("action_done", status="done")
    uow.audit(
        "transfer.approve" if approval.approve else "transfer.deny",
        target=task.account,
        detail={"task": task.id, "from": fields.get(FROM_CODE), "to": fields.get(TO_CODE)},
    )
    learner = uow.session.exec(select(Learner).where(Learner.account == task.account)).first()
    return ApprovalDone(
        approved=approval.approve,
        task_id=task.id,
        masked_name=mask_name(learner.name) if learner else "",
        account=task.account,
        from_unit_name=str(fields.get(FROM_NAME, "")),
        to_unit_name=str(fields.get(TO_NAME, task.unit_code)),
        requester_name=task.requester_name,
        approver_name=identity.unit_name,
        requester_chat_id=task.requester_chat_id,
    )


def _may_approve(identity: Identity, origin: Unit | None, task: PlatformTask) -> bool:
    """The city office, or a county or unit administrator whose scope holds the origin unit;
    never the requester."""
    if task.requested_by == identity.admin_id:
        return False
    if identity.role == Role.CITY:
        return True
    in_scope = origin is not None and identity.covers(origin)
    return in_scope and identity.role in (Role.COUNTY, Role.UNIT)


# --- the effect: the roster follows the platform -------------------------------------------------


def move_learner(uow: UnitOfWork, task: TaskView) -> None:
    """The platform applied a transfer: the learner now belongs to the receiving unit in the
    bot's roster too (``bot.effects``; in the transaction that records the outcome)."""
    learner = uow.session.exec(select(Learner).where(Learner.account == task.account)).first()
    target = find_unit(uow.session, str(task.fields.get(TO_CODE) or task.unit_code))
    if learner is None or target is None:
        uow.audit("learner.transfer.unmatched", target=task.account, detail={"task": task.id})
        return
    before = uow.session.get(Unit, learner.unit_id)
    if learner.unit_id == target.id:
        return
    learner.unit_id = pk(target.id)
    learner.updated_at = uow.now
    uow.session.add(learner)
    uow.audit(
        "learner.transfer",
        target=learner.account,
        detail={"from": before.code if before else "", "to": target.code, "task": task.id},
    )


EFFECTS: dict[str, Effect] = {TaskKind.TRANSFER.value: move_learner}
"""The roster's effects of applied platform tasks (wired in ``bot.effects``)."""
