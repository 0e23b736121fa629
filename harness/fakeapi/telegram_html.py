"""The Telegram HTML checker: validates ``parse_mode="HTML"`` text like the Bot API does and
turns it into plain text plus entities (so tests see what a user would read)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from bot.sandbox.telegram_text import utf16_len
from harness.fakeapi.records import ApiError

__all__ = ["parse_html"]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_USER_LINK = re.compile(r"tg://user\?id=(\d+)")

Entity = dict[str, Any]


class TelegramHTML(HTMLParser):
    """Validates/strips Telegram-flavoured HTML, producing plain text and entities."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.out: list[str] = []
        self.length = 0  # utf-16 units emitted so far
        self.stack: list[tuple[str, Entity, int]] = []
        self.entities: list[Entity] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        idx = self._line_starts[line - 1] + col
        return len(self.source[:idx].encode("utf-8"))

    def _fail(self, message: str) -> None:
        raise ApiError(f"Bad Request: can't parse entities: {message}")

    def _unsupported(self, tag: str) -> None:
        self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _entity_for(self, tag: str, attrs: dict[str, str]) -> Entity | None:
        """The entity an opening tag starts; None if Telegram does not support the tag."""
        if tag in _SIMPLE_TAGS:
            entity: Entity = {"type": _SIMPLE_TAGS[tag]}
            if tag == "blockquote" and "expandable" in attrs:
                entity["type"] = "expandable_blockquote"
            if tag == "code" and attrs.get("class", "").startswith("language-"):
                entity["language"] = attrs["class"][len("language-") :]
            return entity
        if tag == "span":
            return {"type": "spoiler"} if attrs.get("class") == "tg-spoiler" else None
        if tag == "a":
            href = attrs.get("href", "")
            m = _USER_LINK.fullmatch(href)
            if m:
                user = {"id": int(m.group(1)), "is_bot": False, "first_name": "User"}
                return {"type": "text_mention", "user": user}
            return {"type": "text_link", "url": href}
        if tag == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self._entity_for(tag, {k: (v or "") for k, v in attrs})
        if entity is None:
            self._unsupported(tag)
            return
        self.stack.append((tag, entity, self.length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._unsupported(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, entity, start = self.stack.pop()
        if open_tag != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        length = self.length - start
        if length <= 0:
            return
        if open_tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> → language of the enclosing pre entity
            if "language" in entity:
                self.stack[-1][1]["language"] = entity["language"]
            return
        if open_tag == "code":
            entity.pop("language", None)
        self.entities.append({**entity, "offset": start, "length": length})

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._unsupported("")
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        if name in ("lt", "gt", "amp", "quot"):
            self._emit(html.unescape(f"&{name};"))
        else:  # Telegram leaves unsupported named entities as literal text
            self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self._unsupported("!--")

    def handle_decl(self, decl: str) -> None:
        self._unsupported("!")

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self._unsupported("?")

    def run(self) -> tuple[str, list[Entity]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML like the Bot API: returns (plain_text, entities) or raises ApiError."""
    return TelegramHTML(text).run()
