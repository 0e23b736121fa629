"""Hostile input (issue 9): hypothesis throws random text, Unicode oddities, 4096-character
messages, HTML and Jinja-like markup, SQL-looking strings and random callback data at every
handler, from unbound users, anonymous group administrators and bound city / county / unit
administrators, in private chat and in the group.

For every update: no exception escapes a handler, nothing is stored (every table's rows are
unchanged, except the audit rows of refused /bind codes, which count towards the hourly limit
and are removed again after each example), and everything sent is what Telegram accepts (valid
HTML, at most 4096 characters, valid buttons) with no markup from the input live in it.

Inputs are made so that they cannot be a valid action (no real account, unit code, reminder id,
user id; no complete seat booking): a valid action would legitimately store something.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select
from telegram import Update

from bot.core import rounds
from bot.core.render import render
from bot.org.models import Role, Unit
from bot.roster.models import Learner
from bot.sandbox.offline import BOT_USERNAME, ApiCall
from handlers import commands
from reminders.models import StoredReminder
from tests import factories
from tests.hostile import (
    Payload,
    Sender,
    callback_patterns,
    callback_update,
    changes,
    check_calls,
    message_update,
    registered_commands,
    snapshot,
)

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))  # FUZZ_SCALE=20 for a deep run by hand


def fuzz(examples: int) -> settings:
    """Bounded runs: the whole file stays well under 40 s."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # every run explores afresh; a failure prints its falsifying example
    )


# --- the hostile material ------------------------------------------------------------------------

ODDITIES = [
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # isolates
    "\u200d",  # zero-width joiner
    "\u200b",  # zero-width space
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "👨‍👩‍👧‍👦",  # joined family
    "🏳️‍🌈",
    "🧑🏽‍💻",
    "😀",
    "𝕏𝕪𝕫",
    "🀄",
    "e\u0301\u0302\u0303\u0304",  # stacked combining marks
    "\u0300" * 40,
    "Z̴̡̛̗͎a̶l̷g̵o̸",
    "ＡＢＣ１２３／ｈｅｌｐ",  # full-width forms
    "／ｒｅｓｅｔｐｗ　ｌｙ",
    "\u3000",
    "\u2028",
    "\u2029",
    "\u0085",
    "\x01\x02\x1b[31m",
    "\x7f",
    "\t",
    "\r\n",
    "\ufffd",
    "\U000e0041",  # a tag character
    "①②",
    "²³",
    "١٢٣",  # Arabic-Indic digits
    "𝟙𝟚",
    "ⅷ",
    "〇",
    "ﷺ",
    "@" + BOT_USERNAME,
]
MARKUP = [
    "<b>",
    "</b>",
    "<i>斜体</i>",
    "<script>alert(1)</script>",
    '<a href="https://evil.example/x">点我</a>',
    '<a href="tg://user?id=1">',
    "<code>",
    "</pre>",
    "<tg-spoiler>",
    '<span class="tg-spoiler">',
    "<br/>",
    "<!-- x -->",
    "<",
    "<<>>",
    "<b><i>",
    "&amp;",
    "&lt;b&gt;",
    "&#60;b&#62;",
    "&#x3C;script&#x3E;",
    "&nbsp;",
]
JINJA = [
    "{{ 7*7 }}",
    "{% for x in range(3) %}",
    "{% endfor %}",
    "{{ c.platform.default_password }}",
    "{{ ''.__class__.__mro__ }}",
    "{# comment #}",
    "{{",
    "}}",
    "{%",
    "${7*7}",
    "#{7*7}",
    "%s%s%n",
    "{0}",
    "{c}",
]
SQL = [
    "'; DROP TABLE learners; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1; DELETE FROM audit_log",
    "admin'--",
    "1 UNION SELECT password_hash FROM learners",
    "%",
    "_",
    "%_%",
    "\\",
    "NULL",
    "'",
]
NUMBERS = [
    "0",
    "-1",
    "-0",
    "+1",
    "1e9",
    "0x10",
    "9" * 12,
    "9" * 19,
    "9" * 40,
    "-" + "9" * 25,
    "①",
    "²",
    "١٢",
    "𝟙",
    "٣٤٥",
    "4.5",
    "NaN",
    "inf",
    "2022-13-45",
    "9月99日",
    "99:99",
    "#12",
]
SEPARATORS = [" ", "", "\n", "\u3000", " \t ", "，", "、"]
PIECE_KINDS = ["text", "oddity", "markup", "jinja", "expr", "sql", "number", "cjk"]

