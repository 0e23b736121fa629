"""Which exam a unit takes (notice 二): the provincial department's category exam when it takes
precedence, the centralized exam for the units on the city's list, otherwise the city's online
zone exam. The registration services refuse what a unit's assignment excludes, and the city
office's overview (``bot.overview.status``) leaves those units out of "not yet registered".

The rules live with the units (``bot.org.exams``, the mapping's meaning in ``bot.org.sectors``)
so that the organisation's own commands (``/whoami``, ``/category``, ``/consent``) read the same
answer; this module is the registration capability's name for them.
"""

from __future__ import annotations

from bot.org.exams import (
    CATEGORY,
    CENTRALIZED,
    ZONE,
    ExamAssignment,
    category_precedence,
    exam_of,
    is_centralized,
)
from bot.org.tree import COUNTY_KINDS, ancestry, level_of, path_ids, unit_level

__all__ = [
    "CATEGORY",
    "CENTRALIZED",
    "COUNTY_KINDS",
    "ZONE",
    "ExamAssignment",
    "ancestry",
    "category_precedence",
    "exam_of",
    "is_centralized",
    "level_of",
    "path_ids",
    "unit_level",
]
