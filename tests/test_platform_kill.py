"""The real bot process (``python -m bot run`` with ``[platform] gateway = "http"``) against the
fake Bot API and the fake platform: /resetpw and its confirm send one task, told as done only
after the platform's 200; and SIGKILL before the platform was reached and again after the
platform applied a task but before the bot heard back. After a restart every task is applied on
the platform exactly once, none is lost, and the requester is told once.

Marked ``slow`` (two bot starts each, like tests/test_reliability.py); part of make test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.context import AppContext, create_context
from bot.core.config import load_config
from bot.core.uow import Origin
from bot.platform import tasks
from bot.platform.models import PlatformTask, TaskKind
from harness.fakeapi import FakeBotAPI
from harness.fakeplatform import FakePlatform
from tests import factories
from tests.botproc import BotProcess, press, say, write_config

UID = 6161  # the administrator of 耒阳市教育局, who asked for the resets
TIMEOUT = 3  # request_timeout_seconds: the lease is this plus delivery.LEASE_MARGIN


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def platform():
    with FakePlatform() as fake:
        yield fake


def setting_up(tmp_path: Path, platform: FakePlatform) -> tuple[AppContext, dict[str, str]]:
    """The bot's config (http gateway, quick deliveries), its database with a bound
    administrator, and the environment for ``python -m bot run``."""
    config = write_config(
        tmp_path / "config.toml",
        platform={
            "gateway": '"http"',
            "delivery_interval_seconds": "1",
            "request_timeout_seconds": str(TIMEOUT),
            "retry_max_seconds": "2",
        },
    )
    ctx = create_context(load_config(config), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    factories.tree(ctx)
    factories.learner(ctx, "lyjyzhou", "周七", "LY-JY")
    factories.bind(ctx, "LY-JY", "unit", UID)
    return ctx, {"CONFIG_PATH": str(config), **platform.environ}


def submit(ctx: AppContext, account: str) -> str:
    """A reset as the roster writes it, in the administrator's unit of work (directly, so the
    test does not depend on /resetpw's conversation)."""

    def work(uow):
        uow.authorize()
        request = tasks.TaskRequest(TaskKind.PASSWORD_RESET, account=account, unit_code="LY-JY")
        return tasks.submit(uow, request).id

    return ctx.run_sync(work, Origin.telegram(UID, UID))


def rows(ctx: AppContext, ids: list[str]) -> list[PlatformTask]:
    try:
        with ctx.db.session() as s:
            return list(s.exec(select(PlatformTask).where(PlatformTask.id.in_(ids))))  # type: ignore[attr-defined]
    except DBAPIError:  # the bot holds the write lock a moment
        return []


def finished(ctx: AppContext, ids: list[str]) -> bool:
    found = rows(ctx, ids)
    return len(found) == len(ids) and all(
        t.status == "applied" and t.notified_at is not None for t in found
    )


def told(api: FakeBotAPI, task_id: str) -> list[str]:
    """The messages the requester received about one task (its number is in each)."""
    return [text for text in api.sent_texts(chat_id=UID) if task_id[:8] in text]


def settle(bot: BotProcess, seconds: float = 2.5) -> None:
    """Let a few more delivery runs pass: a second notice or delivery would show now."""
    deadline = time.monotonic() + seconds
    bot.wait_until(lambda: time.monotonic() > deadline, seconds + 5, "a few more runs")


@pytest.mark.slow
def test_tasks_queued_while_the_platform_is_down_are_applied_once_after_a_kill(
    api, platform, tmp_path
):
    ctx, env = setting_up(tmp_path, platform)
    platform.stop()  # down: connections are refused
    accounts = ["ly1zhang", "lyjyli", "lyjyzhou"]
    ids = [submit(ctx, account) for account in accounts]
    first = BotProcess(api, tmp_path, name="first", env=env)
    try:
        first.wait_polling()
        first.wait_until(
            lambda: (
                len(found := rows(ctx, ids)) == 3
                and all(t.attempts >= 1 and t.last_error for t in found)
            ),
            60,
            "an attempt at each task while the platform is down",
        )
    finally:
        first.kill()
    assert all(t.status == "queued" for t in rows(ctx, ids))
    assert api.sent_texts(chat_id=UID) == []  # nothing claimed while nothing was applied

    platform.start()  # up again, on the same port
    second = BotProcess(api, tmp_path, name="second", env=env)
    try:
        second.wait_polling()
        second.wait_until(lambda: finished(ctx, ids), 60, "every task applied and told")
        settle(second)
    finally:
        assert second.stop() == 0
    for task_id, account in zip(ids, accounts, strict=True):
        [applied] = platform.applications_of(task_id)
        assert applied.account == account
        assert {r.idempotency_key for r in platform.requests_for(task_id)} == {task_id}
        [message] = told(api, task_id)
        assert "已重置" in message and account in message
    assert len(platform.applications) == 3
    ctx.db.dispose()


