"""The command catalogue: one list feeds /help, the command menus and the unknown-command hint."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from bot.core import words
from bot.org.models import Role

EVERYONE = None  # no binding needed


CATALOGUE = Path(__file__).with_name("commands.toml")


def _words() -> dict[str, dict[str, str]]:
    return words.load(CATALOGUE)


@dataclass(frozen=True)
class Command:
    name: str
    roles: frozenset[Role] | None = EVERYONE
    private: bool = True  # offered in private chat
    group: bool = False  # offered in the group

    @property
    def usage(self) -> str:
        """How the command is written, e.g. "/faq 问题" (commands.toml)."""
        return _words()[self.name]["usage"]

    @property
    def description(self) -> str:
        """What it does, shown in /help and in the menu (commands.toml)."""
        return _words()[self.name]["description"]

    def allowed_for(self, role: Role | None) -> bool:
        return self.roles is EVERYONE or (role is not None and role in self.roles)


ADMINS = frozenset({Role.CITY, Role.COUNTY, Role.UNIT})
CITY = frozenset({Role.CITY})
# Who works the platform task queue: the platform operator, and the city office by default.
OPERATORS = frozenset({Role.CITY, Role.OPERATOR})

CORE: list[Command] = [
    Command("start"),
    Command("help", group=True),
    Command("faq", group=True),
]

# Feature handler modules; each has COMMANDS (its catalogue entries) and register(app).
FEATURES = (
    "handlers.admin",
    "handlers.registration",
    "handlers.bank",
    "handlers.exemptions",
    "handlers.reports",
    "handlers.reminders",
    "handlers.results",
    "handlers.platform_tasks",
    "handlers.lookup",
    "handlers.assignment",
)


def _collect() -> list[Command]:
    commands = list(CORE)
    for module in FEATURES:
        commands.extend(importlib.import_module(module).COMMANDS)
    return commands


COMMANDS: list[Command] = _collect()


def visible(role: Role | None, *, private: bool) -> list[Command]:
    return [c for c in COMMANDS if c.allowed_for(role) and (c.private if private else c.group)]


def menu(*, private: bool) -> list[tuple[str, str]]:
    """(command, description) pairs for set_my_commands in one scope, for everyone."""
    return [
        (c.name, c.description)
        for c in COMMANDS
        if c.roles is EVERYONE and (c.private if private else c.group)
    ]


def known(name: str) -> bool:
    return any(c.name == name for c in COMMANDS)
