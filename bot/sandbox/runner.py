"""The offline sandbox: the very same Application, fed from the terminal, printing its replies.

Lines are messages from the current user in the current chat. Lines for the sandbox itself:
  /as group | /as private     switch the chat
  /user NAME                  switch who speaks (each name is a different Telegram user)
  /now 2022-09-14 10:00       move the clock (/now real: back to the real time)
  /reply TEXT                 send TEXT as a reply to the bot's last message in this chat
  /press N                    press button N of the bot's last message with buttons
  /invite UNIT ROLE           issue an invite code, as `python -m bot invite` does on the server
  /demo                       load a small demo unit tree and roster to try admin features
  /quit                       leave (end of input does the same)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sys
import time
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application
from bot.context import AppContext
from bot.core.render import strip_html
from bot.sandbox.offline import BOT_ID, BOT_USERNAME, ApiCall, OfflineRequest
from reminders.scheduler import on_clock_moved

SANDBOX_TOKEN = f"{BOT_ID}:sandbox-offline-token"
SANDBOX_DATABASE = "sqlite:///data/sandbox.db"
DEFAULT_GROUP_ID = -1001000000001
BANNER = (
    "学法考法管理员助手 · 离线沙盒（不连接 Telegram）\n"
    "直接输入问题或命令；/as group|private 切换群聊/私聊，/user 名字 切换用户，"
    "/now 2022-09-14 10:00 调整时间，/press N 点按钮，/reply 文本 回复机器人，\n"
    "/demo 载入演示单位和学员，/invite 单位编码 角色 生成邀请码（相当于服务器上的 python -m bot invite），/quit 退出。"
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str, bot_username: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach: a leading bot command and @mentions of the bot."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/"):
        word = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(word)})
    mention = f"@{bot_username}"
    start = text.find(mention)
    while start >= 0:
        if not (start == 0 and text.startswith("/")):
            entities.append(
                {"type": "mention", "offset": utf16_len(text[:start]), "length": utf16_len(mention)}
            )
        start = text.find(mention, start + len(mention))
    return entities


class Sandbox:
    def __init__(self, ctx: AppContext, out: TextIO = sys.stdout) -> None:
        self.ctx = ctx
        self.out = out
        self.request = OfflineRequest()
        self.app = build_application(ctx, SANDBOX_TOKEN, request=self.request, rate_limit=False)
        groups = ctx.config.telegram.group_chat_ids
        self.group_id = groups[0] if groups else DEFAULT_GROUP_ID
        self.in_group = False
        self.users: dict[str, int] = {}
        self.user = "管理员"
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100000)
        self._printed = 0
        self.last_bot_message: dict[int, dict[str, Any]] = {}
        self.last_buttons: tuple[dict[str, Any], list[tuple[str, str]]] | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> Sandbox:
        await self.app.initialize()
        if self.app.post_init is not None:  # run_polling would call it; here we do
            await self.app.post_init(self.app)
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
            return {"id": self.group_id, "type": "supergroup", "title": "学法考法管理员联络群"}
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
        entities = entities_for(text, BOT_USERNAME)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return await self._process({"update_id": next(self._update_ids), "message": message})

    async def press(self, index: int) -> list[str]:
        if self.last_buttons is None:
            return ["（没有可以点的按钮）"]
        message, buttons = self.last_buttons
        if not 1 <= index <= len(buttons):
            return [f"（按钮编号应为 1 到 {len(buttons)}）"]
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
                return [f"[提示] {p['text']}"]
            return []
        chat_id = int(p.get("chat_id", 0))
        where = "群" if chat_id < 0 else "私聊"
        body = strip_html(str(p.get("text") or p.get("caption") or ""))
        if call.method == "sendDocument":
            body = f"[文件] {body}".strip()
        if call.method == "editMessageText":
            where += "·更新"
        lines = [f"bot（{where}）> " + body.replace("\n", "\n    ")]
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            buttons = [
                (b.get("text", ""), b.get("callback_data", ""))
                for row in markup["inline_keyboard"]
                for b in row
            ]
            lines.append("    " + "  ".join(f"[{i}] {t}" for i, (t, _) in enumerate(buttons, 1)))
            message = self.request._message(p)
            self.last_buttons = (message, buttons)
        self.last_bot_message[chat_id] = self.request._message(p)
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
            if rest in ("group", "群", "群聊"):
                self.in_group = True
                return [f"（现在在群聊 {self.group_id}）"]
            if rest in ("private", "私聊"):
                self.in_group = False
                return [f"（现在是 {self.user} 的私聊）"]
            return ["（用法：/as group 或 /as private）"]
        if head == "/user":
            if not rest:
                return [f"（当前用户：{self.user}，id {self.user_id()}）"]
            self.user = rest[:32]
            return [f"（现在由 {self.user} 发言，id {self.user_id()}）"]
        if head == "/now":
            return await self.set_clock(rest)
        if head == "/press":
            try:
                return await self.press(int(rest))
            except ValueError:
                return ["（用法：/press 按钮编号）"]
        if head == "/invite":
            return self.invite(rest)
        if head == "/demo":
            return self.demo()
        if head == "/reply":
            target = self.last_bot_message.get(self.chat_id)
            if target is None:
                return ["（这里还没有机器人的消息可回复）"]
            return await self.send(rest, reply_to=target)
        return await self.send(line)

    def invite(self, text: str) -> list[str]:
        from bot.core.errors import Refused
        from bot.org import admins

        parts = text.split()
        if len(parts) != 2:
            return [
                "（用法：/invite 单位编码 角色，角色为 city / county / unit，例如 /invite 市司法局 unit）"
            ]
        try:
            with self.ctx.db.session() as session:
                issued = admins.issue_invite(
                    session, self.ctx.config, unit_code=parts[0], role=parts[1], now=self.ctx.now()
                )
        except Refused as refusal:
            return [f"（{strip_html(refusal.render(c=self.ctx.config))}）"]
        return [
            f"（邀请码：{issued.code}，单位：{issued.unit_name}。私聊发送 /bind {issued.code} 绑定）"
        ]

    def demo(self) -> list[str]:
        from bot.sandbox.demo import load_demo

        created = load_demo(self.ctx)
        if not created:
            return ["（演示数据已存在）"]
        return [
            f"（已载入演示数据：{created.units} 个单位、{created.learners} 名学员。"
            "试试 /invite LY-JY unit，然后 /bind 邀请码、/resetpw ly1zhang）"
        ]

    async def set_clock(self, text: str) -> list[str]:
        """Move the clock; reminders that fall due by the new time are sent and shown."""
        if text in ("real", "现在"):
            self.ctx.clock.real()
        else:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                return ["（时间格式：/now 2022-09-14 10:00）"]
            self.ctx.clock.set(moment)
        now = self.ctx.clock.now()
        lines = [f"（时间：{now:%Y-%m-%d %H:%M} {self.ctx.config.campaign.timezone}）"]
        await on_clock_moved(self.app, group_ids=[self.group_id])
        return lines + self.drain()


async def run_sandbox(ctx: AppContext, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    async with Sandbox(ctx, out) as sandbox:
        if interactive:
            print(BANNER, file=out, flush=True)
        while True:
            if interactive:
                print("> ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            lines = await sandbox.handle_line(line)
            if lines is None:
                break
            for text in lines:
                print(text, file=out, flush=True)
    return 0
