"""The offline sandbox: the very same Application, fed from the terminal, printing its replies.

Lines are messages from the current user in the current chat. Lines for the sandbox itself:
  /as group | /as private     switch the chat
  /user NAME                  switch who speaks (each name is a different Telegram user)
  /now 2022-09-14 10:00       move the clock (/now real: back to the real time); it starts
                              inside the campaign ([sandbox] start), unless --now is given
  /reply TEXT                 send TEXT as a reply to the bot's last message in this chat
  /press N                    press button N of the bot's last message with buttons
  /invite UNIT ROLE           issue an invite code (UNIT: a code or a name), as `python -m bot invite` does on the server
  /bind                       (no code) bind with the code /invite issued last
  /import KIND PATH           import a units, roster or results file, as `python -m bot KIND import` does
  /upload PATH                send the file at PATH as a document (a question bank)
  /demo                       load a small demo unit tree and roster to try admin features, and
                              write the demo's files (a question bank, a roster, results) to data/sandbox-out/
  /quit                       leave (end of input does the same)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application
from bot.context import AppContext
from bot.core import words
from bot.core.errors import Refused
from bot.core.render import strip_html
from bot.platform.sandbox import SandboxGateway
from bot.sandbox import server
from bot.sandbox.demo import load_demo, write_demo_files
from bot.sandbox.offline import BOT_ID, ApiCall, OfflineRequest
from bot.sandbox.telegram_text import text_entities
from handlers import platform as platform_worker
from reminders.scheduler import on_clock_moved

SANDBOX_TOKEN = f"{BOT_ID}:sandbox-offline-token"
SANDBOX_DATABASE = "sqlite:///data/sandbox.db"
DEFAULT_GROUP_ID = -1001000000001
OUT_DIR = Path("data/sandbox-out")  # where the files the bot sends are written
WORDS_FILE = Path(__file__).with_name("sandbox.toml")


def _catalogue() -> dict[str, dict[str, Any]]:
    return words.load(WORDS_FILE)


def word(name: str) -> Any:
    """One of the sandbox's words (sandbox.toml [words])."""
    return _catalogue()["words"][name]


def say(name: str, **params: Any) -> str:
    """One of the sandbox's meta lines (sandbox.toml [lines]), filled in."""
    return str(_catalogue()["lines"][name]).format(**params)


