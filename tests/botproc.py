"""Helpers for tests that run ``python -m bot run`` as a subprocess against FakeBotAPI: a
temporary config file, starting, waiting for the first long poll, killing, reading the log."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.app import FAQ_READY
from bot.core.config import DEFAULT_CONFIG_PATH
from harness.fakeapi import ApiCall, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, **sections: dict[str, str]) -> Path:
    """config.toml with some keys replaced: ``write_config(p, telegram={"health_port": "0"})``.
    Values are TOML literals; each key must already be in its table."""
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    for table, values in sections.items():
        header = re.search(rf"^\[{re.escape(table)}\]\s*$", text, re.M)
        assert header, table
        start = header.end()
        nxt = re.search(r"^\[", text[start:], re.M)
        end = start + nxt.start() if nxt else len(text)
        body = text[start:end]
        for key, value in values.items():
            body, n = re.subn(
                rf"^{re.escape(key)}\s*=.*$", f"{key} = {value}", body, count=1, flags=re.M
            )
            assert n == 1, f"[{table}] {key} not in config.toml"
        text = text[:start] + body + text[end:]
    path.write_text(text, encoding="utf-8")
    return path


class BotProcess:
    """One ``python -m bot [--now ...] run`` with its output in a log file."""

    def __init__(
        self,
        api: FakeBotAPI | None,
        tmp_path: Path,
        *,
        name: str = "bot",
        now: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.api = api
        self.log_path = tmp_path / f"{name}.log"
        base = {
            **os.environ,
            "LOG_LEVEL": "INFO",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        }
        for key in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "LOG_FORMAT"):
            base.pop(key, None)
        if api is not None:
            base |= {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
        self.env = base | (env or {})
        argv = [sys.executable, "-m", "bot"] + (["--now", now] if now else []) + ["run"]
        self._log = self.log_path.open("wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"the bot exited ({self.proc.returncode}):\n{self.log()[-3000:]}")

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def wait_polling(self, timeout: float = 60, *, faq: bool = True) -> float:
        """Until the bot's first long poll is waiting in the fake server and (unless ``faq`` is
        False) its FAQ answers: it serves commands before, and builds the index once the
        start-up's reminders have gone out (bot.app). The seconds it took to poll."""
        assert self.api is not None
        self.wait_until(lambda: self.api.pending_polls > 0, timeout, "the first getUpdates")
        polled = time.monotonic() - self.started
        if faq:
            self.wait_until(lambda: FAQ_READY in self.log(), timeout, "the FAQ index")
        return polled

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def delivered(call: ApiCall) -> bool:
    """Telegram took the message: a normal answer, or a 2xx whose body was garbled (the fake
    stores nothing for that one, but a real server would have sent the message)."""
    return call.ok or call.fault == "malformed"


def say(api: FakeBotAPI, text: str, uid: int, timeout: float = 20, **kw) -> ApiCall:
    """A private message from ``uid``; the bot's next sendMessage to that chat."""
    mark = api.mark()
    api.send_text(text, user_id=uid, **kw)
    return api.wait_for_call(
        "sendMessage", lambda c: c.params["chat_id"] == uid, after=mark, timeout=timeout
    )


def press(api: FakeBotAPI, message_call: ApiCall, index: int, uid: int, timeout: float = 20):
    """Press the ``index``-th button of a message the bot sent or edited; the edit it answers."""
    mark = api.mark()
    markup = message_call.params["reply_markup"]["inline_keyboard"]
    data = [b["callback_data"] for row in markup for b in row][index]
    api.press_button(message_call.result, data, user_id=uid)
    return api.wait_for_call("editMessageText", after=mark, timeout=timeout)
