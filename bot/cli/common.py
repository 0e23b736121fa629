"""What every command-line action shares: opening the application context from the
arguments (config, database, an optional ``--now``), and the progress line of a long import or
export."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from bot.core import words
from bot.core.clock import Clock
from bot.core.config import Config, ConfigError, load_config
from bot.core.render import render, strip_html

if TYPE_CHECKING:  # the context (database, FAQ, platform) is loaded by the commands that use it
    from bot.context import AppContext
    from bot.core.tabular import ImportFileError, ImportReport, ImportRequest
    from bot.core.uow import UnitOfWork

    ImportService = Callable[[UnitOfWork, ImportRequest], ImportReport]


def open_context(
    args: argparse.Namespace,
    db_url: str | None = None,
    *,
    config: Config | None = None,
    map_units: bool = True,
) -> AppContext:
    """Load the config named by ``--config`` (unless the caller has, ``config``), move the
    clock to ``--now`` if given, and open the database (migrated and seeded; ``map_units``
    False leaves the unit mapping to the bot, once it polls: ``bot.app``)."""
    from bot.context import create_context

    config = config or load_config(args.config)
    clock = Clock(config.tz)
    if getattr(args, "now", None):
        try:
            clock.set(dt.datetime.fromisoformat(args.now))
        except ValueError:
            raise ConfigError(f"--now 格式不对 / bad --now: {args.now!r} (ISO 8601)") from None
    return create_context(config, clock=clock, db_url=db_url, map_units=map_units)


def say(ctx: AppContext, template: str, **variables: Any) -> str:
    """A template rendered for the terminal: the config as ``c``, HTML tags stripped."""
    return strip_html(render(template, c=ctx.config, **variables))


def run_import(
    args: argparse.Namespace,
    kind: str,
    service: ImportService,
    refused: Callable[[ImportFileError], None],
) -> int:
    """``… import FILE [--skip-bad]``: read the file within the config's limits, then check and
    write it in one unit of work, with a progress line on stderr for a long one; the report on
    stdout. ``refused`` says why a file cannot be imported at all. 0: all written; 1: rows
    refused (or skipped); 2: the file refused."""
    from pathlib import Path

    from bot.core import tabular
    from bot.core.uow import Origin

    with ProgressLine() as progress:
        try:
            limits = load_config(args.config).imports
            rows = tabular.read_table(args.file, kind, progress=progress, **limits.limits())
        except tabular.ImportFileError as exc:
            progress.close()
            refused(exc)
            return 2
        request = tabular.ImportRequest(
            rows, skip_bad=args.skip_bad, source=Path(args.file).name, progress=progress
        )
        ctx = open_context(args)
        try:
            report = ctx.run_sync(lambda uow: service(uow, request), Origin.cli())
        finally:
            ctx.db.dispose()
    print(report.render())
    return 0 if report.written and not report.errors else 1


# --- progress ---------------------------------------------------------------------------------

AFTER_SECONDS = 2.0  # a command quicker than this prints no progress at all
TTY_EVERY = 1.0  # a terminal's line is rewritten at most once a second
LOG_EVERY = 10.0  # elsewhere (a log, a pipe) a line every ten seconds


class ProgressLine:
    """How far a long import or export has come, on stderr: the step, the rows done (of how
    many, where known), rows a second and the time the step still needs. Nothing for a command
    that ends within ``after`` seconds; then at most once every ``every`` seconds: on a terminal
    one line rewritten in place (a second apart), elsewhere a line of its own (ten seconds
    apart), so a log is not flooded. A new step is shown at once. It is a
    ``bot.core.tabular.Progress``: the services call it and never print."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        after: float | None = None,
        every: float | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.clock = clock
        self.after = after if after is not None else AFTER_SECONDS
        self.every = every if every is not None else (TTY_EVERY if self.tty else LOG_EVERY)
        self.started = clock()
        self.shown_at: float | None = None
        self.step = ""
        self.step_started = self.started
        self.step_done = 0
        self.width = 0  # of the line on a terminal, to blank out what a longer one left

    def __call__(self, step: str, done: int, total: int | None) -> None:
        now = self.clock()
        new_step = step != self.step
        if new_step:
            self.step, self.step_started, self.step_done = step, now, done
        if now - self.started < self.after:
            return
        if not new_step and self.shown_at is not None and now - self.shown_at < self.every:
            return
        self.shown_at = now
        self._show(self.line(done, total, now))

    def line(self, done: int, total: int | None, now: float) -> str:
        """The text shown for ``done`` of ``total`` rows of the current step at ``now``."""
        say = _progress_words()
        step = say["steps"].get(self.step, self.step)
        spent = now - self.step_started
        rows = done - self.step_done
        if rows <= 0:  # a step starting (or one done in one go, as the database's statements)
            if total:
                return say["starting_total"].format(step=step, total=f"{total:,}")
            return say["starting"].format(step=step)
        if total is None:
            text = say["done"].format(step=step, done=f"{done:,}")
        else:
            percent = min(100, 100 * done // max(total, 1))
            text = say["of_total"].format(
                step=step, done=f"{done:,}", total=f"{total:,}", percent=percent
            )
        if spent >= 0.5 and rows > 0:
            rate = rows / spent
            text += say["rate"].format(rate=f"{rate:,.0f}")
            if total is not None and total > done:
                text += say["left"].format(left=_duration((total - done) / rate))
        return text

    def _show(self, text: str) -> None:
        if self.tty:
            pad = " " * max(0, self.width - len(text))
            self.width = len(text)
            self.stream.write(f"\r{text}{pad}")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal (the command's own output starts on a line of its own)."""
        if self.tty and self.shown_at is not None:
            self.stream.write("\n")
            self.stream.flush()
        self.shown_at = None  # closed twice, the line still ends once

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _progress_words() -> dict[str, Any]:
    return words.beside(__file__, "cli.toml")["progress"]


def _duration(seconds: float) -> str:
    """Seconds as the progress line says them: "12 秒", "3 分 05 秒"."""
    say = _progress_words()
    whole = max(0, round(seconds))
    if whole < 60:
        return str(say["seconds"].format(s=whole))
    return str(say["minutes"].format(m=whole // 60, s=f"{whole % 60:02d}"))
