"""Logging to stderr, with secrets redacted from every record."""

from __future__ import annotations

import logging
import os
import re

_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")


class RedactSecrets(logging.Filter):
    """Removes the bot token (and anything shaped like one) from log messages."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        message = _TOKEN_SHAPE.sub("***", message)
        record.msg, record.args = message, None
        return True


def setup_logging(level: str | int = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([os.environ.get("TELEGRAM_BOT_TOKEN", "")]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "jieba", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
