"""How every message goes out: as Telegram HTML (the templates' output, autoescaped), without
link previews. Each call that sends or edits a text or a caption names them; ``send`` sends a
text so.

They are passed at each call rather than set once as PTB ``Defaults``: with ``Defaults`` set,
PTB walks every argument of every request to fill them in, about 15 µs a message, which took a
tenth off the bot's update throughput (``make bench``). The offline Telegram the tests run on
checks that no text or caption goes out without them (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any, Final

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode

HTML: Final = ParseMode.HTML
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)


async def send(bot: Bot, chat_id: int, text: str, **options: Any) -> Message:
    """Send ``text`` (Telegram HTML) to ``chat_id`` without link previews; ``options`` are
    ``send_message``'s others (reply_markup, message_thread_id, reply_parameters)."""
    return await bot.send_message(
        chat_id, text, parse_mode=HTML, link_preview_options=NO_PREVIEW, **options
    )
