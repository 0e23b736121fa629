"""``python -m bot run``: serve Telegram by polling or through a webhook, with a /health endpoint.

Polling is the default. With ``[telegram] webhook_url`` (or env ``TELEGRAM_WEBHOOK_URL``) set, the
bot registers that URL with Telegram and serves it on ``listen:webhook_port`` at the URL's path,
normally behind a TLS reverse proxy. Telegram sends the secret from env
``TELEGRAM_WEBHOOK_SECRET`` in the ``X-Telegram-Bot-Api-Secret-Token`` header of every update and
PTB's webhook server refuses requests without it (403); webhook mode does not start without a
secret.
"""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.context import AppContext
from bot.core import config_errors
from bot.core.config import Config, ConfigError
from bot.core.logging_setup import add_secret

log = logging.getLogger("bot")

SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts
BOOTSTRAP_RETRIES = 3  # deleteWebhook / setWebhook at start: retried before giving up


@dataclass(frozen=True)
class Serving:
    """How to serve, from config and the environment."""

    token: str
    base_url: str | None = None
    webhook_url: str = ""
    webhook_secret: str = ""
    listen: str = "127.0.0.1"
    webhook_port: int = 8443
    health_port: int = 0

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_url else "polling"

    @property
    def url_path(self) -> str:
        return urlsplit(self.webhook_url).path or "/"


def serving_from(config: Config, environ: Mapping[str, str] = os.environ) -> Serving:
    """Read and check the serving settings; a problem raises ConfigError (exit 2)."""
    token = environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(config_errors.message("no_token"))
    tcfg = config.telegram
    webhook_url = (environ.get("TELEGRAM_WEBHOOK_URL") or tcfg.webhook_url).strip()
    secret = environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
    if webhook_url:
        parts = urlsplit(webhook_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(config_errors.message("bad_webhook_url", url=repr(webhook_url)))
        if not secret:
            raise ConfigError(config_errors.message("no_webhook_secret"))
        if not SECRET_SHAPE.match(secret):
            raise ConfigError(config_errors.message("bad_webhook_secret"))
    return Serving(
        token=token,
        base_url=environ.get("TELEGRAM_API_BASE_URL") or None,
        webhook_url=webhook_url,
        webhook_secret=secret if webhook_url else "",
        listen=tcfg.listen,
        webhook_port=tcfg.webhook_port,
        health_port=tcfg.health_port,
    )


def platform_secrets(environ: Mapping[str, str] = os.environ) -> tuple[str, list[str]]:
    """What the platform gateway must never log: its token, and a password in its URL (refused
    by the http gateway, but it may be written in the variable all the same), as written and
    decoded."""
    token = environ.get("PLATFORM_API_TOKEN", "").strip()
    try:
        password = urlsplit(environ.get("PLATFORM_API_URL", "").strip()).password or ""
    except ValueError:  # an unreadable URL: the gateway says so
        password = ""
    return token, sorted({p for p in (password, unquote(password)) if p})


def run(ctx: AppContext, serving: Serving) -> int:
    from telegram import Update

    from bot import health
    from bot.app import build_application

    # A reset's reply carries the default password; debug logs of requests must not.
    add_secret(ctx.config.platform.default_password, word=True)
    add_secret(serving.webhook_secret)
    token, passwords = platform_secrets()
    add_secret(token)
    for password in passwords:  # maybe short: only where it stands alone
        add_secret(password, word=True)
    # Built before serving: a wrong http setup (PLATFORM_API_URL, PLATFORM_API_TOKEN) is a
    # one-line ConfigError naming the variable, exit code 2, not a failure at the first task.
    log.info("platform gateway: %s", ctx.gateway.name)
    app = build_application(ctx, serving.token, base_url=serving.base_url)
    if serving.health_port:
        health.attach(app, serving.listen, serving.health_port, serving.mode)
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    via = f" via {serving.base_url}" if serving.base_url else ""
    if serving.webhook_url:
        log.info(
            "serving Telegram by webhook on %s:%d%s%s",
            serving.listen,
            serving.webhook_port,
            serving.url_path,
            via,
        )
        app.run_webhook(
            listen=serving.listen,
            port=serving.webhook_port,
            url_path=serving.url_path,
            webhook_url=serving.webhook_url,
            secret_token=serving.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            stop_signals=stop_signals,
            close_loop=False,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    else:
        log.info("serving Telegram by polling%s", via)
        app.run_polling(
            allowed_updates=Update.ALL_TYPES,
            stop_signals=stop_signals,
            close_loop=False,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    return 0