class Sandbox:
    def __init__(self, ctx: AppContext, out: TextIO = sys.stdout) -> None:
        self.ctx = ctx
        self.out = out
        ctx.gateway = SandboxGateway()  # the stand-in platform: tasks are applied at once
        self.request = OfflineRequest()
        self.app = build_application(ctx, SANDBOX_TOKEN, request=self.request, rate_limit=False)
        groups = ctx.config.telegram.group_chat_ids
        self.group_id = groups[0] if groups else DEFAULT_GROUP_ID
        self.in_group = False
        self.users: dict[str, int] = {}
        self.user: str = word("default_user")
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100000)
        self._printed = 0
        self.last_bot_message: dict[int, dict[str, Any]] = {}
        self.last_buttons: tuple[dict[str, Any], list[tuple[str, str]]] | None = None
        self.out_dir = OUT_DIR
        self.last_invite: str | None = None  # what a bare /bind binds with

    # --- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> Sandbox:
        await self.app.initialize()
        if self.app.post_init is not None:  # run_polling would call it; here we do
            await self.app.post_init(self.app)
        await asyncio.to_thread(lambda: self.ctx.faq)  # the sandbox answers from its first line
        await self.app.start()
        self._printed = self.request.mark()  # start-up calls (getMe, menus) are not output
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()
        await self.app.shutdown()
        if self.app.post_shutdown is not None:  # as run_polling would (stops the reminders)
            await self.app.post_shutdown(self.app)

    # --- who and where -----------------------------------------------------------------------
    def user_id(self, name: str | None = None) -> int:
        name = name or self.user
        if name not in self.users:
            self.users[name] = 10001 + len(self.users)
        return self.users[name]

    @property
    def chat_id(self) -> int:
        return self.group_id if self.in_group else self.user_id()

    def _chat(self) -> dict[str, Any]:
        if self.in_group:
            return {"id": self.group_id, "type": "supergroup", "title": word("group_title")}
        return {"id": self.chat_id, "type": "private", "first_name": self.user}

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id(),
            "is_bot": False,
            "first_name": self.user,
            "language_code": "zh-hans",
        }

    # --- input -------------------------------------------------------------------------------
    async def send(
        self,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        user: str | None = None,
        group: bool | None = None,
    ) -> list[str]:
        """``text`` from the current user in the current chat (or from ``user`` / in the group
        when ``group`` is given, for this one message)."""
        if user is not None or group is not None:
            saved = self.user, self.in_group
            self.user = user if user is not None else self.user
            self.in_group = group if group is not None else self.in_group
            try:
                return await self.send(text, reply_to=reply_to)
            finally:
                self.user, self.in_group = saved
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._from(),
            "text": text,
        }
        entities = text_entities(text, lenient_command=True)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return await self._process({"update_id": next(self._update_ids), "message": message})

    async def upload(self, path_text: str) -> list[str]:
        """The file at ``path_text`` as a document message from the current user in the current
        chat, served to the bot's download as Telegram would serve it."""
        path = Path(path_text).expanduser()
        if not path_text or not path.is_file():
            return [say("upload_usage", path=path_text)]
        content = path.read_bytes()
        file_id = f"upload{next(self._message_ids)}"
        self.request.add_file(file_id, content)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._from(),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": path.name,
                "file_size": len(content),
            },
        }
        return await self._process({"update_id": next(self._update_ids), "message": message})

    def _save_sent_files(self, call: ApiCall) -> list[str]:
        """Write the files the bot sent under ``out_dir``; one line per file with its path."""
        lines = []
        for field_tuple in call.files.values():
            if not isinstance(field_tuple, tuple) or len(field_tuple) < 2:
                continue
            name = Path(str(field_tuple[0] or "file")).name
            self.out_dir.mkdir(parents=True, exist_ok=True)
            target = self.out_dir / name
            target.write_bytes(field_tuple[1])
            lines.append(say("file_saved", path=target))
        return lines

    async def press(self, index: int) -> list[str]:
        if self.last_buttons is None:
            return [say("no_buttons")]
        message, buttons = self.last_buttons
        if not 1 <= index <= len(buttons):
            return [say("button_range", count=len(buttons))]
        query = {
            "id": str(next(self._update_ids)),
            "from": self._from(),
            "chat_instance": str(message["chat"]["id"]),
            "message": message,
            "data": buttons[index - 1][1],
        }
        return await self._process({"update_id": next(self._update_ids), "callback_query": query})

    async def _process(self, data: dict[str, Any]) -> list[str]:
        update = Update.de_json(data, self.app.bot)
        await self.app.process_update(update)
        return self.drain()

    async def settle(self) -> list[str]:
        """Let the stand-in platform answer now: the result of what was just submitted (已重置 …)
        shows right after the 已提交 it follows, not whenever the worker's job next runs."""
        await platform_worker.run_once(self.app)
        return self.drain()

    def drain(self) -> list[str]:
        """Everything the bot said since the last call, as a person would read it."""
        lines: list[str] = []
        for call in self.request.calls[self._printed :]:
            lines.extend(self._show(call))
        self._printed = len(self.request.calls)
        return lines

    def _show(self, call: ApiCall) -> list[str]:
        p = call.params
        if call.method not in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            if call.method == "answerCallbackQuery" and p.get("text"):
                return [say("hint", text=p["text"])]
            return []
        chat_id = int(p.get("chat_id", 0))
        where = say("in_group") if chat_id < 0 else say("in_private")
        body = strip_html(str(p.get("text") or p.get("caption") or ""))
        if call.method == "sendDocument":
            body = say("document", text=body).strip()
        if call.method == "editMessageText":
            where += say("edited")
        lines = [say("bot_says", where=where, body=body.replace("\n", "\n    "))]
        if call.method == "sendDocument":
            lines += self._save_sent_files(call)
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            buttons = [
                (b.get("text", ""), b.get("callback_data", ""))
                for row in markup["inline_keyboard"]
                for b in row
            ]
            lines.append("    " + "  ".join(f"[{i}] {t}" for i, (t, _) in enumerate(buttons, 1)))
            message = self.request.message_for(p)
            self.last_buttons = (message, buttons)
        self.last_bot_message[chat_id] = self.request.message_for(p)
        return lines

    # --- the line interpreter ----------------------------------------------------------------
    async def handle_line(self, line: str) -> list[str] | None:
        """Process one input line; None means quit."""
        line = line.strip()
        if not line:
            return []
        head, _, rest = line.partition(" ")
        rest = rest.strip()
        if head in ("/quit", "/exit"):
            return None
        if head == "/as":
            if rest in word("group_names"):
                self.in_group = True
                return [say("now_group", chat_id=self.group_id)]
            if rest in word("private_names"):
                self.in_group = False
                return [say("now_private", user=self.user)]
            return [say("as_usage")]
        if head == "/user":
            if not rest:
                return [say("who", user=self.user, user_id=self.user_id())]
            self.user = rest[:32]
            return [say("user_switched", user=self.user, user_id=self.user_id())]
        if head == "/now":
            return await self.set_clock(rest)
        if head == "/press":
            try:
                return await self.press(int(rest))
            except ValueError:
                return [say("press_usage")]
        if head == "/invite":
            return self.invite(rest)
        if head == "/bind" and not rest and self.last_invite is not None:
            code, self.last_invite = self.last_invite, None  # a code binds once
            return [say("bind_last", code=code), *await self.send(f"/bind {code}")]
        if head == "/import":
            return self.import_file(rest)
        if head == "/demo":
            return self.demo()
        if head == "/upload":
            return await self.upload(rest)
        if head == "/reply":
            target = self.last_bot_message.get(self.chat_id)
            if target is None:
                return [say("nothing_to_reply")]
            return await self.send(rest, reply_to=target)
        return await self.send(line)

    def invite(self, text: str) -> list[str]:
        """An invite code, as the city office issues one on the server."""
        unit, _, role = text.strip().rpartition(" ")  # a unit's code or name, then the role
        if not unit.strip() or not role:
            return [say("invite_usage")]
        try:
            issued = server.issue_invite(self.ctx, unit.strip(), role)
        except Refused as refusal:
            return [say("refused", text=server.refusal_text(self.ctx, refusal))]
        self.last_invite = issued.code
        return [say("invite_issued", code=issued.code, unit=issued.unit_name)]

    def import_file(self, text: str) -> list[str]:
        """A units, roster or results file imported as on the server; its report."""
        kind, _, path = text.strip().partition(" ")
        report = server.import_file(self.ctx, kind, path.strip())
        if report is None:
            return [say("import_usage", path=path.strip())]
        return [say("server_says", body=report.replace("\n", "\n    "))]

    def start_clock(self) -> list[str]:
        """Put the clock inside the campaign ([sandbox] start; by default the first zone
        round's registration morning) unless ``--now`` already moved it, and say where it is:
        trying the bot at today's real date would find every window closed."""
        config = self.ctx.config
        start = config.sandbox.start
        if not self.ctx.clock.shifted and start != "real":
            if start is None:
                first = config.zone_rounds[0].registration_start
                start = dt.datetime.combine(first, config.reminders.morning)
            self.ctx.clock.set(start)
        now = self.ctx.clock.now()
        line = "start_clock" if self.ctx.clock.shifted else "clock"
        return [say(line, now=now, timezone=config.campaign.timezone)]

    def demo(self) -> list[str]:
        """Load the demo's units and learners (once) and write its files (every time)."""
        created = load_demo(self.ctx)
        files = write_demo_files(self.ctx.config, self.out_dir)
        lines = (
            [say("demo_exists")]
            if created is None
            else [say("demo_loaded", units=created.units, learners=created.learners)]
        )
        return lines + [say("file_saved", path=path) for path in files]

    async def set_clock(self, text: str) -> list[str]:
        """Move the clock; reminders that fall due by the new time are sent and shown."""
        if text in word("real_time"):
            self.ctx.clock.real()
        else:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                return [say("clock_usage")]
            self.ctx.clock.set(moment)
        now = self.ctx.clock.now()
        lines = [say("clock", now=now, timezone=self.ctx.config.campaign.timezone)]
        await on_clock_moved(self.app, group_ids=[self.group_id])
        return lines + self.drain()


async def run_sandbox(ctx: AppContext, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    async with Sandbox(ctx, out) as sandbox:
        if interactive:
            print(say("banner"), file=out, flush=True)
        for text in sandbox.start_clock():
            print(text, file=out, flush=True)
        while True:
            if interactive:
                print("> ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            lines = await sandbox.handle_line(line)
            if lines is None:
                break
            lines += await sandbox.settle()
            for text in lines:
                print(text, file=out, flush=True)
    return 0
