"""Logging to stderr, with secrets redacted from every record.

``LOG_FORMAT=json`` writes one JSON object per line (``ts``, ``level``, ``logger``, ``msg``, any
``extra=`` fields, ``exc`` for a traceback) for a log collector; the default is one plain text
line. Either way the bot token, the webhook secret, the database password and the platform's
default password (``add_secret``, once the config is loaded) are replaced by ``***`` — in the
message, in the extra fields and in tracebacks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from typing import Any

_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
MASK = "***"

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


# One redactor for the process: secrets known only later (from config) are added to it.
REDACT = Redactor()


def add_secret(secret: str, *, word: bool = False) -> None:
    REDACT.add(secret, word=word)


class RedactSecrets(logging.Filter):
    """Removes the secrets (and anything shaped like a bot token) from log messages."""

    def __init__(self, secrets: list[str] | None = None, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redactor or Redactor()
        for secret in secrets or []:
            self.redact.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
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
