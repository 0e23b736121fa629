"""What the registration and seat adapters share: inline keyboards from (label, data) rows,
button labels and texts from templates, ids in button data."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot.core.render import render
from handlers.common import app_ctx

MAX_ID_DIGITS = 12  # longer numbers in button data cannot be ours (and overflow the database)

Rows = list[list[tuple[str, str]]]


def markup_of(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def button_label(key: str, **params: Any) -> str:
    return render("registration_button", key=key, **params)


def render_text(context: ContextTypes.DEFAULT_TYPE, template: str, **variables: Any) -> str:
    return render(template, c=app_ctx(context).config, **variables)


def is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