random_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
cjk_text = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), max_size=12)


@st.composite
def payloads(draw, max_pieces: int = 6) -> Payload:
    """Text made of pieces; markup pieces get a sentinel in front, ``{{ a*b }}`` pieces record
    their value (see tests.hostile.check_not_injected)."""
    out = Payload()
    for i in range(draw(st.integers(0, max_pieces))):
        if i:
            out = out + Payload(draw(st.sampled_from(SEPARATORS)))
        kind = draw(st.sampled_from(PIECE_KINDS))
        if kind == "markup":
            sentinel = f"zq{i}x{draw(st.integers(0, 99))}"
            markup = draw(st.sampled_from(MARKUP))
            out = out + Payload(sentinel + markup, fragments=[(sentinel, markup)])
        elif kind == "expr":
            a, b = draw(st.integers(1000, 9999)), draw(st.integers(1000, 9999))
            out = out + Payload(f"{{{{ {a}*{b} }}}}", products=[str(a * b)])
        else:
            source = {
                "text": random_text,
                "oddity": st.sampled_from(ODDITIES),
                "jinja": st.sampled_from(JINJA),
                "sql": st.sampled_from(SQL),
                "number": st.sampled_from(NUMBERS) | st.integers().map(str),
                "cjk": cjk_text,
            }[kind]
            out = out + Payload(draw(source))
    return out


