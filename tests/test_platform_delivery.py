"""Delivering platform tasks through the http gateway to the fake platform, with the worker
(handlers.platform.run_once) on an offline Telegram: a task is applied once however often it is
sent (500s, 429, time-outs, dropped connections, a worker that died holding a claim), the
requester is told only once the platform has answered, and told once; two claimers never take
the same task. Real SQLite, and PostgreSQL where TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest
from sqlmodel import select

from bot.app import build_application
from bot.context import AppContext
from bot.core.render import strip_html
from bot.core.uow import Origin
from bot.platform import delivery, tasks
from bot.platform.http import HttpGateway
from bot.platform.models import PlatformTask, TaskKind, TaskStatus
from bot.sandbox.offline import OfflineRequest
from bot.sandbox.runner import SANDBOX_TOKEN
from handlers import platform as worker
from harness.fakeplatform import FakePlatform
from tests import factories

UID = 4242  # the administrator of 耒阳市教育局, in a private chat with the bot
ADMIN = Origin.telegram(UID, UID)
WORKER = Origin.system("test")
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def platform():
    with FakePlatform() as fake:
        yield fake


@pytest.fixture
async def pctx(any_ctx: AppContext, platform):
    """The context with a bound administrator and the http gateway to the fake platform."""
    factories.tree(any_ctx)
    factories.bind(any_ctx, "LY-JY", "unit", UID)
    any_ctx.gateway = HttpGateway(platform.url, platform.token, timeout=1.0)
    yield any_ctx
    await any_ctx.gateway.close()


def offline_app(ctx):
    request = OfflineRequest()
    app = build_application(ctx, SANDBOX_TOKEN, request=request, rate_limit=False, set_menus=False)
    return app, request


def told(request: OfflineRequest, chat_id: int = UID) -> list[str]:
    return [
        strip_html(str(c.params["text"]))
        for c in request.calls
        if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id
    ]


def submit(ctx, kind=TaskKind.PASSWORD_RESET, account="ly1zhang", unit_code="LY-JY-1", **fields):
    """A task as a capability writes it: in the administrator's unit of work."""

    def work(uow):
        uow.authorize()
        request = tasks.TaskRequest(kind, account=account, unit_code=unit_code, fields=fields)
        return tasks.submit(uow, request).id

    return ctx.run_sync(work, ADMIN)


def row(ctx, task_id: str) -> PlatformTask:
    with ctx.db.session() as s:
        task = s.get(PlatformTask, task_id)
        assert task is not None
        return task


# --- the acceptance path ------------------------------------------------------------------------


async def test_500_twice_then_200_applies_once_and_tells_only_after_the_200(pctx, platform):
    task_id = submit(pctx)
    platform.fail_next(500, times=2)
    app, request = offline_app(pctx)
    async with app:
        for attempt in (1, 2):
            assert await worker.run_once(app) == 0
            assert told(request) == []  # nothing said while the platform has not answered
            task = row(pctx, task_id)
            assert (task.status, task.attempts, task.last_error) == ("queued", attempt, "HTTP 500")
            pctx.clock.advance(dt.timedelta(minutes=1))
        assert await worker.run_once(app) == 1
        assert await worker.run_once(app) == 0
    [message] = told(request)
    assert "已重置" in message and "ly1zhang" in message
    assert pctx.config.platform.default_password in message and task_id[:8] in message
    sent = platform.requests_for(task_id)
    assert [r.status for r in sent] == [500, 500, 200]
    assert {r.idempotency_key for r in sent} == {task_id}
    assert [a.task_id for a in platform.applications] == [task_id]
    done = row(pctx, task_id)
    assert (done.status, done.finished_by, done.attempts) == ("applied", "platform", 3)
    assert done.notified_at is not None and done.next_attempt_at is None


