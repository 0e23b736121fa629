"""FAQ through the real Application: group silence rules, mention, reply, /faq, repeats, and
private suggestions with buttons."""

from __future__ import annotations

import datetime as dt

from telegram import Update

from bot.sandbox.offline import BOT_USERNAME


async def test_plain_group_question_is_answered_as_a_reply(bot, config):
    out = await bot.send("补考什么时候报名？", group=True)
    assert len(out) == 1 and "10月25日" in out[0] and "来源" in out[0]
    call = bot.request.of("sendMessage")[-1]
    assert call.params["chat_id"] == bot.group_id
    assert "reply_parameters" in call.params  # a reply to the asker's message


async def test_before_the_index_is_ready_the_group_gets_silence_and_an_asker_an_answer(
    bot, monkeypatch
):
    """The bot serves while the FAQ index warms up (bot.app): a plain group question is not
    guessed at, a question put to the bot waits for the index."""
    monkeypatch.setattr(type(bot.ctx), "faq_ready", property(lambda self: False))
    assert await bot.send("补考什么时候报名？", group=True) == []
    out = await bot.send("/faq 补考什么时候报名", group=True)
    assert len(out) == 1 and "10月25日" in out[0]
    out = await bot.send("补考什么时候报名")
    assert len(out) == 1 and "10月25日" in out[0]
    out = await bot.send("/start")
    assert out and "学法考法管理员助手" in out[0]


async def test_group_chatter_gets_silence(bot):
    for text in [
        "收到",
        "谢谢老师！",
        "大家好",
        "好的👍",
        "今天食堂的菜不错",
        "请各单位于本周五前完成本单位学员信息核对工作，逾期未完成的将通报。",
    ]:
        assert await bot.send(text, group=True) == [], text


async def test_mention_and_reply_address_the_bot(bot):
    out = await bot.send(f"@{BOT_USERNAME} 重置后密码是多少", group=True)
    assert len(out) == 1 and "000000" in out[0]
    out = await bot.send("/faq 集中考试在哪", group=True)
    assert len(out) == 1 and "广播电视大学" in out[0]
    bot.in_group = True
    out = await bot.handle_line("/reply 那考试时长多久")
    assert len(out) == 1 and "90" in out[0]


async def test_faq_without_question_explains_usage(bot):
    out = await bot.send("/faq", group=True)
    assert len(out) == 1 and "/faq 补考什么时候报名" in out[0]


async def test_same_question_within_ten_minutes_points_back(bot, clock):
    first = await bot.send("集中考试地点在哪里", group=True)
    assert "广播电视大学" in first[0]
    answer_id = bot.request.of("sendMessage")[-1]
    clock.advance(dt.timedelta(minutes=3))
    again = await bot.send("集中考试在哪", group=True, user="李四")
    assert len(again) == 1 and "刚回答过" in again[0] and "广播电视大学" not in again[0]
    pointer = bot.request.of("sendMessage")[-1].params
    assert pointer["reply_parameters"]["message_id"] != answer_id.params.get("message_id", -1)
    clock.advance(dt.timedelta(minutes=11))
    later = await bot.send("集中考试在哪", group=True, user="王五")
    assert "广播电视大学" in later[0]


VAGUE = "考试的事"


async def test_private_low_confidence_offers_buttons(bot, ctx):
    assert ctx.faq.decide(VAGUE, mode="private", now=ctx.now()).kind == "suggest"
    out = await bot.send(VAGUE)
    markup = bot.request.of("sendMessage")[-1].params.get("reply_markup")
    assert markup and 1 <= len(markup["inline_keyboard"]) <= 3, out
    out = await bot.press(1)
    assert out and "来源" in out[-1]


async def test_a_chosen_suggestion_answers_the_question_asked(bot, ctx):
    """The button's answer is rendered for the asker's question: "考试时间是我们单位自己定吗"
    gets its 不是 first (the city office settles the sessions), which the entry's own question
    would not give."""
    question = "考试时间是我们单位自己定吗"
    result = ctx.faq.decide(question, mode="private", now=ctx.now())
    assert result.kind == "suggest"
    ids = [e.id for e in result.choices]
    assert "centralized-batching" in ids
    own = ctx.faq.chosen("centralized-batching", ctx.now()).answer_text
    assert not own.split("\n", 1)[1].startswith("不是")
    await bot.send(question)
    _, buttons = bot.last_buttons
    assert [data for _, data in buttons] == [f"faq:{i}" for i in ids]
    out = await bot.press(ids.index("centralized-batching") + 1)
    assert out and "市委依法治市办统筹确定" in out[-1]
    answer = out[-1].split("\n", 1)[1].strip()  # below the entry's question, its heading
    assert answer.startswith("不是"), out[-1]


