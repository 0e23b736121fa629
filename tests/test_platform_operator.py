"""Operator mode (issue 13): the platform task queue a person works.

A reset requested in private chat appears in /tasks for the operator (and the city office) and
in ``python -m bot platform tasks``; marking it done (a button, or the command line) tells the
requester exactly once; failed with a reason, the requester reads the reason; forged, stale and
double presses change nothing; tasks open too long are reminded to the operators once per
period. The real Application on the offline Telegram, a real SQLite database, a movable clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from bot import cli
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.effects import EFFECTS
from bot.org.models import Role
from bot.platform import queue
from bot.platform.models import PlatformTask, TaskKind
from bot.platform.operator import OperatorGateway
from bot.platform.queue_export import write_queue_xlsx
from bot.platform.tasks import TaskRequest, submit
from bot.sandbox.runner import Sandbox
from handlers import platform as platform_worker
from handlers import platform_tasks
from tests import factories
from tests.hostile import Sender, callback_update, changes, check_calls, snapshot

ROOT = Path(__file__).resolve().parent.parent
UNIT, OPERATOR, CITY, COUNTY, OTHER, NOBODY = "李老师", "操作员", "市办", "耒阳县", "衡东县", "路人"


# --- the world ----------------------------------------------------------------------------------


def _people(bot) -> None:
    factories.tree(bot.ctx)
    for name, code, role in [
        (UNIT, "LY-JY", "unit"),
        (OPERATOR, "city", "operator"),
        (CITY, "city", "city"),
        (COUNTY, "LY", "county"),
        (OTHER, "HD", "county"),
    ]:
        factories.bind(bot.ctx, code, role, bot.user_id(name))
    bot.user_id(NOBODY)


@pytest.fixture
async def op(bot, monkeypatch):
    """Operator mode; the worker runs only when a test drives it (``run``), kicks are counted."""
    bot.ctx.gateway = OperatorGateway()
    await platform_worker.stop(bot.app)
    bot.kicks = []
    monkeypatch.setattr(platform_worker, "kick", bot.kicks.append)
    _people(bot)
    return bot


async def run(bot) -> int:
    """One run of the platform worker, as its job would: messages sent."""
    return await platform_worker.run_once(bot.app)


def tasks(ctx) -> list[PlatformTask]:
    with ctx.db.session() as s:
        return list(s.exec(select(PlatformTask).order_by(PlatformTask.requested_at)))


def sent_to(bot, name: str, since: int = 0) -> list[str]:
    chat = bot.user_id(name)
    return [
        str(c.params["text"])
        for c in bot.request.calls[since:]
        if c.method == "sendMessage" and int(c.params["chat_id"]) == chat
    ]


async def said(bot, text: str, who: str) -> list[str]:
    """Send ``text`` as ``who`` in private chat: the messages sent back into that chat."""
    mark = bot.request.mark()
    await bot.send(text, user=who)
    return sent_to(bot, who, mark)


def buttons_of(bot, since: int = 0) -> list[list[str]]:
    """The callback data of every keyboard sent or edited since ``since``."""
    out = []
    for call in bot.request.calls[since:]:
        markup = call.params.get("reply_markup") or {}
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            out.append([b["callback_data"] for row in markup["inline_keyboard"] for b in row])
    return out


async def request_reset(bot, account: str = "ly1zhang", who: str = UNIT) -> PlatformTask:
    """The administrator's /resetpw and its confirm button: a queued password_reset task."""
    before = {t.id for t in tasks(bot.ctx)}
    await bot.send(f"/resetpw {account}", user=who)
    saved, bot.user = bot.user, who
    try:
        out = await bot.press(1)
    finally:
        bot.user = saved
    assert "已提交" in "".join(out), out
    (task,) = [t for t in tasks(bot.ctx) if t.id not in before]
    assert task.kind == "password_reset" and task.status == "queued"
    return task


async def press(bot, data: str, who: str, *, group: bool = False) -> tuple[list[str], dict]:
    """Press a button with ``data`` in ``who``'s private chat (or the group): what was shown
    (answers, edits, messages) and what changed in the database."""
    before = snapshot(bot.ctx)
    mark = bot.request.mark()
    await bot._process(callback_update(bot, data, Sender(who, group=group)))
    calls = bot.request.calls[mark:]
    check_calls(calls)
    shown = [
        str(c.params.get("text") or "")
        for c in calls
        if c.method in ("answerCallbackQuery", "editMessageText", "sendMessage")
    ]
    bot.drain()
    return [s for s in shown if s], changes(before, snapshot(bot.ctx))


