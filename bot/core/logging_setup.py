"""Logging to stderr, with secrets redacted from every record.

``LOG_FORMAT=json`` writes one JSON object per line (``ts``, ``level``, ``logger``, ``msg``, any
``extra=`` fields, ``exc`` for a traceback) for a log collector; the default is one plain text
line. Either way the bot token, the webhook secret, the database password and the platform's
default password (``add_secret``, once the config is loaded) are replaced by ``***`` — in the
message, in the extra fields and in tracebacks.

What people write is kept out as well, at every level. Invite codes and learner accounts travel
in message texts (``/bind CODE``, ``/resetpw ACCOUNT``), in button data and in the texts the bot
sends back, and python-telegram-bot logs all of them at DEBUG: every request's parameters, every
answer, every update. So before a record is formatted its arguments (and extra fields) are
scrubbed: in anything shaped like a Bot API request, answer or update — a dict, a list, a
Telegram object, a JSON text — the fields that carry text (``TEXT_FIELDS``) become ``***``,
keeping only a leading command ("/bind ***"); ids, dates and method names stay. In any other text
the arguments of the commands that take secrets (``SECRET_COMMANDS``) are cut off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
MASK = "***"

# The fields of Bot API requests, answers and updates that carry what someone wrote: message
# texts and captions, button labels and their callback data, inline queries, reply quotes.
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "data",
        "callback_data",
        "query",
        "quote",
        "switch_inline_query",
        "switch_inline_query_current_chat",
    }
)
# Commands whose arguments are secret: an invite code, a learner's account.
SECRET_COMMANDS = ("bind", "resetpw", "transfer", "exempt")
# A leading command is kept ("/bind ***"): lower case, as commands are written (invite codes
# are upper case, so a code typed with a slash in front is not kept as a "command").
_COMMAND_HEAD = re.compile(r"/[a-z][a-z0-9_]{0,31}(?:@[A-Za-z0-9_]{3,64})?")
_SECRET_ARGUMENTS = re.compile(
    rf"(?<![\w/])(/(?:{'|'.join(SECRET_COMMANDS)})[a-z0-9_]*(?:@[A-Za-z0-9_]+)?)"
    r"[ \t\u3000]+[^\s'\"`\\][^\n'\"`\\]*"
)
MAX_DEPTH = 32  # nesting scrubbed at most (updates nest a reply's reply a few levels deep)

# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class Redactor:
    """Replaces known secrets (and anything shaped like a bot token) in text."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._plain: list[str] = []
        self._words: list[re.Pattern[str]] = []
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str, *, word: bool = False) -> None:
        """``word``: only where it stands alone (a short password such as 000000 must not be
        cut out of a longer number, e.g. a chat id)."""
        secret = (secret or "").strip()
        if not secret:
            return
        if word:
            pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")
            if pattern.pattern not in {p.pattern for p in self._words}:
                self._words.append(pattern)
        elif secret not in self._plain:
            self._plain.append(secret)
            self._plain.sort(key=len, reverse=True)  # a secret inside another: longest first

    def __call__(self, text: str) -> str:
        for secret in self._plain:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in self._words:
            text = pattern.sub(MASK, text)
        text = _SECRET_ARGUMENTS.sub(rf"\1 {MASK}", text)
        return _TOKEN_SHAPE.sub(MASK, text)

    def value(self, value: Any) -> Any:
        """Redact inside JSON-like data; anything else becomes its (redacted) text."""
        if isinstance(value, str):
            return self(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return {str(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        return self(str(value))


def mask_text(text: str) -> str:
    """What a message text (or button data …) becomes in the log: ``***``, after its command
    when it starts with one."""
    head = _COMMAND_HEAD.match(text)
    if head is None:
        return MASK
    command, rest = head.group(), text[head.end() :]
    if not rest.strip():
        return command
    return f"{command} {MASK}" if rest[:1].isspace() else MASK


def scrub(value: Any, depth: int = 0) -> Any:
    """``value`` with the text fields of anything shaped like a Bot API request, answer or
    update masked (``TEXT_FIELDS``); Telegram objects become their dicts, JSON texts stay JSON
    texts. Anything else is returned as it is."""
    if depth > MAX_DEPTH:
        return MASK
    if isinstance(value, str):
        return _scrub_json_text(value, depth)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            key: mask_text(item)
            if key in TEXT_FIELDS and isinstance(item, str)
            else scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, depth + 1) for item in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # a Telegram object (an Update, a Message, a keyboard …)
        try:
            return scrub(to_dict(recursive=True), depth + 1)
        except Exception:  # not one after all: its name is all that is safe to say
            return type(value).__name__
    return value


def _scrub_json_text(text: str, depth: int) -> str:
    """A JSON text (a webhook's body) scrubbed as JSON; any other text as it is."""
    if not text.lstrip().startswith(("{", "[")):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(scrub(data, depth + 1), ensure_ascii=False)


def _scrub_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return scrub(args)
    if isinstance(args, tuple):
        return tuple(scrub(arg) for arg in args)
    return args


# One redactor for the process: secrets known only later (from config) are added to it.
REDACT = Redactor()


def add_secret(secret: str, *, word: bool = False) -> None:
    REDACT.add(secret, word=word)


class RedactSecrets(logging.Filter):
    """Removes what people wrote (``scrub``), the secrets and anything shaped like a bot token
    from log records: from the message and its arguments, and from the extra fields."""

    def __init__(self, secrets: list[str] | None = None, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redactor or Redactor()
        for secret in secrets or []:
            self.redact.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if record.args:
            record.args = _scrub_args(record.args)
        record.msg, record.args = self.redact(record.getMessage()), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and not key.startswith("_"):
                setattr(record, key, scrub(value))
        return True


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))  # tracebacks included


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extra fields, exc."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        ts = dt.datetime.fromtimestamp(record.created).astimezone()
        entry: dict[str, Any] = {
            "ts": ts.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(self.redact.value(entry), ensure_ascii=False, default=str)


def _database_password() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return ""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:  # an unreadable URL is reported elsewhere
        return ""


def setup_logging(level: str | int = "INFO", fmt: str | None = None) -> None:
    """``fmt``: "text" or "json" (default: ``LOG_FORMAT``, else text)."""
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"):
        add_secret(os.environ.get(name, ""))
    add_secret(_database_password())
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").strip().lower()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(REDACT) if fmt == "json" else TextFormatter(REDACT))
    handler.addFilter(RedactSecrets(redactor=REDACT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token.
    for noisy in (
        "httpx",
        "httpcore",
        "apscheduler.executors",
        "jieba",
        "bm25s",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
