"""Refusals: a service says no with a reason key and its details; the adapter (a handler or the
command line) renders ``bot/templates/refused.j2`` so every refusal reads the same everywhere."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, **context: Any) -> str:
        from bot.core.render import render

        return render("refused", key=self.key, p=self.params, **context)