async def test_forged_suggestion_is_refused(bot):
    await bot.send(VAGUE)
    message, _ = bot.last_buttons
    bot.last_buttons = (message, [("x", "faq:no-such-entry")])
    out = await bot.press(1)
    assert out == ["[提示] 这个选项已失效，请重新提问。"]


async def test_private_answer_without_quote(bot):
    out = await bot.send("补考报名时间")
    assert "10月25日" in out[0]
    assert "reply_parameters" not in bot.request.of("sendMessage")[-1].params


def test_the_repeat_rule_lives_in_the_engine(ctx):
    now = ctx.now()
    recent: dict = {}
    first = ctx.faq.decide("集中考试地点在哪里", now=now, recent=recent)
    assert first.kind == "answer" and first.reply_to is None
    ctx.faq.remember(recent, first, 42, now)
    soon = now + dt.timedelta(minutes=3)
    again = ctx.faq.decide("集中考试在哪", now=soon, recent=recent)
    assert again.kind == "repeat" and again.reply_to == 42 and "3分钟前" in again.answer_html
    private = ctx.faq.decide("集中考试在哪", mode="private", now=soon, recent=recent)
    assert private.kind == "answer" and private.reply_to is None
    later = ctx.faq.decide("集中考试在哪", now=now + dt.timedelta(minutes=11), recent=recent)
    assert later.kind == "answer" and recent == {}


def test_the_repeat_rule_is_per_forum_topic(ctx):
    """In a forum supergroup an answer in one topic is out of sight in another (and in the
    General topic, which has no topic id)."""
    now = ctx.now()
    recent: dict = {}
    first = ctx.faq.decide("集中考试地点在哪里", now=now, recent=recent, topic=11)
    ctx.faq.remember(recent, first, 42, now, topic=11)
    soon = now + dt.timedelta(minutes=2)
    elsewhere = ctx.faq.decide("集中考试在哪", now=soon, recent=recent, topic=22)
    assert elsewhere.kind == "answer" and elsewhere.reply_to is None
    general = ctx.faq.decide("集中考试在哪", now=soon, recent=recent)
    assert general.kind == "answer" and general.reply_to is None
    same = ctx.faq.decide("集中考试在哪", now=soon, recent=recent, topic=11)
    assert same.kind == "repeat" and same.reply_to == 42


async def test_private_follow_up_is_read_against_the_question_before(bot):
    first = await bot.send("第一次考试什么时候报名")
    assert "9月13日" in first[0]
    follow = await bot.send("那第二次呢")
    assert len(follow) == 1 and "9月23日" in follow[0] and "第二次" in follow[0]
    # In the group a bare "那第二次呢" is no question for the bot.
    assert await bot.send("那第二次呢", group=True) == []


def _update(bot, **message) -> Update:
    """A new message in private chat (or ``chat``), from a user, with ``message``'s fields."""
    user = {"id": 4242, "is_bot": False, "first_name": "u"}
    data = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 4242, "type": "private", "first_name": "u"},
        "from": user,
        **message,
    }
    return Update.de_json({"update_id": 1, "message": data}, bot.app.bot)


async def test_the_faq_takes_free_text_first_and_nothing_else_of_its_group_would(bot):
    """The FAQ's handler is checked first in its group (most updates are free text); that
    changes nothing only because no other handler of the group takes free text, nor the FAQ
    anything else."""
    first, *others = bot.app.handlers[0]
    group_chat = {"id": bot.group_id, "type": "supergroup", "title": "g"}
    free_text = [
        _update(bot, text="补考什么时候报名"),
        _update(bot, text="/ 不是命令"),
        _update(bot, text="@xuefa 密码", chat=group_chat),
        _update(bot, text="收到", chat=group_chat),
    ]
    for update in free_text:
        assert first.check_update(update), update.message.text
        assert not [h for h in others if h.check_update(update)], update.message.text
    command = _update(
        bot, text="/help", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )
    document = _update(bot, document={"file_id": "f", "file_unique_id": "u"})
    for update in (command, document):
        assert not first.check_update(update)
        assert [h for h in others if h.check_update(update)]