def fill(payload: Payload, size: int = 4096, filler: str = "问") -> Payload:
    """Repeat ``payload`` whole as often as fits in ``size`` characters, pad to exactly ``size``."""
    unit = payload.text or filler
    copies = max(0, size // len(unit))
    body = (unit * copies)[:size] if len(unit) <= size else ""
    body += filler * (size - len(body))
    return Payload(body, payload.fragments, payload.products)


long_payloads = payloads(max_pieces=4).map(fill)

# --- the world: who speaks ---------------------------------------------------------------------

UNBOUND, CITY, COUNTY, UNIT, CENTRAL, BANK = "路人", "市办", "耒阳县", "教育局", "统战部", "宣传部"
NAMES = [UNBOUND, CITY, COUNTY, UNIT, CENTRAL, BANK]


@pytest.fixture
def world(bot, ctx):
    """The unit tree with learners, and one bound administrator of every kind."""
    factories.tree(ctx)
    config = ctx.config
    factories.bind(ctx, "city", "city", bot.user_id(CITY))
    factories.bind(ctx, "LY", "county", bot.user_id(COUNTY))
    factories.bind(ctx, "LY-JY", "unit", bot.user_id(UNIT))
    factories.bind(ctx, config.centralized.units[0], "unit", bot.user_id(CENTRAL))
    factories.bind(ctx, config.question_bank[0].department, "unit", bot.user_id(BANK))
    bot.user_id(UNBOUND)
    with ctx.db.session() as s:
        words = [u.code for u in s.exec(select(Unit))] + [u.name for u in s.exec(select(Unit))]
        words += [learner.account for learner in s.exec(select(Learner))]
        words += [r.id for r in s.exec(select(StoredReminder))]
    words += [str(uid) for uid in bot.users.values()]
    bot.sensitive = {_norm(w) for w in words}
    errors: list[BaseException] = []

    async def record(update, context):
        errors.append(context.error)

    bot.app.add_error_handler(record)
    bot.errors = errors
    return bot


def _norm(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().casefold()


def cannot_act(bot, value: str) -> bool:
    """No word of ``value`` names a real account, unit, reminder or user (so no command made
    from it can be a valid action)."""
    words = re.split(r"[\s,，、;；:：#]+", unicodedata.normalize("NFKC", value))
    return not any(_norm(w) in bot.sensitive for w in words if w)


senders = st.one_of(
    st.builds(Sender, st.sampled_from(NAMES), group=st.booleans()),
    st.just(Sender(None, group=True, anonymous=True)),
)


def _reset(bot) -> None:
    """Forget conversations, user and chat data between examples, so each stands alone."""
    for handler in (h for group in bot.app.handlers.values() for h in group):
        if hasattr(handler, "_conversations"):
            handler._conversations.clear()  # no public way to end every conversation
    for uid in bot.users.values():
        bot.app.drop_user_data(uid)
        bot.app.drop_chat_data(uid)
    bot.app.drop_chat_data(bot.group_id)
    bot.app.bot_data.pop("who_cache", None)
    with bot.ctx.db.engine.begin() as conn:  # /register's conversations live in the database
        conn.execute(text("DELETE FROM registration_drafts"))


async def deliver(bot, updates: list[dict], payloads: list[Payload]) -> list:
    """Process ``updates`` in order; check nothing escaped, nothing stored, everything sent."""
    _reset(bot)
    bot.errors.clear()
    ctx = bot.ctx
    before = snapshot(ctx)
    mark = bot.request.mark()
    for data in updates:
        await bot.app.process_update(Update.de_json(data, bot.app.bot))
        if bot.errors:
            error = bot.errors[0]
            bot.errors.clear()
            raise error
    diff = changes(before, snapshot(ctx))
    audit = diff.pop("audit_log", None)
    if audit is not None:
        gone, new = audit
        assert not gone, audit
        # Two audit rows a hostile message may cause: a wrong /bind code (counted towards the
        # hourly limit) and a /find search (every look-up of learners is recorded).
        for row in new:
            if "bind.refused" in row:
                assert any(_is_command(data, "/bind") for data in updates), new
            else:
                assert "learner.find" in row, new
                assert any(_is_command(data, "/find") for data in updates), new
        with ctx.db.engine.begin() as conn:  # the limit counts them; start every example afresh
            conn.execute(
                text("DELETE FROM audit_log WHERE action IN ('bind.refused', 'learner.find')")
            )
    assert not diff, diff
    return check_calls(bot.request.calls[mark:], payloads)


def _is_command(data: dict, command: str) -> bool:
    message = data.get("message") or data.get("edited_message") or {}
    return (message.get("text") or "").lower().startswith(command)


def command_names(app) -> list[str]:
    names = registered_commands(app) | {c.name for c in commands.COMMANDS}
    return sorted(names)


# --- plain text ----------------------------------------------------------------------------------


@fuzz(200)
@given(
    sender=senders,
    payload=st.one_of(payloads(), long_payloads),
    how=st.sampled_from(["plain", "mention", "reply", "edited"]),
)
async def test_text_anywhere_from_anyone(world, sender, payload, how):
    bot = world
    assume(cannot_act(bot, payload.text))
    value = payload.text
    if how == "mention":
        value = f"@{BOT_USERNAME} {value}"[:4096]
    update = message_update(
        bot,
        value,
        sender,
        kind="edited_message" if how == "edited" else "message",
        reply_to_bot=how == "reply",
    )
    await deliver(bot, [update], [payload])


# --- every command, with random arguments ------------------------------------------------------


@st.composite
def command_texts(draw, names: list[str]) -> tuple[str, Payload]:
    name = draw(st.sampled_from(names) | st.from_regex(r"[a-z_][a-z0-9_]{0,31}", fullmatch=True))
    name = draw(st.sampled_from([name, name.upper(), name.title()]))
    suffix = draw(st.sampled_from(["", "", f"@{BOT_USERNAME}", "@other_bot", "@", "<b>"]))
    args = draw(st.one_of(payloads(), long_payloads))
    glue = draw(st.sampled_from([" ", " ", "\n", "\u3000"]))
    head = f"/{name}{suffix}"
    full = f"{head}{glue}{args.text}" if args.text else head
    return full[:4096], args


@fuzz(450)
@given(sender=senders, data=st.data())
async def test_every_command_with_random_arguments(world, sender, data):
    bot = world
    value, args = data.draw(command_texts(command_names(bot.app)))
    assume(cannot_act(bot, value))
    name = value[1:].split()[0].split("@")[0].lower() if len(value) > 1 else ""
    if name == "plan" and sender.name == COUNTY:  # "6 9月20日" is a valid plan
        assume(not re.match(r"\s*\d+\s+\S", args.text))
    if name == "seats_book" and sender.name == CENTRAL:  # "/seats_book 5" writes a proposal
        assume(not re.fullmatch(r"\s*\d+\s*", args.text))
    await deliver(bot, [message_update(bot, value, sender)], [args])


# --- callback data: random, and mutations of every real prefix ---------------------------------


def callback_seeds(config, faq) -> list[str]:
    """Real-shaped data for every button the bot makes (one of them must match every
    CallbackQueryHandler; test_seeds_cover_every_callback_handler checks that)."""
    first_faq = next(iter(faq.by_id))
    day = "20220919"
    return [
        f"faq:{first_faq}",
        "act:ok:1",
        "act:no:1",
        *(f"rg:r:{r.key}" for r in rounds.registrable(config)),
        f"rg:d:{day}",
        "rg:s:0900",
        "rg:ok",
        "rg:no",
        "rg:x:1",
        "rg:xy:1",
        "rg:xn:1",
        "rg:c:1",
        f"rg:cd:1:{day}",
        f"rg:cs:1:{day}:0900",
        "st:p:1:1",
        "st:ok:1",
        "st:no:1",
        "st:cf:1:1",
        "st:rl:1:1",
        "st:cx",
        "mk:1:40",
        "af:1:12",
        "st:kx",
        "tk:d:" + "0" * 32,
        "tk:f:" + "0" * 32,
        "rv:ok:1:u1",
        "rv:no",
    ]


@st.composite
def mutated(draw, seed: str) -> str:
    value = seed
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "delete", "insert", "append", "digits", "cut"]))
        at = draw(st.integers(0, len(value)))
        if op == "replace" and value:
            at = min(at, len(value) - 1)
            value = (
                value[:at]
                + draw(st.characters(codec="utf-8", exclude_characters="\x00"))
                + value[at + 1 :]
            )
        elif op == "delete" and value:
            value = value[:at] + value[at + 1 :]
        elif op == "insert":
            value = value[:at] + draw(random_text | st.sampled_from(ODDITIES)) + value[at:]
        elif op == "append":
            junk = st.sampled_from(NUMBERS + SQL + MARKUP + JINJA) | random_text
            value = value + draw(st.sampled_from([":", "", "::"])) + draw(junk)
        elif op == "digits":
            value = re.sub(r"\d+", draw(st.sampled_from(NUMBERS)), value)
        else:
            value = value[:at]
    return value