def refusal(bot, key: str, **params) -> str:
    return Refused(key, **params).render(c=bot.ctx.config)


def status_of(ctx, task_id: str) -> str:
    with ctx.db.session() as s:
        return s.get(PlatformTask, task_id).status


# --- the role -----------------------------------------------------------------------------------


def test_the_operator_role_is_granted_by_an_invite_at_the_city_root(ctx):
    factories.tree(ctx)
    code = factories.invite(ctx, "city", "operator")
    assert code
    with pytest.raises(Refused) as refused:
        factories.invite(ctx, "LY", "operator")
    assert refused.value.key == "role_mismatch"
    args = cli.build_parser().parse_args(["invite", "--unit", "city", "--role", "operator"])
    assert args.role == Role.OPERATOR.value
    factories.bind(ctx, "city", "operator", 4242)
    identity = ctx.run_sync(lambda uow: uow.authorize(), Origin.telegram(4242, 4242))
    assert identity.role == Role.OPERATOR and queue.works_queue(identity)


# --- end to end: a reset through the queue -----------------------------------------------------


async def test_a_reset_appears_for_the_operator_and_done_tells_the_requester_once(
    op, sqlite_url, monkeypatch, capsys
):
    bot = op
    task = await request_reset(bot)
    assert await run(bot) == 0  # the worker leaves it to the operator: nothing said yet

    mark = bot.request.mark()
    await bot.send("/tasks", user=OPERATOR)
    (listing,) = sent_to(bot, OPERATOR, mark)
    assert "ly1zhang" in listing and "重置密码" in listing and task.id[:8] in listing
    assert "耒阳一中" in listing and "耒阳市教育局" in listing  # the unit, and who asked
    assert buttons_of(bot, mark) == [[f"tk:d:{task.id}", f"tk:f:{task.id}"]]
    mark = bot.request.mark()
    await bot.send("/tasks", user=CITY)  # the city office works the queue too
    assert buttons_of(bot, mark) == [[f"tk:d:{task.id}", f"tk:f:{task.id}"]]

    # the command line lists it, with the learner's name from the roster
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    args = cli.build_parser().parse_args(["platform", "tasks"])
    assert args.func(args) == 0
    table = capsys.readouterr().out
    assert task.id[:8] in table and "ly1zhang" in table and "张小明" in table

    mark = bot.request.mark()
    shown, changed = await press(bot, f"tk:d:{task.id}", OPERATOR)
    assert status_of(bot.ctx, task.id) == "applied"
    assert any("已完成" in s for s in shown), shown
    assert "platform_tasks" in changed and "audit_log" in changed
    # the list in the same message is refreshed: the task has left it, with its buttons
    edits = [c for c in bot.request.calls[mark:] if c.method == "editMessageText"]
    assert edits and "目前没有待办" in edits[-1].params["text"]
    assert not edits[-1].params.get("reply_markup")
    # the requester is told, once, whoever runs the notices afterwards
    await run(bot)
    await run(bot)
    told = sent_to(bot, UNIT, mark)
    assert len(told) == 1 and "已重置" in told[0] and "ly1zhang" in told[0], told
    assert bot.ctx.config.platform.default_password in told[0]

    # a second press of the same button (or an old list) changes nothing
    shown, changed = await press(bot, f"tk:d:{task.id}", OPERATOR)
    assert changed == {}
    assert shown == [refusal(bot, "task_finished", id=task.id[:8], status="applied")]
    mark = bot.request.mark()
    await run(bot)
    assert sent_to(bot, UNIT, mark) == []

    mark = bot.request.mark()
    await bot.send("/tasks", user=UNIT)  # the requester's own list
    (own,) = sent_to(bot, UNIT, mark)
    assert "重置密码" in own and "已完成" in own and buttons_of(bot, mark) == []


