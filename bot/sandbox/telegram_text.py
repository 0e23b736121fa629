"""How Telegram measures and marks up a user's text: the one copy for the offline sandbox and the
test harness (harness.fakeapi), so both hand the bot messages shaped like the real ones.

Telegram counts lengths and entity offsets in UTF-16 code units (a CJK character is one unit, an
emoji outside the BMP two), marks a leading ``/command`` (optionally ``/command@bot``) as a
``bot_command`` and every ``@username`` as a ``mention``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["COMMAND", "MENTION", "leading_command", "text_entities", "utf16_len"]

# A leading command: "/" then up to 64 letters, digits or "_", and an optional "@botname".
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
# A username mention: "@" and 5 to 32 username characters, not inside a longer word or command.
MENTION = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram's unit for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def leading_command(text: str, *, lenient: bool = False) -> str | None:
    """The command a message starts with, as Telegram marks it; None if it starts with none.

    ``lenient``: any leading ``/word`` (up to whitespace) counts, even one Telegram would not
    mark (``/绑定``, ``/<b>x</b>``). The offline sandbox reads its input this way, so a mistyped
    command gets the unknown-command hint instead of an FAQ answer.
    """
    if lenient:
        return text.split(maxsplit=1)[0] if text.startswith("/") else None
    command = COMMAND.match(text)
    return command.group() if command else None


def text_entities(text: str, *, lenient_command: bool = False) -> list[dict[str, Any]]:
    """The entities Telegram attaches to a user's message: a leading bot command and the
    ``@username`` mentions after it (offsets and lengths in UTF-16 units)."""
    entities: list[dict[str, Any]] = []
    command = leading_command(text, lenient=lenient_command)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    covered_until = len(command or "")
    for mention in MENTION.finditer(text):
        if mention.start() < covered_until:
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention.group()),
            }
        )
    return entities
