"""Small builders for test data, through the real services where one exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot.context import AppContext
from bot.core.uow import Origin
from bot.org import invites
from bot.org.models import ROOT_CODE, Unit
from bot.roster.models import Learner


def unit(
    ctx: AppContext,
    code: str,
    name: str,
    kind: str = "unit",
    parent: str = ROOT_CODE,
    **fields: Any,
) -> Unit:
    with ctx.db.session() as s:
        up = s.exec(select(Unit).where(Unit.code == parent)).one()
        u = Unit(code=code, name=name, kind=kind, parent_id=up.id, **fields)
        s.add(u)
        s.flush()
        u.path = f"{up.path}{u.id}/"
        s.add(u)
        return u


def learner(ctx: AppContext, account: str, name: str, unit_code: str, **fields) -> Learner:
    with ctx.db.session() as s:
        u = s.exec(select(Unit).where(Unit.code == unit_code)).one()
        row = Learner(account=account, name=name, unit_id=u.id, updated_at=ctx.now(), **fields)
        s.add(row)
        return row


def invite(ctx: AppContext, unit_code: str, role: str) -> str:
    """An invite code, issued as the city office does on the server."""
    request = invites.InviteRequest(unit_code, role)
    return ctx.run_sync(lambda uow: invites.issue_invite(uow, request), Origin.cli()).code


def bind(ctx: AppContext, unit_code: str, role: str, telegram_user_id: int) -> None:
    """Issue an invite and bind it, as the city office and the administrator would."""
    code = invite(ctx, unit_code, role)
    ctx.run_sync(
        lambda uow: invites.bind(uow, invites.BindRequest(code, telegram_name="t")),
        Origin.telegram(telegram_user_id, telegram_user_id),
    )


def tree(ctx: AppContext) -> None:
    """city → 耒阳市 (county) → 耒阳市教育局 (unit) → 耒阳一中 (sub); plus 市司法局 (seeded)."""
    unit(ctx, "LY", "耒阳市", kind="county")
    # 耒阳市教育局 is in 省教育厅's system (attachment 1); its department agreed that it take the
    # city's zone exam (notice 二.3), so the registration tests can register it.
    unit(ctx, "LY-JY", "耒阳市教育局", parent="LY", category_consent=True)
    unit(ctx, "LY-JY-1", "耒阳一中", kind="sub", parent="LY-JY")
    unit(ctx, "HD", "衡东县", kind="county")
    learner(ctx, "ly1zhang", "张小明", "LY-JY-1")
    learner(ctx, "lyjyli", "李四", "LY-JY")
    learner(ctx, "sfjwang", "王五", "市司法局")
    learner(ctx, "hdzhao", "赵六", "HD")


def at(ctx: AppContext, hours: float = 0, minutes: float = 0) -> dt.datetime:
    return ctx.now() + dt.timedelta(hours=hours, minutes=minutes)