async def test_a_refusal_reaches_the_requester_with_the_platforms_reason(pctx, platform):
    platform.refuse_account("ly1zhang", "该账号已在如法网注销")
    task_id = submit(pctx)
    app, request = offline_app(pctx)
    async with app:
        assert await worker.run_once(app) == 1
    [message] = told(request)
    assert "未能完成" in message and "该账号已在如法网注销" in message and "已重置" not in message
    task = row(pctx, task_id)
    assert (task.status, task.result) == ("refused", "该账号已在如法网注销")
    assert platform.applications == []


async def test_429_retry_after_moves_the_next_attempt_by_as_much(pctx, platform):
    task_id = submit(pctx)
    platform.fail_next(429, retry_after=90)
    app, request = offline_app(pctx)
    async with app:
        asked_at = pctx.now()
        await worker.run_once(app)
        assert row(pctx, task_id).next_attempt_at == asked_at + 90 * SECOND
        pctx.clock.advance(89 * SECOND)
        await worker.run_once(app)
        assert len(platform.requests_for(task_id)) == 1  # not before the time it asked for
        pctx.clock.advance(SECOND)
        assert await worker.run_once(app) == 1
    assert [r.status for r in platform.requests_for(task_id)] == [429, 200]
    assert len(told(request)) == 1


async def test_a_retry_after_beyond_the_cap_waits_the_cap(pctx, platform):
    task_id = submit(pctx)
    platform.fail_next(429, retry_after=10 * 86400)
    app, _ = offline_app(pctx)
    async with app:
        asked_at = pctx.now()
        await worker.run_once(app)
    cap = pctx.config.platform.retry_max_seconds
    assert row(pctx, task_id).next_attempt_at == asked_at + cap * SECOND


async def test_time_outs_and_dropped_connections_are_retried_and_applied_once(pctx, platform):
    task_id = submit(pctx)
    platform.drop_next()
    platform.delay_next(2.5)  # the platform applies it after the client gave up
    app, request = offline_app(pctx)
    async with app:
        for error in ("RemoteProtocolError", "timeout"):
            await worker.run_once(app)
            assert row(pctx, task_id).last_error == error and told(request) == []
            pctx.clock.advance(dt.timedelta(minutes=1))
        platform.wait_applied(task_id, timeout=5)
        assert await worker.run_once(app) == 1
    assert [r.status for r in platform.requests_for(task_id)] == [None, 200, 409]
    assert len(platform.applications) == 1 and len(told(request)) == 1


# --- claims and leases --------------------------------------------------------------------------


async def test_a_claim_that_was_never_recorded_is_delivered_again_after_its_lease(pctx, platform):
    """A worker that died after the platform applied the task, before recording it."""
    task_id = submit(pctx)
    [claimed] = pctx.run_sync(delivery.claim_due, WORKER)
    assert (await pctx.gateway.deliver(claimed.body)).kind == "applied"  # …then it died
    app, request = offline_app(pctx)
    async with app:
        await worker.run_once(app)
        assert len(platform.requests_for(task_id)) == 1  # leased: not sent again yet
        lease = dt.timedelta(seconds=pctx.config.platform.request_timeout_seconds)
        pctx.clock.advance(lease + delivery.LEASE_MARGIN)
        assert await worker.run_once(app) == 1
    first, again = platform.requests_for(task_id)
    assert first.idempotency_key == again.idempotency_key == task_id
    assert first.json == again.json and (first.status, again.status) == (200, 409)
    assert len(platform.applications) == 1 and len(told(request)) == 1
    assert row(pctx, task_id).attempts == 2


def test_a_claim_counts_its_attempt_once(pctx):
    """The back-off and the log read the claim's attempt number: the first claim is attempt 1."""
    task_id = submit(pctx)
    [claimed] = pctx.run_sync(delivery.claim_due, WORKER)
    assert row(pctx, task_id).attempts == 1
    assert claimed.attempts == 1


def test_a_second_claimer_waits_for_the_first_and_takes_nothing(pctx):
    submit(pctx)
    seen: list[list[delivery.Claimed]] = []
    with pctx.unit_of_work(WORKER) as first:
        mine = delivery.claim_due(first)
        other = threading.Thread(
            target=lambda: seen.append(pctx.run_sync(delivery.claim_due, WORKER))
        )
        other.start()
        time.sleep(0.3)  # the second claimer is now waiting for the first one's transaction
    other.join(20)
    assert len(mine) == 1 and seen == [[]]


