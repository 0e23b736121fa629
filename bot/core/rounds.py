"""The one catalogue of exam rounds, built from config: the category exam (分类组考, run by the
provincial departments), the zone rounds (分众组考) and the makeup (补考).

Rounds are data here; their names are written by one template macro (``_rounds.j2``), so every
message, button, export and reminder names a round the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.config import Config, Window

CATEGORY = "category"
ZONE = "zone"
MAKEUP = "makeup"


@dataclass(frozen=True)
class ExamRound:
    key: str  # "category", "zone1", "zone2", …, "makeup"
    kind: str  # CATEGORY | ZONE | MAKEUP
    number: int  # the zone round's number; 0 for the others
    exam: Window
    registration: Window | None  # None: not registered through the bot (the category exam)

    @property
    def is_makeup(self) -> bool:
        return self.kind == MAKEUP

    @property
    def is_zone(self) -> bool:
        return self.kind == ZONE


def zone_key(number: int) -> str:
    return f"{ZONE}{number}"


def catalogue(config: Config) -> list[ExamRound]:
    """Every round in time order: the category exam, the zone rounds, the makeup."""
    zones = sorted(config.zone_rounds, key=lambda z: z.number)
    return [
        ExamRound(CATEGORY, CATEGORY, 0, config.category_exam.window, None),
        *(ExamRound(zone_key(z.number), ZONE, z.number, z.exam, z.registration) for z in zones),
        ExamRound(MAKEUP, MAKEUP, 0, config.makeup.exam, config.makeup.registration),
    ]


def registrable(config: Config) -> list[ExamRound]:
    """The rounds units register for through the bot: the zone rounds and the makeup."""
    return [r for r in catalogue(config) if r.registration is not None]


def regular(config: Config) -> list[ExamRound]:
    """The rounds before the makeup, whose failures and absences make the makeup list."""
    return [r for r in catalogue(config) if not r.is_makeup]


def zone_exam_period(config: Config) -> Window:
    """The zone exam's days, from the first round's first exam day to the last round's last: the
    period a county's centralized exams (县市区集中组考, notice 五（四）) fall in, as they are how
    a county's units take the zone exam."""
    zones = [r.exam for r in catalogue(config) if r.is_zone]
    return Window(start=min(w.start for w in zones), end=max(w.end for w in zones))


def find(config: Config, key: str) -> ExamRound | None:
    return next((r for r in catalogue(config) if r.key == key), None)


def keys(config: Config) -> list[str]:
    return [r.key for r in catalogue(config)]


def name(config: Config, key: str) -> str:
    """The round's name as every message writes it (``_rounds.j2``)."""
    from bot.core.render import render

    item = find(config, key)
    return render("round_name", c=config, r=item, key=key)