async def test_failed_with_a_reason_reaches_the_requester(op):
    bot = op
    task = await request_reset(bot)
    shown, changed = await press(bot, f"tk:f:{task.id}", OPERATOR)
    assert changed == {} and any("原因" in s for s in shown), shown
    mark = bot.request.mark()
    await bot.send("该账号在平台上已注销", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "refused"
    out = sent_to(bot, OPERATOR, mark)
    assert len(out) == 1 and "未完成" in out[0] and "已注销" in out[0]  # no FAQ answer as well
    told = sent_to(bot, UNIT, mark)
    assert len(told) == 1 and "未能完成" in told[0] and "该账号在平台上已注销" in told[0]
    await run(bot)
    assert len(sent_to(bot, UNIT, mark)) == 1
    with bot.ctx.db.session() as s:
        row = s.get(PlatformTask, task.id)
        assert row.finished_by and row.result == "该账号在平台上已注销"
    # the conversation is over: the next text is an ordinary message (the FAQ answers it)
    out = await bot.send("学法考法什么时候开始", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "refused" and out
    mark = bot.request.mark()
    await bot.send("/tasks", user=UNIT)
    (own,) = sent_to(bot, UNIT, mark)
    assert "未完成" in own and "该账号在平台上已注销" in own


async def test_task_fail_command_marks_in_one_step(op):
    bot = op
    task = await request_reset(bot)
    out = await said(bot, f"/task_fail {task.id[:8]}", OPERATOR)  # no reason
    assert out == [refusal(bot, "task_reason_missing")]
    out = await said(bot, "/task_fail", OPERATOR)
    assert out == [refusal(bot, "task_id_missing")]
    out = await said(bot, "/task_fail zzzzzzzz 原因", OPERATOR)
    assert out == [refusal(bot, "task_unknown", id="zzzzzzzz")]
    assert status_of(bot.ctx, task.id) == "queued"
    mark = bot.request.mark()
    out = await said(bot, f"/task_fail {task.id[:8]} 学员 已离职", OPERATOR)
    assert len(out) == 1 and "未完成" in out[0] and status_of(bot.ctx, task.id) == "refused"
    told = sent_to(bot, UNIT, mark)
    assert len(told) == 1 and "学员 已离职" in told[0]
    out = await said(bot, f"/task_fail {task.id[:8]} 再来一次", OPERATOR)
    assert out == [refusal(bot, "task_finished", id=task.id[:8], status="refused")]
    out = await said(bot, f"/task_fail {task.id[:8]} 原因", UNIT)  # not an operator
    assert out == [refusal(bot, "operator_only")]
    out = await said(bot, f"/task_fail {task.id[:8]} 原因", NOBODY)
    assert out == [refusal(bot, "not_bound")]


async def test_another_command_or_cancel_ends_the_wait_for_a_reason(op):
    bot = op
    task = await request_reset(bot)
    await press(bot, f"tk:f:{task.id}", OPERATOR)
    out = await said(bot, "/tasks", OPERATOR)  # ends it, and still runs
    assert len(out) == 2 and task.id[:8] in out[0] and "仍为待办" in out[0], out
    assert "待办 1 项" in out[1]
    out = await bot.send("我随便说一句", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "queued"
    assert not any("已标记" in line for line in out)
    await press(bot, f"tk:f:{task.id}", OPERATOR)
    out = await said(bot, "/cancel", OPERATOR)
    assert len(out) == 1 and "已放弃" in out[0]
    await bot.send("还是随便说一句", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "queued"
    # an over-long reason is refused and the wait goes on
    await press(bot, f"tk:f:{task.id}", OPERATOR)
    out = await said(bot, "很" * (queue.MAX_REASON + 1), OPERATOR)
    assert out == [refusal(bot, "task_reason_long", limit=queue.MAX_REASON)]
    assert status_of(bot.ctx, task.id) == "queued"
    await bot.send("平台维护中", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "refused"


@pytest.fixture
async def quick(ctx, monkeypatch):
    """Operator mode with a reason conversation that times out after a fraction of a second."""
    monkeypatch.setattr(platform_tasks, "REASON_TIMEOUT", dt.timedelta(seconds=0.3))
    sandbox = Sandbox(ctx)
    ctx.gateway = OperatorGateway()
    async with sandbox:
        await platform_worker.stop(sandbox.app)
        monkeypatch.setattr(platform_worker, "kick", lambda app: None)
        _people(sandbox)
        yield sandbox


async def test_the_wait_for_a_reason_times_out(quick):
    bot = quick
    task = await request_reset(bot)
    await press(bot, f"tk:f:{task.id}", OPERATOR)
    mark = bot.request.mark()
    await asyncio.sleep(0.8)
    said = sent_to(bot, OPERATOR, mark)
    assert len(said) == 1 and "没有收到原因" in said[0] and task.id[:8] in said[0]
    await bot.send("这不是原因", user=OPERATOR)
    assert status_of(bot.ctx, task.id) == "queued"


# --- who may press what --------------------------------------------------------------------------


async def test_forged_stale_and_double_presses_change_nothing(op):
    bot = op
    task = await request_reset(bot)
    unknown = "0" * 32
    cases = [
        (f"tk:d:{task.id}", NOBODY, refusal(bot, "not_bound")),
        (f"tk:f:{task.id}", NOBODY, refusal(bot, "not_bound")),
        (f"tk:d:{task.id}", UNIT, refusal(bot, "operator_only")),  # the requester
        (f"tk:f:{task.id}", COUNTY, refusal(bot, "operator_only")),
        (f"tk:d:{task.id}", OTHER, refusal(bot, "operator_only")),
        (f"tk:d:{unknown}", OPERATOR, refusal(bot, "task_unknown", id=unknown)),
        (f"tk:f:{unknown}", OPERATOR, refusal(bot, "task_unknown", id=unknown)),
        ("tk:d:<b>x</b>", OPERATOR, refusal(bot, "action_unknown")),
        ("tk:f:" + "a" * 40, OPERATOR, refusal(bot, "action_unknown")),
        ("tk:d:", CITY, refusal(bot, "action_unknown")),
    ]
    for data, who, expected in cases:
        shown, changed = await press(bot, data, who)
        assert changed == {}, (data, who, changed)
        assert shown == [expected], (data, who, shown)
        assert "张小明" not in "".join(shown)
    for data in (f"tk:d:{task.id}", f"tk:f:{task.id}"):  # in the group, even the operator
        shown, changed = await press(bot, data, OPERATOR, group=True)
        assert changed == {} and shown == [refusal(bot, "private_only", command="/tasks")]
    # a forged 未完成 press did not start a conversation: text stays ordinary text
    await bot.send("不是原因", user=UNIT)
    assert status_of(bot.ctx, task.id) == "queued"
    # two operators press at once: one marks it, the other is told it is done
    first, _ = await press(bot, f"tk:d:{task.id}", CITY)
    assert first[0] == f"已标记任务 {task.id[:8]} 为已完成。", first
    second, changed = await press(bot, f"tk:f:{task.id}", OPERATOR)
    assert changed == {} and status_of(bot.ctx, task.id) == "applied"
    assert second == [refusal(bot, "task_finished", id=task.id[:8], status="applied")]
    with bot.ctx.db.session() as s:
        marks = s.exec(select(AuditLog).where(AuditLog.action == "platform.applied")).all()
    assert len(marks) == 1


def test_a_claim_lets_only_one_of_two_concurrent_operators_through(ctx, monkeypatch):
    """The second operator's task was read before the first committed: its claim fails."""
    factories.tree(ctx)
    with ctx.unit_of_work(Origin.cli("requester")) as uow:
        task_id = submit(uow, TaskRequest(TaskKind.PASSWORD_RESET, account="ly1zhang")).id
    real_find = queue.find

    def racing_find(uow, text):
        found = real_find(uow, text)
        monkeypatch.setattr(queue, "find", real_find)  # the other operator, meanwhile
        other = queue.MarkRequest(task_id, applied=True)
        ctx.run_sync(lambda u: queue.mark(u, other, EFFECTS), Origin.cli("first"))
        return found

    monkeypatch.setattr(queue, "find", racing_find)
    second = queue.MarkRequest(task_id, applied=False, reason="x")
    with pytest.raises(Refused) as refused:
        ctx.run_sync(lambda u: queue.mark(u, second, EFFECTS), Origin.cli("second"))
    assert refused.value.key == "task_finished"
    with ctx.db.session() as s:
        row = s.get(PlatformTask, task_id)
        assert row.status == "applied" and row.finished_by == "first"


async def test_what_each_viewer_sees(op):
    bot = op
    mine = await request_reset(bot)
    with bot.ctx.unit_of_work(Origin.cli()) as uow:  # a task of the command line's
        submit(uow, TaskRequest(TaskKind.PASSWORD_RESET, account="hdzhao", unit_code="HD"))
    mark = bot.request.mark()
    await bot.send("/tasks", user=COUNTY)  # another administrator: only their own (none)
    (theirs,) = sent_to(bot, COUNTY, mark)
    assert "ly1zhang" not in theirs and "还没有提交过" in theirs
    mark = bot.request.mark()
    await bot.send("/tasks", user=UNIT)
    (own,) = sent_to(bot, UNIT, mark)
    assert "ly1zhang" in own and "hdzhao" not in own and "等待" in own
    assert buttons_of(bot, mark) == []
    mark = bot.request.mark()
    await bot.send(f"/task_fail {mine.id} 平台上查无此人", user=OPERATOR)
    await bot.send("/tasks", user=OPERATOR)
    listing = sent_to(bot, OPERATOR, mark)[-1]
    assert "hdzhao" in listing and "ly1zhang" not in listing
    assert "待办 1 项" in listing and "已办结 1 项" in listing and "未完成 1" in listing


async def test_outside_operator_mode_nobody_marks_by_hand(bot):
    """The sandbox (like the http gateway) delivers tasks itself: no buttons, no marking."""
    _people(bot)
    await platform_worker.stop(bot.app)
    with bot.ctx.unit_of_work(Origin.cli()) as uow:
        task = submit(uow, TaskRequest(TaskKind.PASSWORD_RESET, account="ly1zhang"))
    mark = bot.request.mark()
    await bot.send("/tasks", user=CITY)
    (listing,) = sent_to(bot, CITY, mark)
    assert "ly1zhang" in listing and buttons_of(bot, mark) == []
    out = await said(bot, f"/task_fail {task.id[:8]} 不行", CITY)
    assert out == [refusal(bot, "tasks_delivered_by_bot")]
    shown, changed = await press(bot, f"tk:d:{task.id}", CITY)
    assert changed == {} and shown == [refusal(bot, "tasks_delivered_by_bot")]


# --- the command line -----------------------------------------------------------------------------


async def test_cli_marks_in_bulk_and_the_bot_tells_each_requester_once(
    op, sqlite_url, monkeypatch, capsys
):
    bot = op
    first = await request_reset(bot)
    second = await request_reset(bot, "lyjyli")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    def platform(*words: str) -> tuple[int, str]:
        args = cli.build_parser().parse_args(["platform", *words])
        code = args.func(args)
        return code, capsys.readouterr().out

    with pytest.raises(SystemExit):  # failed needs a reason
        cli.build_parser().parse_args(["platform", "failed", first.id])
    capsys.readouterr()
    code, out = platform("done", first.id[:8], "ffffffff")
    assert code == 1 and "ffffffff" in out and "找不到" in out and first.id[:8] in out
    code, out = platform("done", first.id[:8])  # finished already: reported, not applied again
    assert code == 1 and "不会重复处理" in out
    code, out = platform("failed", second.id, "--reason", "账号不存在")
    assert code == 0 and "未完成" in out
    assert status_of(bot.ctx, first.id) == "applied"
    assert status_of(bot.ctx, second.id) == "refused"
    code, out = platform("tasks")
    assert code == 0 and "目前没有待办" in out
    code, out = platform("tasks", "--all")
    assert first.id[:8] in out and second.id[:8] in out and "账号不存在" in out
    # the command line only records: the running bot's worker tells the requester
    mark = bot.request.mark()
    await run(bot)
    await run(bot)
    told = sent_to(bot, UNIT, mark)
    assert len(told) == 2, told
    assert any("已重置" in t and "ly1zhang" in t for t in told)
    assert any("账号不存在" in t and "lyjyli" in t for t in told)


def test_cli_from_the_shell(ctx, sqlite_url, tmp_path):
    """``python -m bot platform tasks --export`` and ``done`` in a process of their own."""
    factories.tree(ctx)
    with ctx.unit_of_work(Origin.cli()) as uow:
        task = submit(
            uow,
            TaskRequest(
                TaskKind.TRANSFER,
                account="ly1zhang",
                unit_code="LY-JY-1",
                fields={"from_unit_name": "衡东县", "to_unit_name": "耒阳一中"},
            ),
        )
    env = {**os.environ, "DATABASE_URL": sqlite_url}

    def run_cli(*words: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", "platform", *words],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    target = tmp_path / "queue.xlsx"
    done = run_cli("tasks", "--export", str(target))
    assert done.returncode == 0, done.stderr
    assert task.id[:8] in done.stdout and "调出单位：衡东县" in done.stdout
    sheet = openpyxl.load_workbook(target).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["任务编号"] == task.id and values["类型"] == "人员调入"
    assert values["登录账号"] == "ly1zhang" and values["学员姓名"] == "张小明"
    assert values["单位编码"] == "LY-JY-1" and values["单位名称"] == "耒阳一中"
    assert "调入单位：耒阳一中" in values["具体内容"] and values["申请人"] == "cli"
    assert isinstance(values["申请时间"], dt.datetime)
    assert run_cli("tasks", "--export", str(tmp_path / "x.csv")).returncode == 2
    done = run_cli("done", task.id, "0" * 32)
    assert done.returncode == 1 and "✓" in done.stdout and "✗" in done.stdout
    assert status_of(ctx, task.id) == "applied"


def test_the_workbook_has_every_field_the_operator_needs(ctx):
    factories.tree(ctx)
    with ctx.unit_of_work(Origin.cli()) as uow:
        submit(
            uow,
            TaskRequest(TaskKind.EXEMPTION_SET, account="=cmd|x", fields={"reason": "maternity"}),
        )
    items = ctx.run_sync(lambda uow: queue.queue(uow), Origin.cli())
    from io import BytesIO

    buffer = BytesIO()
    write_queue_xlsx(items, ctx.config, buffer)
    sheet = openpyxl.load_workbook(BytesIO(buffer.getvalue())).active
    row = [c for c in sheet[2]]
    assert row[3].value == "=cmd|x" and row[3].data_type == "s"  # text, never a formula
    assert row[1].value == "设置免考" and "免考情形：正在休产假" in row[7].value


# --- reminders ------------------------------------------------------------------------------------


async def test_open_tasks_are_reminded_to_the_operators_once_per_period(op, clock):
    bot = op
    task = await request_reset(bot)
    hours = bot.ctx.config.platform.operator_reminder_hours
    mark = bot.request.mark()
    clock.freeze(clock.now() + dt.timedelta(hours=hours) - dt.timedelta(minutes=1))
    await run(bot)
    assert sent_to(bot, OPERATOR, mark) == []  # not yet
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    await run(bot)
    await run(bot)  # again, at the same moment: still once
    for who in (OPERATOR, CITY):
        said = sent_to(bot, who, mark)
        assert len(said) == 1 and task.id[:8] in said[0] and f"{hours} 小时" in said[0], who
    for who in (UNIT, COUNTY):
        assert sent_to(bot, who, mark) == []
    mark = bot.request.mark()
    clock.freeze(clock.now() + dt.timedelta(hours=hours / 2))
    await run(bot)
    assert sent_to(bot, OPERATOR, mark) == []  # within the period
    clock.freeze(clock.now() + dt.timedelta(hours=hours / 2 + 0.1))
    await run(bot)
    assert len(sent_to(bot, OPERATOR, mark)) == 1  # the next period
    await bot.send(f"/task_fail {task.id[:8]} 不办", user=OPERATOR)
    mark = bot.request.mark()
    clock.freeze(clock.now() + dt.timedelta(hours=hours * 3))
    await run(bot)
    assert sent_to(bot, OPERATOR, mark) == []  # finished tasks are never reminded


async def test_no_reminder_claimed_while_no_operator_is_bound(bot, clock):
    bot.ctx.gateway = OperatorGateway()
    await platform_worker.stop(bot.app)
    factories.tree(bot.ctx)
    with bot.ctx.unit_of_work(Origin.cli()) as uow:
        task = submit(uow, TaskRequest(TaskKind.PASSWORD_RESET, account="ly1zhang"))
    clock.freeze(clock.now() + dt.timedelta(days=3))
    assert await run(bot) == 0
    with bot.ctx.db.session() as s:
        assert s.get(PlatformTask, task.id).reminded_at is None  # kept for the first operator
    factories.bind(bot.ctx, "city", "operator", bot.user_id(OPERATOR))
    assert await run(bot) == 1