def test_claimers_racing_never_both_take_a_task(pctx):
    ids = {submit(pctx, account=f"acc{i:02d}") for i in range(30)}
    results: list[list[str]] = []
    lock = threading.Lock()

    def claim() -> None:
        got = pctx.run_sync(lambda uow: delivery.claim_due(uow, limit=30), WORKER)
        with lock:
            results.append([c.id for c in got])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    taken = [task_id for result in results for task_id in result]
    assert len(results) == 4 and sorted(taken) == sorted(ids)  # each once, none left


async def test_the_notice_is_sent_once_though_two_workers_run_at_once(pctx, platform):
    submit(pctx)
    (app1, request1), (app2, request2) = offline_app(pctx), offline_app(pctx)
    async with app1, app2:
        sent = await asyncio.gather(worker.run_once(app1), worker.run_once(app2))
        sent += await asyncio.gather(worker.run_once(app1), worker.run_once(app2))
    assert sum(sent) == 1
    assert len(told(request1)) + len(told(request2)) == 1
    assert len(platform.applications) == 1


# --- every kind ---------------------------------------------------------------------------------

BOOKING = {
    "registration_id": 7,
    "round": "zone1",
    "round_name": "第一次分众组考",
    "exam_date": "2022-09-20",
    "session_time": "15:30",
    "unit_name": "耒阳市教育局",
}
# Each kind with the fields its capability writes (docs/platform-api.md).
KINDS = {
    TaskKind.PASSWORD_RESET: ("ly1zhang", "LY-JY-1", {}),
    TaskKind.TRANSFER: (
        "hdzhao",
        "LY-JY",
        {
            "from_unit_code": "HD",
            "from_unit_name": "衡东县",
            "to_unit_code": "LY-JY",
            "to_unit_name": "耒阳市教育局",
        },
    ),
    TaskKind.EXEMPTION_SET: (
        "lyjyli",
        "LY-JY",
        {"filing_id": 3, "reason": "retirement", "retirement_date": "2024-06-30"},
    ),
    TaskKind.EXEMPTION_CLEAR: ("lyjyli", "LY-JY", {"filing_id": 3, "note": "抽查不符"}),
    TaskKind.EXAM_REGISTRATION: (
        "",
        "LY-JY",
        {**BOOKING, "count": 2, "accounts": ["lyjyli", "lyjyzhou"], "change": True},
    ),
    TaskKind.EXAM_REGISTRATION_CANCEL: ("", "LY-JY", BOOKING),
}


async def test_every_kind_reaches_the_platform_with_its_envelope_and_fields(pctx, platform):
    ids = {
        kind: submit(pctx, kind, account, unit, **fields)
        for kind, (account, unit, fields) in KINDS.items()
    }
    claimed = pctx.run_sync(lambda uow: delivery.claim_due(uow, limit=len(ids)), WORKER)
    assert {c.id for c in claimed} == set(ids.values())
    for one in claimed:
        outcome = await pctx.gateway.deliver(one.body)
        pctx.run_sync(
            lambda uow, one=one, outcome=outcome: delivery.record(uow, one, outcome, {}), WORKER
        )
    with pctx.db.session() as s:
        statuses = {t.id: t.status for t in s.exec(select(PlatformTask))}
    assert set(statuses.values()) == {TaskStatus.APPLIED.value}
    for kind, (account, unit, fields) in KINDS.items():
        body = platform.applied[ids[kind]]
        assert body == {
            **fields,
            "id": ids[kind],
            "kind": kind.value,
            "account": account,
            "unit_code": unit,
            "requested_by": "耒阳市教育局",
            "requested_at": "2022-09-14T02:00:00Z",  # 10:00 in Hengyang, in UTC
        }
