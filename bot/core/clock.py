"""The one clock. Everything that needs "now" gets it from here, so tests, the sandbox and
``--now`` can move time without touching the system clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


class Clock:
    """Timezone-aware "now", optionally shifted or pinned.

    ``set(moment)`` makes now() continue from ``moment`` (time keeps flowing, as in the sandbox);
    ``freeze(moment)`` pins it. ``real()`` returns to the system clock.
    """

    def __init__(self, tz: ZoneInfo | str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._offset = dt.timedelta(0)
        self._frozen: dt.datetime | None = None

    def now(self) -> dt.datetime:
        if self._frozen is not None:
            return self._frozen
        return dt.datetime.now(self.tz) + self._offset

    def today(self) -> dt.date:
        return self.now().date()

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """Attach the campaign timezone to a naive datetime; convert an aware one."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def set(self, moment: dt.datetime) -> None:
        self._frozen = None
        self._offset = self.localize(moment) - dt.datetime.now(self.tz)

    def freeze(self, moment: dt.datetime) -> None:
        self._frozen = self.localize(moment)

    def advance(self, delta: dt.timedelta) -> None:
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._offset += delta

    def real(self) -> None:
        self._frozen = None
        self._offset = dt.timedelta(0)

    @property
    def shifted(self) -> bool:
        return self._frozen is not None or self._offset != dt.timedelta(0)

    def at(self, day: dt.date, time: dt.time = dt.time(0)) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)