def telegram_data(value: str) -> str:
    """Telegram carries 1 to 64 bytes of callback data."""
    return value.encode()[:64].decode(errors="ignore") or "x"


@st.composite
def callback_datas(draw, seeds: list[str]) -> str:
    prefixes = sorted({s[: i + 1] for s in seeds for i, ch in enumerate(s) if ch == ":"})
    value = draw(
        st.one_of(
            st.sampled_from(seeds).flatmap(mutated),
            st.tuples(st.sampled_from(prefixes), random_text | st.sampled_from(NUMBERS)).map(
                "".join
            ),
            random_text,
        )
    )
    return telegram_data(value)


@fuzz(300)
@given(sender=senders, data=st.data())
async def test_random_callback_data(world, sender, data):
    bot = world
    seeds = callback_seeds(bot.ctx.config, bot.ctx.faq)
    presses = data.draw(st.lists(callback_datas(seeds), min_size=1, max_size=3))
    for value in presses:
        # No press books seats: a booking needs a proposal /seats_book made for the presser.
        assume(value != "rg:ok" and cannot_act(bot, value))
    where = data.draw(st.sampled_from(["chat", "chat", "inline", "inaccessible"]))
    updates = []
    if not sender.anonymous and data.draw(st.booleans()):
        updates.append(message_update(bot, "/register", sender))  # presses inside the flow
    updates += [callback_update(bot, value, sender, where=where) for value in presses]
    await deliver(bot, updates, [Payload(value) for value in presses])


