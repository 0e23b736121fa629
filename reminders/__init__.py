"""Deadline reminders: the calendar from config, sent on time, exactly once.

- ``calendar``: the reminders config yields (stable ids, series; no database).
- ``models``: the ``reminders``, ``liaison_groups`` and ``reminder_sends`` tables.
- ``store``: the calendar rows in the database (sync, upcoming, due).
- ``groups``: the group chats the reminders go to (seeded from config, following an upgrade to
  a supergroup).
- ``sendlog``: claims, the moment a request is written, and outcomes in the sent-log, which
  makes sending exactly-once and loses no message that never left.
- ``owing``: who still owes what a reminder is about.
- ``views``, ``messages``: a reminder as the templates see it, and its rendered text.
- ``dispatch``: what to send now, to whom.
- ``custom``: the city office's one-off reminders, pause and resume.
- ``scheduler``, ``sending``, ``transport``, ``runtime``: the Telegram side (PTB's JobQueue,
  sending with retries of what certainly did not go out, the request object that tells when a
  request is written, the application context).
- ``__main__``: ``python -m reminders list``.
"""
