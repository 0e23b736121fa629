"""What each capability does in the bot's own rows once the platform has applied a task of its
kind (``bot.platform.delivery.Effect``). The platform is the system of record: the bot mirrors a
change only when the platform has made it. Wired here, in the shell, because the platform port
sits below the capabilities and knows none of them."""

from __future__ import annotations

from bot.exemptions import flag as exemption_flag
from bot.platform.delivery import Effect
from bot.roster import transfers

EFFECTS: dict[str, Effect] = {**exemption_flag.EFFECTS, **transfers.EFFECTS}
