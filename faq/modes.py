"""The chats the FAQ answers in: a group (silence beats a wrong answer) or a private chat.

Kept apart from the engine so that the Telegram handlers can name them without loading jieba and
the index at start-up (the engine is built in a worker thread once the bot serves)."""

GROUP, PRIVATE = "group", "private"
