"""``make bench``: the figures the issues ask for, printed.

- FAQ: jieba dictionary load, index build, answer latency (p50 / p99) and accuracy, group and
  private mode, on each blind set's tune half, its holdout half (totals only) and the existing
  set (``faq.evaluate``).
- Update throughput: the full Application processing a realistic mix through ``process_update``
  on an offline Bot, against a minimal echo bot measured in the same run.
- Broadcast: one reminder to 200 private chats through the fake Bot API server (harness.fakeapi)
  with the real Application and its rate limiter, against Telegram's 30 messages/s; on loopback
  and with a simulated Bot API round trip.
- Start-up: ``python -m bot run`` to its first ``getUpdates`` (fresh and existing database), and
  its peak memory (VmHWM) by then.
- City: a generated city of 150,000 learners (``benchmarks.city``): whole-file imports through
  the command line on SQLite (and PostgreSQL with ``BENCH_DATABASE_URL`` or
  ``TEST_DATABASE_URL``), and the reports on the loaded database (``benchmarks.city_bench``).

``--only SECTION`` (repeatable) runs some of them; ``--quick`` shrinks the workloads to check that
the bench still runs (its figures then mean little).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.core.config import load_config
from bot.sandbox.offline import OfflineRequest


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def bench_faq() -> None:
    from faq import engine as faq_engine
    from faq.evaluate import evaluate_all, load_blind_sets, load_eval, moment_of

    config = load_config()
    started = time.perf_counter()
    faq_engine.warm_up()
    jieba_load = time.perf_counter() - started
    started = time.perf_counter()
    engine = faq_engine.FaqEngine.from_config(config)
    build = time.perf_counter() - started
    data = load_eval()
    blind = load_blind_sets()
    now = dt.datetime(2022, 9, 14, 10, tzinfo=config.tz)
    asked = [(i["q"], now) for i in data["answerable"]] + [(i["q"], now) for i in data["silent"]]
    asked += [(c["q"], moment_of(c, now)) for cases in blind.values() for c in cases]
    for q, at in asked[:50]:  # warm caches
        engine.decide(q, now=at)
    timings = []
    for _ in range(5):
        engine.clear_rank_cache()  # first-time questions: no ranking cache
        for q, at in asked:
            t0 = time.perf_counter()
            engine.decide(q, mode="group", now=at)
            timings.append(time.perf_counter() - t0)
    repeat = []
    for q, at in asked:  # the same questions again: ranked once, answered from the cache
        t0 = time.perf_counter()
        engine.decide(q, mode="group", now=at)
        repeat.append(time.perf_counter() - t0)
    timings.sort()
    p50 = timings[len(timings) // 2]
    p99 = timings[int(len(timings) * 0.99)]
    report = evaluate_all(engine, now, blind, data)
    print("FAQ")
    print(f"  knowledge base: {len(engine.entries)} entries, {engine.size} phrasings")
    print(
        f"  jieba dictionary load (once per process, warmed in the background at start): {_ms(jieba_load)}"
    )
    print(
        f"  index build (tokenise phrasings and answers, BM25 word + bigram): {_ms(build)}  target < 500 ms"
    )
    print(
        f"  answer time, first-time questions ({len(timings)}): p50 {_ms(p50)}, p99 {_ms(p99)}"
        "  target p99 < 5 ms"
    )
    print(f"  answer time, repeated questions: p50 {_ms(sorted(repeat)[len(repeat) // 2])}")
    print(
        "  accuracy (targets: group right >= 95%, wrong <= 1%, chatter silent >= 97%, contacts"
        " >= 80%; private right >= 98%):"
    )
    for line in report.lines():
        print(f"    {line}")


def _updates(bot: Bot, n: int) -> list[Update]:
    """A realistic mix: group chatter, FAQ questions, commands, callback presses."""
    mix = [
        ("group", "收到"),
        ("group", "补考什么时候报名"),
        ("group", "好的谢谢"),
        ("group", "今天下午开会"),
        ("private", "/help"),
        ("private", "重置后密码是多少"),
        ("group", "集中考试在哪"),
        ("private", "/start"),
        ("private", "callback"),
        ("group", "大家辛苦了"),
    ]
    updates = []
    for i in range(n):
        where, text = mix[i % len(mix)]
        user = {"id": 1000 + i % 50, "is_bot": False, "first_name": "u"}
        chat = (
            {"id": -100123, "type": "supergroup", "title": "g"}
            if where == "group"
            else {"id": user["id"], "type": "private", "first_name": "u"}
        )
        if text == "callback":
            message = {
                "message_id": i,
                "date": 0,
                "chat": chat,
                "text": "x",
                "from": {"id": 1, "is_bot": True, "first_name": "b"},
            }
            data = {
                "update_id": i,
                "callback_query": {
                    "id": str(i),
                    "from": user,
                    "chat_instance": "c",
                    "message": message,
                    "data": "faq:password-reset-default",
                },
            }
        else:
            message = {"message_id": i, "date": 0, "chat": chat, "from": user, "text": text}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
            data = {"update_id": i, "message": message}
        updates.append(Update.de_json(data, bot))
    return updates


async def _throughput(app: Application[Any, Any, Any, Any, Any, Any], n: int) -> float:
    await app.initialize()
    updates = _updates(app.bot, n)
    for update in updates[:20]:
        await app.process_update(update)
    gc.collect()
    started = time.perf_counter()
    for update in updates:
        await app.process_update(update)
    elapsed = time.perf_counter() - started
    await app.shutdown()
    return n / elapsed


def _echo_app() -> Application[Any, Any, Any, Any, Any, Any]:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await message.reply_text(message.text or "")

    app = (
        ApplicationBuilder()
        .token("1:echo")
        .request(OfflineRequest())
        .get_updates_request(OfflineRequest())
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


async def bench_throughput(n: int = 2000, pairs: int = 5) -> None:
    """This bot and a minimal echo bot, measured in pairs (one right after the other, so both
    see the same machine load); the median ratio of the pairs, with its range."""
    from bot.app import build_application
    from bot.context import create_context

    config = load_config()
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = create_context(config, db_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        ctx.faq  # noqa: B018  (build the index outside the measurement, as start-up does)
        for _ in range(pairs):
            app = build_application(
                ctx, "1:bench", request=OfflineRequest(), rate_limit=False, set_menus=False
            )
            ours.append(await _throughput(app, n))
            theirs.append(await _throughput(_echo_app(), n))
        ctx.db.dispose()
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    print(f"Update throughput (process_update, offline Bot; {pairs} paired runs)")
    print(
        f"  this bot: median {statistics.median(ours):,.0f} updates/s; minimal echo bot: median "
        f"{statistics.median(theirs):,.0f} updates/s; ratio median {statistics.median(ratios):.2f}"
        f" (range {min(ratios):.2f}–{max(ratios):.2f})  target >= 0.50"
    )


TELEGRAM_CEILING = 30  # messages per second, overall


async def _broadcast(chats: int, latency: float) -> tuple[float, float, int]:
    """Seconds to deliver one reminder to ``chats`` private chats; messages per second between
    the first and the last; the most messages in any one second."""
    from bot.app import build_application
    from bot.context import create_context
    from harness.fakeapi import FakeBotAPI
    from reminders import scheduler
    from reminders.models import StoredReminder

    config = load_config()
    fire = dt.datetime(2022, 9, 14, 10, 0, tzinfo=config.tz)
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI() as api:
        ctx = create_context(config, db_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        with ctx.db.session() as session:  # one reminder, due now (the calendar is not synced)
            session.add(
                StoredReminder(
                    id="custom-1",
                    kind="custom",
                    source="custom",
                    fire_at=fire,
                    deadline=fire + dt.timedelta(hours=6),
                    template="reminder_custom",
                    text="请各单位于今天18:00前完成报名。",
                    created_at=fire,
                    updated_at=fire,
                )
            )
        ctx.clock.freeze(fire)
        if latency:
            api.delay_next("sendMessage", latency, times=chats)
        app = build_application(ctx, api.token, base_url=api.base_url, set_menus=False)
        targets = list(range(10_001, 10_001 + chats))  # private chats: only the overall limit
        async with app:
            started = time.perf_counter()
            outcomes = await scheduler.run_due(app, group_ids=targets)
            elapsed = time.perf_counter() - started
        ctx.db.dispose()
    sent = sorted(c.at for c in api.calls_of("sendMessage") if c.ok)
    assert len(sent) == chats == sum(o.status == "sent" for o in outcomes), "not all delivered"
    steady = (len(sent) - 1) / (sent[-1] - sent[0])
    peak = max(sum(1 for t in sent if start <= t < start + 1) for start in sent)
    return elapsed, steady, peak


async def bench_broadcast(chats: int = 200) -> None:
    print(f"Broadcast (one reminder to {chats} private chats, fake Bot API, AIORateLimiter on)")
    for latency in (0.0, 0.3):
        elapsed, steady, peak = await _broadcast(chats, latency)
        where = "loopback" if not latency else f"{latency * 1000:.0f} ms per Bot API call"
        rate = chats / elapsed
        print(
            f"  {where}: {elapsed:.2f} s, {rate:.1f} messages/s ({rate / TELEGRAM_CEILING:.0%} of "
            f"Telegram's {TELEGRAM_CEILING}/s; target >= 90%), steady {steady:.1f}/s, "
            f"at most {peak} in any second"
        )


def _startup(db_url: str) -> tuple[float, int]:
    """Seconds from exec to the first getUpdates waiting in the fake server; VmHWM in KiB."""
    import os
    import subprocess
    import sys

    from harness.fakeapi import FakeBotAPI

    root = Path(__file__).resolve().parents[1]
    with FakeBotAPI() as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": db_url,
            "LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while api.pending_polls == 0:
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise RuntimeError("the bot did not start")
                time.sleep(0.005)
            elapsed = time.perf_counter() - started
            peak = 0
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
        finally:
            proc.terminate()
            proc.wait(30)
    return elapsed, peak


def bench_startup() -> None:
    print("Start-up (python -m bot run to its first getUpdates)")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'start.db'}"
        for label in ("new database (migrations, seeding)", "existing database"):
            elapsed, peak = _startup(url)
            print(f"  {label}: {elapsed:.2f} s, peak memory (RSS) {peak / 1024:.0f} MiB")


SECTIONS = ("faq", "throughput", "broadcast", "startup", "city")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description="Print the benchmark figures."
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable; default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small workloads: checks the bench runs, fast"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    sections = args.only or SECTIONS
    if "faq" in sections:
        bench_faq()
    if "throughput" in sections:
        asyncio.run(bench_throughput(200 if args.quick else 2000))
    if "broadcast" in sections:
        asyncio.run(bench_broadcast(20 if args.quick else 200))
    if "startup" in sections:
        bench_startup()
    if "city" in sections:
        from benchmarks.city_bench import bench_city

        bench_city(quick=args.quick)
    print(f"(measured {dt.datetime.now():%Y-%m-%d %H:%M}; 2-core machine; figures vary a few %)")


if __name__ == "__main__":
    main()
