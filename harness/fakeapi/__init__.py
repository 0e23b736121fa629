"""A fake Telegram Bot API HTTP server for the tests and the benchmarks (standard library only).

Usage::

    with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...
        api.send_text("/start")                      # enqueue an update for getUpdates
        call = await api.await_call("sendMessage")   # wait for the bot's reply
        assert call.params["text"] == "..."

The server speaks the subset of the Bot API that the project uses (see ``methods.METHODS``),
records every request in :attr:`FakeBotAPI.calls` and supports fault injection
(:meth:`~FakeBotAPI.fail_next`, ``delay_next``, ``drop_next``, ``malformed_next``).

Behaviour modelled on the real API (so that tests catch real mistakes):

* ``parse_mode="HTML"`` text/captions are validated like Telegram does (unsupported tags,
  unbalanced tags → ``400 Bad Request: can't parse entities: ...``); the returned Message holds
  the plain text plus entities.  MarkdownV2 is *not* validated (text is stored as sent).
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard; an edit that changes
  nothing answers ``400 Bad Request: message is not modified: ...``.
* Editing/deleting an unknown message answers ``message to edit not found`` /
  ``message to delete not found``; ``callback_data`` longer than 64 bytes answers
  ``BUTTON_DATA_INVALID``; text longer than 4096 UTF-16 units answers ``message is too long``.
* ``getUpdates`` confirms (forgets) updates with ``update_id < offset``, like Telegram.
* Forum topics: ``send_text(..., message_thread_id=N)`` posts in topic N of a forum supergroup;
  a bot message lands in the topic it names, else in the topic of the message it replies to,
  else in the General topic (no ``message_thread_id``).

The parts: ``server`` (HTTP threads), ``dispatch`` (token, faults, recording), ``faults``,
``forms`` (request decoding, multipart), ``methods`` / ``messages`` / ``chats`` (the method
table), ``telegram_html`` (the HTML checker), ``world`` (the state), ``users`` (simulated users),
``api`` (FakeBotAPI, the object tests hold).
"""

from harness.fakeapi.api import FakeBotAPI, fake_bot_api
from harness.fakeapi.messages import check_markup
from harness.fakeapi.records import ApiCall, ApiError, UploadedFile
from harness.fakeapi.telegram_html import parse_html
from harness.fakeapi.world import BOT_FIRST_NAME, BOT_USERNAME, DEFAULT_TOKEN

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_USERNAME",
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "FakeBotAPI",
    "UploadedFile",
    "check_markup",
    "fake_bot_api",
    "parse_html",
]
