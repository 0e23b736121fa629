"""A small demo unit tree and roster for the offline sandbox (never loaded into real data)."""

from __future__ import annotations

from sqlmodel import select

from bot.context import AppContext
from bot.org.models import Unit
from bot.org.units_import import import_units
from bot.roster.roster_import import import_roster

UNITS = [
    {"code": "LY", "name": "耒阳市", "kind": "county", "parent": "city"},
    {"code": "LY-JY", "name": "耒阳市教育局", "kind": "unit", "parent": "LY"},
    {"code": "LY-JY-1", "name": "耒阳市第一中学", "kind": "sub", "parent": "LY-JY"},
    {"code": "HD", "name": "衡东县", "kind": "county", "parent": "city"},
    {
        "code": "HD-SW",
        "name": "衡东县税务局",
        "kind": "unit",
        "parent": "HD",
        "category_department": "省税务局",
    },
]
ROSTER = [
    {
        "account": "ly1zhang",
        "name": "张小明",
        "unit": "LY-JY-1",
        "required_credits": "62",
        "total_credits": "105",
    },
    {
        "account": "ly1wang",
        "name": "王芳",
        "unit": "LY-JY-1",
        "required_credits": "40",
        "total_credits": "70",
    },
    {"account": "lyjyli", "name": "李四", "unit": "LY-JY"},
    {"account": "hdzhao", "name": "赵六", "unit": "HD-SW"},
    {"account": "sfjchen", "name": "陈七", "unit": "市司法局"},
]


def load_demo(ctx: AppContext) -> str:
    """Load the demo data once; return a short summary, or "" when it is already there."""
    with ctx.db.session() as session:
        if session.exec(select(Unit).where(Unit.code == "LY")).first() is not None:
            return ""
        units = import_units(session, [dict(r) for r in UNITS], now=ctx.now(), actor="sandbox")
        roster = import_roster(session, [dict(r) for r in ROSTER], now=ctx.now(), actor="sandbox")
    return f"{units.created} 个单位、{roster.created} 名学员"
