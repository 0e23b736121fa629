"""Finding codes and accounts (issue 15, item 16): /units, /find, `units list`, and unit names
accepted by /invite and `python -m bot invite`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.uow import Origin
from bot.org import invites
from bot.org.directory import AmbiguousUnit, list_units, resolve_unit
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CITY, LY, HD, UNIT = "市办", "耒阳县", "衡东县", "教育局"


@pytest.fixture
def world(bot, ctx):
    factories.tree(ctx)
    for name, code, role in [
        (CITY, "city", "city"),
        (LY, "LY", "county"),
        (HD, "HD", "county"),
        (UNIT, "LY-JY", "unit"),
    ]:
        factories.bind(ctx, code, role, bot.user_id(name))
    return bot


async def test_units_lists_matches_within_scope(world):
    out = "\n".join(await world.send("/units 耒阳", user=LY))
    assert "LY-JY" in out and "耒阳市教育局" in out and "LY-JY-1" in out
    out = "\n".join(await world.send("/units 耒阳", user=HD))
    assert "LY-JY" not in out and "没有单位" in out
    # by kind word and by parent; the city office sees its own code (the root)
    out = "\n".join(await world.send("/units 县市区", user=CITY))
    assert "衡东县" in out and "耒阳市" in out and "LY-JY" not in out
    out = "\n".join(await world.send("/units", user=CITY))
    assert "city" in out


async def test_find_by_account_or_full_name_masked_and_scoped(world):
    out = "\n".join(await world.send("/find ly1", user=UNIT))
    assert "ly1zhang" in out and "张*明" in out and "张小明" not in out
    out = "\n".join(await world.send("/find 张小明", user=LY))
    assert "ly1zhang" in out and "耒阳一中" in out
    # a surname alone finds nobody; another county's learner is not found
    assert "没有找到" in "\n".join(await world.send("/find 张", user=LY))
    assert "没有找到" in "\n".join(await world.send("/find hdzhao", user=LY))
    assert "hdzhao" in "\n".join(await world.send("/find ＨＤＺＨＡＯ", user=HD))
    assert "用法" in "\n".join(await world.send("/find", user=LY))


def test_invite_takes_a_unit_name_and_refuses_an_ambiguous_one(ctx):
    factories.tree(ctx)
    issued = ctx.run_sync(
        lambda uow: invites.issue_invite(uow, invites.InviteRequest("耒阳市教育局", "unit")),
        Origin.cli(),
    )
    assert issued.unit_name == "耒阳市教育局"
    factories.unit(ctx, "HD-JY", "耒阳市教育局", parent="HD")  # a (made-up) namesake
    with ctx.db.session() as session, pytest.raises(AmbiguousUnit) as caught:
        resolve_unit(session, "耒阳市教育局")
    text = caught.value.render(c=ctx.config)
    assert "LY-JY" in text and "HD-JY" in text
    assert resolve_unit_code(ctx, "LY-JY") == "LY-JY"


def resolve_unit_code(ctx, text: str) -> str:
    with ctx.db.session() as session:
        unit = resolve_unit(session, text)
        return unit.code if unit else ""


async def test_sandbox_invite_by_name(bot):
    bot.demo()
    assert "耒阳市教育局" in bot.invite("耒阳市教育局 unit")[0]


def test_units_list_cli_and_invite_by_name(tmp_path):
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "config.toml"
    path.write_text(config.replace('"sqlite:///data/bot.db"', f'"{db}"'), encoding="utf-8")
    env = {**os.environ, "CONFIG_PATH": str(path)}
    env.pop("TELEGRAM_BOT_TOKEN", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = cli("units", "list")
    assert listed.returncode == 0, listed.stderr
    assert "city" in listed.stdout
    name = listed.stdout.splitlines()[1].split(" · ")[1]  # the first unit's name (the root)
    assert cli("units", "list", "--match", "不存在的单位xyz").returncode == 1
    invited = cli("invite", "--unit", name, "--role", "city")
    assert invited.returncode == 0, invited.stderr


def test_list_units_from_the_command_line_sees_everything(ctx):
    factories.tree(ctx)
    listing = ctx.run_sync(lambda uow: list_units(uow, "LY"), Origin.cli())
    assert [e.code for e in listing.entries] == ["LY", "LY-JY", "LY-JY-1"]