@pytest.mark.slow
def test_a_kill_after_the_platform_applied_ends_applied_once_and_told_once(api, platform, tmp_path):
    ctx, env = setting_up(tmp_path, platform)
    platform.apply_then_hang_next()
    task_id = submit(ctx, "ly1zhang")
    first = BotProcess(api, tmp_path, name="first", env=env)
    try:
        first.wait_polling()
        first.wait_until(lambda: task_id in platform.applied, 60, "the platform applying it")
    finally:
        first.kill()  # the platform has applied it; the bot never heard
    [task] = rows(ctx, [task_id])
    assert (task.status, task.attempts, task.notified_at) == ("queued", 1, None)
    assert api.sent_texts(chat_id=UID) == []
    platform.release()

    second = BotProcess(api, tmp_path, name="second", env=env)
    try:
        second.wait_polling()
        second.wait_until(lambda: finished(ctx, [task_id]), 60, "the task applied and told")
        settle(second)
    finally:
        assert second.stop() == 0
    assert [r.status for r in platform.requests_for(task_id)] == [None, 409]
    assert {r.idempotency_key for r in platform.requests_for(task_id)} == {task_id}
    assert len(platform.applications) == 1
    [message] = told(api, task_id)
    assert "已重置" in message and "ly1zhang" in message
    [task] = rows(ctx, [task_id])
    assert (task.status, task.finished_by, task.attempts) == ("applied", "platform", 2)
    ctx.db.dispose()


@pytest.mark.slow
def test_resetpw_and_confirm_send_one_task_told_done_only_after_the_200(api, platform, tmp_path):
    ctx, env = setting_up(tmp_path, platform)
    bot = BotProcess(api, tmp_path, name="bot", env=env)
    try:
        bot.wait_polling()
        # A reset the platform applies at once: exactly one POST /tasks.
        answer = press(api, say(api, "/resetpw ly1zhang", UID), 0, UID)
        assert "已提交" in answer.params["text"] and "已重置" not in answer.params["text"]
        bot.wait_until(lambda: len(platform.applications) == 1, 30, "the first reset applied")
        [request] = platform.task_requests()
        task_id = request.task_id
        assert (
            task_id and request.idempotency_key == task_id and task_id[:8] in answer.params["text"]
        )
        assert (request.json["kind"], request.json["account"]) == ("password_reset", "ly1zhang")
        bot.wait_until(lambda: told(api, task_id), 30, "the first result")
        # A reset the platform answers 500 twice, then 200: applied once, told after the 200.
        platform.fail_next(500, times=2)
        mark = api.mark()
        answer = press(api, say(api, "/resetpw lyjyli", UID), 0, UID)
        assert "已重置" not in answer.params["text"]
        bot.wait_until(lambda: len(platform.applications) == 2, 60, "the second reset applied")
        second = platform.applications[1].task_id
        bot.wait_until(lambda: told(api, second), 30, "the second result")
        settle(bot)
    finally:
        assert bot.stop() == 0
    sent = platform.requests_for(second)
    assert [r.status for r in sent] == [500, 500, 200]
    assert {r.idempotency_key for r in sent} == {second}
    assert [r.json["account"] for r in sent] == ["lyjyli"] * 3
    assert len(platform.task_requests()) == 4 and len(platform.applications) == 2
    [message] = told(api, second)
    assert "已重置" in message and "lyjyli" in message
    [call] = [
        c
        for c in api.calls_of("sendMessage", after=mark)
        if c.params.get("chat_id") == UID and second[:8] in str(c.params.get("text"))
    ]
    assert call.at >= sent[-1].at  # the message came after the platform's 200
    assert len(told(api, task_id)) == 1
    ctx.db.dispose()