def test_seeds_cover_every_callback_handler(ctx, bot):
    """A new button prefix must join callback_seeds, so the fuzz reaches its handler."""
    seeds = callback_seeds(ctx.config, ctx.faq)
    for pattern in callback_patterns(bot.app):
        assert pattern is None or any(pattern.match(s) for s in seeds), pattern


# --- other shapes of update --------------------------------------------------------------------


@fuzz(100)
@given(
    sender=senders,
    payload=payloads(),
    shape=st.sampled_from(
        ["document", "caption_only", "sticker", "channel_post", "command_edit", "inline_query"]
    ),
    data=st.data(),
)
async def test_odd_updates(world, sender, payload, shape, data):
    bot = world
    assume(cannot_act(bot, payload.text))
    if shape == "document":
        name = data.draw(st.sampled_from(["", ".xlsx", "题.xlsx", "a.exe"])) + payload.text[:200]
        size = data.draw(st.sampled_from([0, 1, 10**4, 10**9]))
        extra = {
            "document": {
                "file_id": "nope",
                "file_unique_id": "u",
                "file_name": name,
                "file_size": size,
            },
            "caption": payload.text[:1024],
        }
        update = message_update(bot, "", sender, extra=extra)
    elif shape == "caption_only":
        extra = {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}
        update = message_update(bot, "", sender, extra={**extra, "caption": payload.text[:1024]})
    elif shape == "sticker":
        sticker = {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
        update = message_update(bot, "", sender, extra={"sticker": sticker})
    elif shape == "channel_post":
        update = message_update(bot, payload.text or "x", Sender(None, anonymous=True))
        update["channel_post"] = update.pop("message")
        update["channel_post"]["chat"] = {"id": -1002000000002, "type": "channel", "title": "c"}
        update["channel_post"]["sender_chat"] = update["channel_post"]["chat"]
    elif shape == "inline_query":
        user = message_update(bot, "x", sender)["message"]["from"]
        query = {"id": "q", "from": user, "query": payload.text[:256], "offset": ""}
        update = {"update_id": 1, "inline_query": query}
    else:
        name = data.draw(st.sampled_from(command_names(bot.app)))
        update = message_update(bot, f"/{name} {payload.text}", sender, kind="edited_message")
        assume(cannot_act(bot, f"/{name} {payload.text}"))
        if name == "plan" and sender.name == COUNTY:
            assume(not re.match(r"\s*\d+\s+\S", payload.text))
    await deliver(bot, [update], [payload])


# --- the whole hostile corpus at every command, deterministically ------------------------------

CORPUS = [
    Payload("zq0x1<script>alert(1)</script>", [("zq0x1", "<script>alert(1)</script>")]),
    Payload("zq0x2<b>粗体</b>", [("zq0x2", "<b>")]),
    Payload(
        'zq0x3<a href="https://evil.example/">点我</a>',
        [("zq0x3", '<a href="https://evil.example/">')],
    ),
    Payload("zq0x4&lt;b&gt;", [("zq0x4", "&lt;b&gt;")]),
    Payload("zq0x5&amp;", [("zq0x5", "&amp;")]),
    Payload("{{ 1234*5678 }} {% for x in range(3) %}x{% endfor %}", products=["7006652"]),
    Payload("'; DROP TABLE learners; --"),
    Payload("\u202e\u200d👨‍👩‍👧‍👦e\u0301ＡＢＣ\x01①²"),
    Payload("9" * 40),
    Payload("-" + "9" * 20),
    Payload("①"),
    Payload("١٢"),
]


async def test_hostile_corpus_at_every_command(world):
    """Every registered command (and an unknown one): with each corpus entry as arguments from
    an administrator the command is meant for (so it gets past authorization), bare from every
    kind of sender, and with a corpus entry (rotating) from everyone else."""
    bot = world
    names = [*command_names(bot.app), "no_such_command"]
    everyone = [Sender(n, group=g) for n in NAMES for g in (False, True)]
    everyone.append(Sender(None, group=True, anonymous=True))
    others = [s for s in everyone if s.group or s.anonymous or s.name == UNBOUND]
    catalogue = {c.name: c for c in commands.COMMANDS}
    turn = 0
    for name in names:
        for i, payload in enumerate(CORPUS):
            await _command(bot, name, payload, Sender(_meant_for(catalogue.get(name), i)))
        for sender in everyone:
            await _command(bot, name, None, sender)
        for sender in others:
            turn += 1
            await _command(bot, name, CORPUS[turn % len(CORPUS)], sender)


def _meant_for(command: commands.Command | None, turn: int) -> str:
    roles = command.roles if command is not None and command.roles is not None else None
    if roles is not None and Role.CITY in roles and len(roles) == 1:
        return CITY
    if roles is not None and roles == {Role.COUNTY}:
        return COUNTY
    return [COUNTY, UNIT, CENTRAL, BANK, CITY][turn % 5]


async def _command(bot, name: str, payload: Payload | None, sender: Sender) -> None:
    value = f"/{name} {payload.text}" if payload else f"/{name}"
    await deliver(bot, [message_update(bot, value, sender)], [payload] if payload else [])


# --- regressions: what the fuzz found in the files this issue may change -----------------------

REGRESSIONS = [
    # /revoke took any str.isdigit() text for a user id: int("²") raised, and 40 digits
    # overflowed SQLite's integers (OverflowError). Now only ASCII numbers of up to 16 digits.
    (CITY, "/revoke " + "9" * 40, "找不到单位编码"),
    (CITY, "/revoke ²", "找不到单位编码"),
    (CITY, "/revoke -" + "9" * 25, "找不到单位编码"),
    # the echoed unit code / plan token made refusals longer than Telegram's 4096 characters
    (CITY, "/revoke " + "问" * 4000, "找不到单位编码"),
    (COUNTY, "/transfer ly1zhang " + "问" * 4000, "找不到单位编码"),
    (COUNTY, "/register " + "问" * 4000, "找不到单位编码"),
    (COUNTY, "/plan " + "问" * 4000, "组考单位数"),
    (COUNTY, "/plan 6 " + "9" * 4000, "日期"),
    # non-ASCII digits passed str.isdigit() and then failed int()
    (UNIT, "/exempt_review ²", "免考备案编号"),
]


async def test_regressions(world):
    bot = world
    for who, value, says in REGRESSIONS:
        sent = await deliver(bot, [message_update(bot, value, Sender(who))], [Payload(value)])
        assert len(sent) == 1 and says in sent[0].plain, (value[:40], sent)
        assert len(sent[0].plain) < 300, value[:40]
    for data in ["act:ok:²", "act:no:①", "act:ok:" + "9" * 40]:
        assert await deliver(bot, [callback_update(bot, data, Sender(UNIT))], []) == []
        answer = bot.request.of("answerCallbackQuery")[-1].params
        assert "无效" in answer["text"], data  # 这个按钮无效或不属于您


async def test_regression_document_with_a_long_name(world):
    """The refusal quoted the file's whole extension: a long name made it too long to send."""
    bot = world
    document = {"file_id": "f", "file_unique_id": "u", "file_name": "题." + "问" * 4000}
    update = message_update(bot, "", Sender(BANK), extra={"document": document})
    sent = await deliver(bot, [update], [])
    assert len(sent) == 1 and "不支持的文件类型" in sent[0].plain
    assert len(sent[0].plain) < 400


async def test_regression_edited_command_is_not_run_again(world):
    """Editing a command re-ran it: a typo fixed in /remind_add added a second reminder for the
    group. Now an edit runs nothing; in private the sender is told, in the group nothing is said."""
    bot = world
    first = message_update(bot, "/remind_add 2022-09-15 9:00 请核对报名", Sender(CITY))
    await bot._process(first)
    for group in (False, True):
        message = dict(first["message"], text="/remind_add 2022-09-15 9:00 请核对报名信息")
        if group:
            message["chat"] = {"id": bot.group_id, "type": "supergroup", "title": "g"}
        edit = {"update_id": first["update_id"] + 1 + group, "edited_message": message}
        sent = await deliver(bot, [edit], [])  # nothing stored
        assert [s.plain for s in sent] == ([] if group else [render("edited_command")])


# --- found by the fuzz in handlers/registration.py (issue 8's files, fixed by their owner) ------
# Non-ASCII digits passed str.isdigit() and failed int() (ValueError), and ids of 19+ digits
# overflowed the database's 64-bit integers (OverflowError), before or after authorization.

REGISTRATION_NUMBERS = [
    "/seats_book ①",
    "/seats_book ²",
    "st:p:①:5",
    "st:ok:1:²",
    "st:ok:²",
    "st:ok:" + "9" * 19,
    "st:rl:" + "9" * 19 + ":1",
    "st:p:" + "9" * 30 + ":5",
    "rg:x:" + "9" * 19,
    "rg:c:" + "9" * 19,
    "rg:cd:" + "9" * 19 + ":20220919",
    "rg:cs:" + "9" * 19 + ":20220919:0900",
    "rg:x:²",
    "rg:xy:" + "9" * 19,
]


async def test_regression_registration_numbers(world):
    bot = world
    for value in REGISTRATION_NUMBERS:
        for who in (CENTRAL, UNIT, UNBOUND):
            if value.startswith("/"):
                update = message_update(bot, value, Sender(who))
            else:
                update = callback_update(bot, value, Sender(who))
            await deliver(bot, [update], [])  # no exception, nothing stored


# --- the checker itself catches what it is there to catch ---------------------------------------


@pytest.mark.parametrize(
    ("sent", "payload"),
    [
        ("找不到 zq0x1<b>粗体</b>", Payload("zq0x1<b>粗体</b>", [("zq0x1", "<b>")])),
        ("zq0x4&lt;b&gt;", Payload("zq0x4&lt;b&gt;", [("zq0x4", "&lt;b&gt;")])),
        ("结果 7006652", Payload("{{ 1234*5678 }}", products=["7006652"])),
        ('<a href="https://evil.example/">点我</a>', Payload("")),
        ("<script>alert(1)</script>", Payload("")),
        ("<b>未闭合", Payload("")),
        ("长" * 4097, Payload("")),
    ],
)
def test_checker_catches_live_markup(sent, payload):
    call = ApiCall("sendMessage", {"chat_id": 1, "text": sent, "parse_mode": "HTML"})
    with pytest.raises(AssertionError):
        check_calls([call], [payload])


def test_checker_passes_escaped_echo():
    payload = CORPUS[0] + Payload(" ") + CORPUS[3] + Payload(" ") + CORPUS[4]
    echoed = "找不到“" + html.escape(payload.text, quote=False) + "”。"
    call = ApiCall("sendMessage", {"chat_id": 1, "text": echoed, "parse_mode": "HTML"})
    assert check_calls([call], [payload])[0].plain == f"找不到“{payload.text}”。"
