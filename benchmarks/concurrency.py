"""``make bench`` section "concurrency": nobody waits behind anybody (issue 17).

Each run is a bot process of its own (as in production: its own heap, and its first export
starts the export worker): the real Application on the sandbox's offline Telegram
(``bot.sandbox.runner.Sandbox``; updates go through ``update_queue`` as polling delivers them, so
the per-chat ordering applies), on a fresh copy of the generated city's database
(``benchmarks.city``, loaded once through the command line and cached under the temp folder).
While the city office's ``/results_export`` runs in the bot, again and again, and a whole-city
roster import runs beside it in its own process (``python -m bot roster import``, as the city
office runs it, on the same database, every learner's credits changed), a group FAQ question
arrives every ``1 / RATE`` seconds; each answer's latency is measured from the moment its
question was due (a late sender counts against the bot, not for it). A watchdog task sleeps
``TICK`` and records how late it wakes: the event loop's stalls. A bare event loop in a process
of its own does the same meanwhile (the control: how late any loop wakes on this machine at that
moment). The idle figures (the same questions, nothing else running) come from a run just before
each loaded one, so both see the same machine.

``python -m benchmarks.concurrency [--quick] [--runs N] [--verbose]`` runs this section alone;
``--verbose`` prints each loaded run's timeline (exports, the import, stalls, full GCs).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import gc
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update

from benchmarks import city
from benchmarks.city_bench import ROOT, _cli
from bot.context import create_context
from bot.core.config import load_config
from bot.sandbox import server
from bot.sandbox.offline import ApiCall
from bot.sandbox.runner import Sandbox
from bot.seed import ROOT_CODE

CACHE = Path(tempfile.gettempdir()) / "xuefa-bench"
CACHE_VERSION = 1  # bump when the loaded database's recipe changes
RATE = 20  # group FAQ questions per second
TICK = 0.010  # the watchdog's sleep, seconds
IDLE_SECONDS = 6.0
QUESTIONS = ("补考什么时候报名", "集中考试在哪", "重置后密码是多少", "考试时间多长", "多少分及格")
CITY_USER = "市办"
CREDITS_COLUMN = "总学分"
ROSTER = "roster-credits.csv"  # the roster the loaded runs import
P99_TARGET_MS = 150
STALL_TARGET_MS = 50


@dataclass
class Run:
    """What one run saw, in seconds."""

    latencies: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)
    exports: list[float] = field(default_factory=list)
    collections: list[float] = field(default_factory=list)  # the bot's full GC pauses
    control: list[float] = field(default_factory=list)  # a bare event loop's stalls, meanwhile
    own_stalls: list[float] = field(default_factory=list)  # less the loop's wait for a CPU
    import_seconds: float | None = None
    asked: int = 0
    started: float = field(default_factory=time.perf_counter)
    events: list[tuple[float, str]] = field(default_factory=list)  # for --verbose

    def note(self, what: str, at: float | None = None) -> None:
        self.events.append(((at or time.perf_counter()) - self.started, what))

    def p(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


# --- the city ----------------------------------------------------------------------------------


def loaded_city(learners: int) -> Path:
    """A folder with the city's files and ``city.db``: units, roster and three results rounds
    imported through the command line; built once per size, then reused."""
    root = CACHE / f"concurrency-{learners}-v{CACHE_VERSION}"
    if (root / "ready").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    files = root / "files"
    city.generate(files, learners_count=learners)
    url = f"sqlite:///{root / 'city.db'}"
    _cli(url, "units", "import", str(files / "units.csv"))
    _, _, out = _cli(url, "roster", "import", str(files / "roster.csv"))
    if f"新增 {learners}" not in out:
        raise RuntimeError(f"the roster was not imported whole: {out[-500:]}")
    for name in ("results_zone1", "results_zone2", "results_makeup"):
        _cli(url, "results", "import", str(files / f"{name}.csv"))
    _credits_changed(files / "roster.csv", root / ROSTER)
    (root / "ready").touch()
    return root


def _credits_changed(source: Path, target: Path) -> None:
    """The same roster a few weeks on: every learner's total credits changed, so the import
    writes every row (an unchanged file would write nothing)."""
    with source.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    column = rows[0].index(CREDITS_COLUMN)
    for row in rows[1:]:
        row[column] = str(int(row[column]) + 5)
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)


# --- the bot's traffic -------------------------------------------------------------------------


class Traffic:
    """Updates into the running Application, and what it answered, as they happen."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.ids = itertools.count(1_000_000)
        self.pending: deque[float] = deque()  # due times of unanswered group questions
        self.latencies: list[float] = []
        self.documents: asyncio.Queue[float] = asyncio.Queue()
        sandbox.request.listeners.append(self._seen)

    def _seen(self, call: ApiCall) -> None:
        """Called as each Bot API call is made: the group's answers come in question order
        (one chat's updates are processed in order), one answer per question."""
        now = time.perf_counter()
        chat = int(call.params.get("chat_id", 0))
        if call.method == "sendMessage" and chat == self.sandbox.group_id and self.pending:
            self.latencies.append(now - self.pending.popleft())
        elif call.method == "sendDocument":
            self.documents.put_nowait(now)

    def _put(self, text: str, chat: dict[str, Any], user_id: int) -> None:
        number = next(self.ids)
        message: dict[str, Any] = {
            "message_id": number,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": "u"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        update = Update.de_json({"update_id": number, "message": message}, self.sandbox.app.bot)
        self.sandbox.app.update_queue.put_nowait(update)

    def ask(self, text: str, due: float) -> None:
        """A group question from one of a few dozen members."""
        self.pending.append(due)
        user = 20_000 + len(self.latencies) % 40
        chat = {"id": self.sandbox.group_id, "type": "supergroup", "title": "g"}
        self._put(text, chat, user)

    async def export(self, run: Run) -> float:
        """``/results_export`` from the city office; seconds until both files were sent."""
        user = self.sandbox.user_id(CITY_USER)
        started = time.perf_counter()
        run.note("/results_export sent")
        self._put("/results_export", {"id": user, "type": "private", "first_name": "u"}, user)
        await self.documents.get()
        await self.documents.get()
        run.note("/results_export answered")
        return time.perf_counter() - started


async def _questions(traffic: Traffic, stop: asyncio.Event, run: Run) -> None:
    """One group question every 1 / RATE seconds, on a fixed schedule."""
    start = time.perf_counter()
    for i in itertools.count():
        due = start + i / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if stop.is_set():
            return
        traffic.ask(QUESTIONS[i % len(QUESTIONS)], due)
        run.asked += 1


SCHEDSTAT = Path("/proc/thread-self/schedstat")  # Linux: on-CPU and run-queue time, ns


def _queued() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (0 where unknown)."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def _watchdog(stop: asyncio.Event, run: Run) -> None:
    """Sleep TICK, again and again; how much later than asked each wake-up came, and how much
    of that the loop's thread spent waiting for a CPU (the machine busy, not the bot)."""
    while not stop.is_set():
        started, queued = time.perf_counter(), _queued()
        await asyncio.sleep(TICK)
        late = time.perf_counter() - started - TICK
        own = max(0.0, late - (_queued() - queued))
        run.stalls.append(late)
        run.own_stalls.append(own)
        if late * 1000 > STALL_TARGET_MS:
            run.note(
                f"loop stalled {late * 1000:.0f} ms ({own * 1000:.0f} ms not waiting for a CPU)",
                started,
            )


async def _settle(traffic: Traffic, timeout: float = 30.0) -> None:
    """Until every question asked has its answer."""
    deadline = time.perf_counter() + timeout
    while traffic.pending and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    if traffic.pending:
        raise RuntimeError(f"{len(traffic.pending)} group questions got no answer")


async def _load(traffic: Traffic, url: str, roster: Path, run: Run) -> None:
    """The roster import in its own process; exports one after another until it is done."""
    run.note("roster import started")
    importing = asyncio.ensure_future(asyncio.to_thread(_cli, url, "roster", "import", str(roster)))
    importing.add_done_callback(lambda _: run.note("roster import done"))
    while True:
        run.exports.append(await traffic.export(run))
        if importing.done():
            break
    seconds, _peak, out = await importing
    if "更新" not in out:
        raise RuntimeError(f"the roster import failed: {out[-500:]}")
    run.import_seconds = seconds


async def measure(db: Path, roster: Path | None, idle_seconds: float = IDLE_SECONDS) -> Run:
    """One run on ``db``: questions and the watchdog, with the load (``roster`` given) or idle
    for ``idle_seconds``."""
    url = f"sqlite:///{db}"
    ctx = create_context(load_config(), db_url=url)  # a cache older than the code: migrated
    run = Run()
    async with Sandbox(ctx) as sandbox:
        sandbox.start_clock()
        invite = server.issue_invite(ctx, ROOT_CODE, "city")
        await sandbox.send(f"/bind {invite.code}", user=CITY_USER)
        traffic = Traffic(sandbox)
        for text in QUESTIONS:  # warm: every question answers (the bench counts on it)
            traffic.ask(text, time.perf_counter())
        await _settle(traffic)
        traffic.latencies.clear()
        stop = asyncio.Event()
        run.started = time.perf_counter()
        timer = _Collections(run)
        gc.callbacks.append(timer)
        control = await _Control.start()
        tasks = [
            asyncio.create_task(_watchdog(stop, run)),
            asyncio.create_task(_questions(traffic, stop, run)),
        ]
        if roster is None:
            await asyncio.sleep(idle_seconds)
        else:
            await _load(traffic, url, roster, run)
        stop.set()
        await asyncio.gather(*tasks)
        run.control = await control.stop(run)
        gc.callbacks.remove(timer)
        await _settle(traffic)
        run.latencies = traffic.latencies
    return run


# A bare event loop in a process of its own, doing nothing but the watchdog: how late a loop
# wakes on this machine at this moment whatever the bot does (other processes' CPU use).
CONTROL = f"""
import asyncio, sys, time
async def main():
    stalls, eof = [], asyncio.Event()
    asyncio.get_running_loop().add_reader(0, eof.set)
    print("ready", flush=True)
    while not eof.is_set():
        started = time.perf_counter()
        await asyncio.sleep({TICK})
        stalls.append((started, time.perf_counter() - started - {TICK}))
    for started, late in stalls:
        print(started, late)
asyncio.run(main())
"""


class _Control:
    """The control watchdog's process: started before the load, stopped after it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> _Control:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CONTROL, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        await proc.stdout.readline()  # "ready"
        return cls(proc)

    async def stop(self, run: Run) -> list[float]:
        """Its stalls (perf_counter is the system's monotonic clock: the same in both
        processes, so its late wake-ups join the run's timeline)."""
        out, _ = await self.proc.communicate(b"")
        stalls = []
        for line in out.decode().splitlines():
            started, late = (float(v) for v in line.split())
            stalls.append(late)
            if late * 1000 > STALL_TARGET_MS:
                run.note(f"  (bare loop stalled {late * 1000:.0f} ms)", started)
        return stalls


class _Collections:
    """Times the bot process's full (generation 2) garbage collections: they stop every
    thread, the loop's too."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self.started = time.perf_counter()
        else:
            pause = time.perf_counter() - self.started
            self.run.collections.append(pause)
            self.run.note(f"full GC {pause * 1000:.0f} ms", self.started)


def _copy(root: Path, work: Path) -> Path:
    """A fresh copy of the loaded database for one run (the import changes it)."""
    target = work / f"run-{time.monotonic_ns()}.db"
    shutil.copy(root / "city.db", target)
    return target


# --- the report --------------------------------------------------------------------------------


def _spread(values: list[float], scale: float = 1000.0, unit: str = "ms") -> str:
    shown = [v * scale for v in values]
    fmt = "{:.0f}" if unit == "ms" else "{:.1f}"
    median = fmt.format(statistics.median(shown))
    if len(shown) == 1:
        return f"{median} {unit}"
    return f"{median} {unit} ({fmt.format(min(shown))}–{fmt.format(max(shown))})"


def _lines(label: str, runs: list[Run]) -> Iterator[str]:
    yield (
        f"  {label}: FAQ answer p50 {_spread([r.p(0.5) for r in runs])}, "
        f"p99 {_spread([r.p(0.99) for r in runs])}, max {_spread([r.p(1.0) for r in runs])}; "
        f"longest loop stall {_spread([max(r.stalls) for r in runs])}, less the loop's wait for "
        f"a CPU {_spread([max(r.own_stalls) for r in runs])} (a bare loop in another process "
        f"meanwhile: {_spread([max(r.control) for r in runs])}); longest full GC in the bot "
        f"{_spread([max(r.collections, default=0.0) for r in runs])}"
    )


def _in_a_process(db: Path, roster: Path | None, idle_seconds: float) -> Run:
    """One run in a bot process of its own, as the bot runs in production: its heap, its
    first export (which starts the worker) and its leftovers are its own."""
    command = [sys.executable, "-m", "benchmarks.concurrency", "--one", str(db)]
    command += ["--roster", str(roster)] if roster else ["--seconds", str(idle_seconds)]
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"a concurrency run failed: {done.stderr[-2000:]}")
    fields = json.loads(done.stdout.splitlines()[-1])
    fields["events"] = [tuple(e) for e in fields["events"]]
    return Run(**fields)


def bench_concurrency(
    quick: bool = False, *, runs: int | None = None, verbose: bool = False
) -> None:
    learners = 3_000 if quick else 150_000
    runs = runs or (1 if quick else 3)
    idle_seconds = 2.0 if quick else IDLE_SECONDS
    root = loaded_city(learners)
    idle: list[Run] = []
    loaded: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):  # idle, then loaded, each pair on the same machine load
            idle.append(_in_a_process(_copy(root, Path(tmp)), None, idle_seconds))
            loaded.append(_in_a_process(_copy(root, Path(tmp)), root / ROSTER, idle_seconds))
    print(
        f"Concurrency ({learners:,}-learner city, SQLite; a group FAQ question every "
        f"{1000 // RATE} ms; {runs} paired runs, medians (range))"
    )
    for line in (*_lines("idle", idle), *_lines("during /results_export + roster import", loaded)):
        print(line)
    exports = [statistics.median(r.exports) for r in loaded]
    imports = [r.import_seconds or 0.0 for r in loaded]
    print(
        f"  targets: p99 <= {P99_TARGET_MS} ms, stall <= {STALL_TARGET_MS} ms; under load "
        f"{statistics.median([r.asked for r in loaded]):.0f} questions, "
        f"{statistics.median([len(r.exports) for r in loaded]):.0f} exports of "
        f"{_spread(exports, 1.0, 's')} each (the first starts the worker), roster import "
        f"{_spread(imports, 1.0, 's')}"
    )
    if verbose:
        for number, run in enumerate(loaded, start=1):
            print(f"  loaded run {number}:")
            for at, what in sorted(run.events):
                print(f"    {at:7.2f} s  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.concurrency")
    parser.add_argument("--quick", action="store_true", help="a small city, a few seconds")
    parser.add_argument("--runs", type=int, help="paired runs (default 3, quick 1)")
    parser.add_argument("--verbose", action="store_true", help="each loaded run's timeline")
    parser.add_argument("--one", type=Path, metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--roster", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=IDLE_SECONDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one run, for bench_concurrency: its figures as JSON on the last line
        run = asyncio.run(measure(args.one, args.roster, args.seconds))
        print(json.dumps(dataclasses.asdict(run)))
        return
    bench_concurrency(quick=args.quick, runs=args.runs, verbose=args.verbose)


if __name__ == "__main__":
    main()
