"""Every table of the product, imported once so that SQLModel's metadata (and with it Alembic
and start-up) knows them all. Each table is defined in its capability's ``models`` module."""

import bot.bank.models
import bot.core.audit
import bot.exemptions.models
import bot.org.models
import bot.platform.models
import bot.registration.models
import bot.results.models
import bot.roster.models  # noqa: F401
import reminders.models  # noqa: F401
