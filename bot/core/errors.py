"""Refusals: a service says no with a typed value, never a string for the adapter to match.

``Refused`` carries a reason key and its details; the adapter (a handler or the command line)
renders ``refused.j2`` with it, so every refusal reads the same everywhere. Two flags tell the
adapter what to do without looking at the key:

- ``ends``: whether a conversation (``/register`` …) ends with this refusal, or the user may
  simply try the step again (a mistyped count, an unknown account);
- ``audit_as``: an audit action under which the refusal itself is recorded, in a transaction of
  its own, after the refused work was rolled back (wrong invite codes count towards a limit).
"""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(
        self, key: str, *, ends: bool = True, audit_as: str | None = None, **params: Any
    ) -> None:
        super().__init__(key)
        self.key = key
        self.ends = ends
        self.audit_as = audit_as
        self.params = params

    def render(self, **context: Any) -> str:
        from bot.core.render import render

        return render("refused", key=self.key, p=self.params, **context)
