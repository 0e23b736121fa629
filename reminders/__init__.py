"""Deadline reminders: the calendar from config, sent on time, exactly once.

- ``calendar``: the reminders config yields (stable ids; no database).
- ``models``: the ``reminders`` and ``reminder_sends`` tables.
- ``store``: the calendar rows in the database (sync, upcoming, due).
- ``sendlog``: claims and outcomes in the sent-log, which makes sending exactly-once.
- ``owing``: who still owes what a reminder is about.
- ``views``, ``messages``: a reminder as the templates see it, and its rendered text.
- ``dispatch``: what to send now, to whom.
- ``custom``: the city office's one-off reminders, pause and resume.
- ``scheduler``, ``sending``, ``runtime``: the Telegram side (PTB's JobQueue, sending with
  retries, the application context).
- ``__main__``: ``python -m reminders list``.
"""
