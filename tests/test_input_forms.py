"""Input as people type it: a Chinese input method in full-width mode gives ＬＹ１ＺＨＡＮＧ, ８０
and ２. Every command's arguments and every typed reply are read in one form (full-width letters
and digits folded to ASCII), so each command family accepts them as their ASCII forms."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.registration.models import Registration
from bot.roster.accounts import parse_account, typed_form
from tests import factories
from tests.test_registration import buttons, walk_to_learners


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


def test_the_one_normaliser_folds_width_only():
    assert typed_form("ＬＹ１ＺＨＡＮＧ") == "LY1ZHANG"
    assert typed_form("８０　２，３") == "80 2,3"
    assert typed_form("①²") == "①²"  # not a head count anyone means
    assert parse_account(" ｌｙ１ｚｈａｎｇ ") == "ly1zhang"


async def test_resetpw_takes_a_full_width_account(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = await bot.send("/resetpw ｌｙ１ｚｈａｎｇ", user="李老师")
    assert "张*明" in out[0] and "耒阳一中" in out[0]


async def test_exempt_takes_a_full_width_account(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = await bot.send("/exempt ｌｙ１ｚｈａｎｇ 产假", user="李老师")
    assert "免考备案 #1" in out[0] and "张*明" in out[0]


async def test_seats_book_takes_full_width_digits(bot, world):
    factories.bind(world, "市档案馆", "unit", bot.user_id("档案馆"))
    bot.user = "档案馆"
    await bot.send("/seats_book ８０")
    assert len(buttons(bot)) == 12 and "余80" in buttons(bot)[0]


async def test_register_takes_a_full_width_head_count(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    await walk_to_learners(bot)
    await bot.send("２")
    await bot.press(1)
    with world.db.session() as s:
        assert s.exec(select(Registration)).one().learner_count == 2
