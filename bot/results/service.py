"""Exam results: the platform's results file, pass rates per unit, the makeup list and the
annual-assessment consequences (notice 四（二）（四）, 五（三）, 六（三）).

Definitions (the notice's words, made exact):

* **Base** (应考人数): learners in service and not exempt (the roster's current flags). A
  first-level unit's base is every such learner of its whole system — every unit below it —
  and the same subtree sum gives the county and city-wide figures (notice 四（二）: "一级单位总体
  考法通过率的计算基数为本系统所有学员").
* **Regular rounds**: the provincial category exam ("category") and the zone rounds ("zone1",
  "zone2"). A learner needs to pass one of them; the best regular score counts.
* **Sat** (参考): at least one result with a score (not absent). A learner with no imported result
  counts as not having sat.  **Passed** (通过): a score ≥ ``exam.pass_mark``.
* **Rates**: participation = sat / base, pass rate = passed / base (both over the base, as the
  notice's 计算基数 says). "Before makeup" uses the regular rounds; "after makeup" also counts a
  makeup score for those who took it.
* **Transfers** (which unit a learner counts for): each result row stores the unit the learner
  belonged to at the time of that round (the results file's unit column, else the roster unit
  when the result was first imported). Before the makeup a learner counts for the unit of their
  latest regular round with a result (category < zone1 < zone2); after the makeup, for the unit
  of their makeup result if they have one. A learner with no result counts for their current
  roster unit. Why: the rate measures how a unit organised the exam it was responsible for; a
  learner who sat in unit A and moved to B afterwards was A's responsibility at that round, and
  the platform's own statistics attribute a sitting to the unit of that moment.
* **Makeup list** (补考名单, notice 五（三）"因故未参加分众分类组考或考试未及格的"): learners in the
  base with no regular-round score ≥ pass mark — absent from (or without a result in) every
  regular round, or below the pass mark in every round they sat. Being due one regular round is
  enough for the list: passing any regular round takes a learner off it. The list follows the
  learner's *current* unit, because it is the current administrator who registers the makeup
  (人员异动由调入单位管理员操作) and registration only accepts learners of the registering unit.
* **Consequences** (notice 六（三）), once the makeup exam window has ended by the clock: a learner
  on the makeup list who never sat any round, makeup included → grade deferred
  (``consequences.absent``); one who sat but never passed — failed the makeup, or failed and
  skipped it → not rated excellent (``consequences.failed_makeup``). Shown to the administrators
  whose scope covers the learner's current unit, and to the city office.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlmodel import Session, col, func, select

from bot.core.config import Config
from bot.core.errors import Refused
from bot.org.admins import unit_in_scope
from bot.org.identity import Identity
from bot.org.models import Role, Unit, UnitKind
from bot.registration.models import Registration, RegistrationLearner
from bot.results.models import CATEGORY, MAKEUP, ExamResult
from bot.roster.learners import mask_name
from bot.roster.models import Learner

NUMERALS = "零一二三四五六七八九十"
ABSENT_WORDS = {"缺考", "absent", "未参考", "未参加", "缺席", "未考", "缺"}
ALL_WORDS = {"全部", "all", "全部报名", "所有", "全体"}
COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)
MAX_CODE = 64


def regular_keys(config: Config) -> list[str]:
    """The regular rounds in time order: the category exam (July–August), then the zone rounds."""
    return [CATEGORY, *(f"zone{r.number}" for r in sorted(config.zone_rounds, key=_number))]


def _number(zone) -> int:
    return zone.number


def round_keys(config: Config) -> list[str]:
    return [*regular_keys(config), MAKEUP]


def round_name(config: Config, key: str) -> str:
    if key == CATEGORY:
        return config.category_exam.name
    if key == MAKEUP:
        return "补考"
    number = int(key.removeprefix("zone")) if key.removeprefix("zone").isdigit() else 0
    return f"分众组考第{NUMERALS[number] if 0 < number <= 10 else number}次考试"


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "()（）·-_")


def _round_aliases(config: Config) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for word in ("category", "分类", "分类组考", "分类考试", config.category_exam.name):
        aliases[_squash(word)] = CATEGORY
    for word in ("makeup", "补考", "全省统一补考", config.makeup.scope):
        aliases[_squash(word)] = MAKEUP
    for zone in config.zone_rounds:
        key = f"zone{zone.number}"
        forms = {str(zone.number)}
        if zone.number <= 10:
            forms.add(NUMERALS[zone.number])
        aliases[_squash(key)] = key
        for x in forms:
            for word in (
                f"第{x}次",
                f"第{x}次考试",
                f"分众组考第{x}次",
                f"分众组考第{x}次考试",
                f"分众第{x}次",
                f"第{x}次分众组考",
                f"分众组考{x}",
            ):
                aliases[_squash(word)] = key
    return aliases


def parse_round(config: Config, text: str) -> str | None:
    return _round_aliases(config).get(_squash(text or ""))


def parse_score(config: Config, text: str) -> float | None:
    """None for an absentee; the score otherwise. Raises ValueError with a Chinese reason."""
    normalized = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not normalized:
        raise ValueError("不能为空（缺考请填“缺考”）")
    if normalized in ABSENT_WORDS:
        return None
    number_text = normalized.removesuffix("分").strip()
    try:
        number = float(number_text)
    except ValueError:
        raise ValueError(f"“{text[:20]}”不是分数，也不是“缺考”") from None
    if not math.isfinite(number):
        raise ValueError(f"“{text[:20]}”不是有效分数")
    full = config.exam.full_marks
    if not 0 <= number <= full:
        raise ValueError(f"分数 {text[:20]} 超出 0–{full} 分的范围")
    return number


@dataclass(frozen=True)
class Outcome:
    """One base learner's exam year, as far as the imported results tell."""

    learner_id: int
    account: str
    name: str
    unit_id: int  # current roster unit
    sat_before: bool
    best_before: float | None
    passed_before: bool
    unit_before: int  # the unit counted before the makeup (see the module docstring)
    makeup: str  # "none" (no result) | "absent" | "sat"
    makeup_score: float | None
    passed_after: bool
    unit_after: int

    @property
    def sat_after(self) -> bool:
        return self.sat_before or self.makeup == "sat"

    @property
    def on_makeup_list(self) -> bool:
        return not self.passed_before

    @property
    def reason(self) -> str:
        """Why on the makeup list: "absent" (never sat a regular round) or "failed"."""
        return "failed" if self.sat_before else "absent"


class _Result(NamedTuple):
    score: float | None
    absent: bool
    unit_id: int


def _outcomes(session: Session, config: Config, unit_path: str | None = None) -> list[Outcome]:
    """Every base learner (in service, not exempt), optionally only those whose current unit is
    in ``unit_path``'s subtree."""
    query = select(Learner.id, Learner.account, Learner.name, Learner.unit_id).where(
        col(Learner.in_service).is_(True), col(Learner.exempt).is_(False)
    )
    if unit_path is not None:
        query = query.join(Unit, col(Unit.id) == Learner.unit_id).where(
            col(Unit.path).startswith(unit_path)
        )
    learners = list(session.exec(query))
    results: dict[int, dict[str, _Result]] = {}
    rq = select(
        ExamResult.learner_id,
        ExamResult.round_key,
        ExamResult.score,
        ExamResult.absent,
        ExamResult.unit_id,
    )
    if unit_path is not None:
        rq = rq.where(col(ExamResult.learner_id).in_(query.with_only_columns(col(Learner.id))))
    for lid, key, score, absent, unit_id in session.exec(rq):
        results.setdefault(lid, {})[key] = _Result(score, bool(absent), unit_id)
    order = regular_keys(config)
    mark = config.exam.pass_mark
    outcomes = []
    for lid, account, name, unit_id in learners:
        mine = results.get(lid, {})
        regular = [mine[k] for k in order if k in mine]
        scores = [r.score for r in regular if not r.absent and r.score is not None]
        best = max(scores) if scores else None
        passed_before = best is not None and best >= mark
        unit_before = regular[-1].unit_id if regular else unit_id
        makeup = mine.get(MAKEUP)
        if makeup is None:
            state, makeup_score, unit_after = "none", None, unit_before
        else:
            state = "absent" if makeup.absent or makeup.score is None else "sat"
            makeup_score, unit_after = makeup.score, makeup.unit_id
        passed_after = passed_before or (makeup_score is not None and makeup_score >= mark)
        outcomes.append(
            Outcome(
                learner_id=lid,
                account=account,
                name=name,
                unit_id=unit_id,
                sat_before=best is not None,
                best_before=best,
                passed_before=passed_before,
                unit_before=unit_before,
                makeup=state,
                makeup_score=makeup_score,
                passed_after=passed_after,
                unit_after=unit_after,
            )
        )
    return outcomes


def has_results(session: Session, unit: Unit | None = None) -> bool:
    """Whether any result is imported (for ``unit``: any result counted in, or of a learner now
    in, its subtree)."""
    query = select(func.count()).select_from(ExamResult)
    if unit is None:
        return session.exec(query).one() > 0
    by_round_unit = query.join(Unit, col(Unit.id) == ExamResult.unit_id).where(
        col(Unit.path).startswith(unit.path)
    )
    if session.exec(by_round_unit).one() > 0:
        return True
    by_learner = (
        query.join(Learner, col(Learner.id) == ExamResult.learner_id)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(col(Unit.path).startswith(unit.path))
    )
    return session.exec(by_learner).one() > 0


def makeup_closed(config: Config, now: dt.datetime) -> bool:
    """After the makeup exam window (notice: no further online exam after it)."""
    return now.astimezone(config.tz).date() > config.makeup.exam_end


def regular_over(config: Config, now: dt.datetime) -> bool:
    last = max([config.category_exam.end, *(r.exam_end for r in config.zone_rounds)])
    return now.astimezone(config.tz).date() > last


@dataclass(frozen=True)
class Counts:
    base: int = 0
    sat: int = 0
    passed: int = 0

    @property
    def participation(self) -> float | None:
        return self.sat / self.base if self.base else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.base if self.base else None


@dataclass(frozen=True)
class UnitRates:
    id: int
    code: str
    name: str
    kind: str
    path: str
    depth: int  # 0 for the city root
    county: str | None  # the county / park it belongs to (None: city level)
    parent: str | None  # the parent unit's name
    before: Counts
    after: Counts


@dataclass(frozen=True)
class RatesReport:
    now: dt.datetime
    pass_mark: int
    has_results: bool
    has_makeup: bool  # any makeup result imported
    makeup_closed: bool
    city: UnitRates
    counties: list[UnitRates]
    first_level: list[UnitRates]
    sub_units: list[UnitRates]
    units: dict[int, UnitRates] = field(repr=False, default_factory=dict)

    def subtree(self, path: str) -> list[UnitRates]:
        """The units at and below ``path``, in tree order."""
        rows = [u for u in self.units.values() if u.path.startswith(path)]
        return sorted(rows, key=lambda u: _tree_key(self.units, u))

    def worst_first(self, rows: list[UnitRates] | None = None) -> list[UnitRates]:
        return sorted(self.first_level if rows is None else rows, key=_badness)


def _badness(u: UnitRates) -> tuple:
    rate = u.after.pass_rate
    return (rate is None, rate if rate is not None else 0.0, u.after.participation or 0.0, u.code)


def _tree_key(units: dict[int, UnitRates], unit: UnitRates) -> tuple:
    ids = [int(i) for i in unit.path.strip("/").split("/") if i.isdigit()]
    return tuple((units[i].code if i in units else "", i) for i in ids)


def _path_ids(path: str) -> list[int]:
    return [int(i) for i in path.strip("/").split("/") if i.isdigit()]


def rates(session: Session, config: Config, now: dt.datetime) -> RatesReport:
    """Rates of every unit over its subtree, before and after the makeup (read only)."""
    units = {u.id: u for u in session.exec(select(Unit).order_by(col(Unit.id)))}
    outcomes = _outcomes(session, config)
    tallies: dict[int, list[int]] = {uid: [0, 0, 0, 0, 0, 0] for uid in units}

    def add(unit_id: int, offset: int, sat: bool, passed: bool) -> None:
        unit = units.get(unit_id)
        if unit is None:
            return
        for node in _path_ids(unit.path):
            if node in tallies:
                t = tallies[node]
                t[offset] += 1
                t[offset + 1] += sat
                t[offset + 2] += passed

    for o in outcomes:
        add(o.unit_before, 0, o.sat_before, o.passed_before)
        add(o.unit_after, 3, o.sat_after, o.passed_after)
    built: dict[int, UnitRates] = {}
    for uid, unit in units.items():
        chain = [units[i] for i in _path_ids(unit.path) if i in units]
        county = next((n.name for n in chain if n.kind in COUNTY_KINDS), None)
        parent = units.get(unit.parent_id) if unit.parent_id else None
        t = tallies[uid]
        built[uid] = UnitRates(
            id=uid,
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            path=unit.path,
            depth=max(0, len(chain) - 1),
            county=county,
            parent=parent.name if parent else None,
            before=Counts(t[0], t[1], t[2]),
            after=Counts(t[3], t[4], t[5]),
        )
    root = next((u for u in built.values() if u.kind == UnitKind.CITY.value), None)
    if root is None:  # a database without the seeded root: an empty city
        root = UnitRates(0, "", config.campaign.city, UnitKind.CITY.value, "/", 0, None, None,
                         Counts(), Counts())  # fmt: skip
    by_tree = sorted(built.values(), key=lambda u: _tree_key(built, u))
    return RatesReport(
        now=now,
        pass_mark=config.exam.pass_mark,
        has_results=has_results(session),
        has_makeup=session.exec(
            select(func.count()).select_from(ExamResult).where(ExamResult.round_key == MAKEUP)
        ).one()
        > 0,
        makeup_closed=makeup_closed(config, now),
        city=root,
        counties=[u for u in by_tree if u.kind in COUNTY_KINDS],
        first_level=[u for u in by_tree if u.kind == UnitKind.UNIT.value],
        sub_units=[u for u in by_tree if u.kind == UnitKind.SUB.value],
        units=built,
    )


@dataclass(frozen=True)
class ResultsView:
    """What /results shows one administrator."""

    scope: str  # "city" | "unit"
    report: RatesReport
    head: UnitRates  # their own unit (the city root for the city office)
    rows: list[UnitRates]  # below the head: the city's first-level units worst first, or the
    # administrator's subtree in tree order
    total: int  # rows before truncation
    empty: int = 0  # city view: first-level units left out because no learner counts there


def view_for(
    session: Session, config: Config, identity: Identity, now: dt.datetime, *, limit: int = 30
) -> ResultsView:
    report = rates(session, config, now)
    if identity.role == Role.CITY:
        return city_view(report, limit=limit)
    head = report.units.get(identity.unit_id)
    if head is None:
        raise Refused("unit_unknown", code=identity.unit_code)
    rows = [u for u in report.subtree(head.path) if u.id != head.id]
    return ResultsView("unit", report, head, rows[:limit], len(rows))


def city_view(report: RatesReport, *, limit: int = 30) -> ResultsView:
    """The city office's view: first-level units with anyone in their base, worst first."""
    ranked = report.worst_first()
    rows = [u for u in ranked if u.after.base]
    return ResultsView(
        "city", report, report.city, rows[:limit], len(rows), len(ranked) - len(rows)
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    if _width(text) <= width:
        return text + " " * (width - _width(text))
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    out += "…"
    return out + " " * (width - _width(out))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def text_table(
    rows: Sequence[UnitRates], *, after: bool, indent_from: int | None = None, name_width: int = 14
) -> str:
    """A small monospace table: unit, base, participation, pass rate (and after the makeup)."""
    header = [_fit("单位", name_width), _right("应考", 5), _right("参考率", 7), _right("通过率", 7)]
    if after:
        header.append(_right("补考后", 7))
    lines = [" ".join(header).rstrip()]
    for u in rows:
        pad = "  " * max(0, u.depth - indent_from) if indent_from is not None else ""
        cells = [
            _fit(pad + u.name, name_width),
            f"{u.before.base:>5}",
            f"{percent(u.before.participation):>7}",
            f"{percent(u.before.pass_rate):>7}",
        ]
        if after:
            cells.append(f"{percent(u.after.pass_rate):>7}")
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class MakeupEntry:
    account: str
    masked_name: str
    unit_name: str
    reason: str  # "absent" | "failed"
    best: float | None
    registered: bool  # named in an active makeup registration


@dataclass(frozen=True)
class MakeupList:
    unit_code: str
    unit_name: str
    has_results: bool  # False: nothing imported for this unit; registration works as before
    final: bool  # every regular round is over (before: the list can still shrink)
    entries: list[MakeupEntry]

    @property
    def pending(self) -> list[MakeupEntry]:
        return [e for e in self.entries if not e.registered]

    @property
    def absent(self) -> int:
        return len([e for e in self.entries if e.reason == "absent"])

    @property
    def failed(self) -> int:
        return len([e for e in self.entries if e.reason == "failed"])


def _makeup_registered(session: Session, learner_ids: list[int]) -> set[int]:
    done: set[int] = set()
    for start in range(0, len(learner_ids), 500):
        done.update(
            session.exec(
                select(RegistrationLearner.learner_id).where(
                    RegistrationLearner.round_key == MAKEUP,
                    col(RegistrationLearner.learner_id).in_(learner_ids[start : start + 500]),
                )
            )
        )
    return done


def makeup_list(session: Session, config: Config, unit: Unit, now: dt.datetime) -> MakeupList:
    """The learners of ``unit``'s subtree (current roster) who must take the makeup."""
    listed = [o for o in _outcomes(session, config, unit.path) if o.on_makeup_list]
    names = {
        uid: name
        for uid, name in session.exec(
            select(Unit.id, Unit.name).where(col(Unit.path).startswith(unit.path))
        )
    }
    registered = _makeup_registered(session, [o.learner_id for o in listed])
    entries = [
        MakeupEntry(
            account=o.account,
            masked_name=mask_name(o.name),
            unit_name=names.get(o.unit_id, ""),
            reason=o.reason,
            best=o.best_before,
            registered=o.learner_id in registered,
        )
        for o in sorted(listed, key=lambda o: (names.get(o.unit_id, ""), o.account))
    ]
    return MakeupList(
        unit.code, unit.name, has_results(session, unit), regular_over(config, now), entries
    )


def makeup_list_for(
    session: Session,
    config: Config,
    identity: Identity,
    now: dt.datetime,
    unit_code: str | None = None,
) -> MakeupList:
    """/makeup_list: the administrator's own unit, or a unit of their scope."""
    unit = unit_in_scope(session, identity, unit_code)
    return makeup_list(session, config, unit, now)


def is_all(text: str) -> bool:
    return _squash(text or "") in ALL_WORDS


def pending_makeup_accounts(
    session: Session, config: Config, unit: Unit, now: dt.datetime
) -> list[str]:
    """ "全部"/"all": exactly the unit's makeup list not yet registered."""
    listing = makeup_list(session, config, unit, now)
    if not listing.has_results:
        raise Refused("makeup_no_results")
    accounts = [e.account for e in listing.pending]
    if not accounts:
        raise Refused("makeup_list_empty", total=len(listing.entries))
    return accounts


def check_makeup_learners(
    session: Session,
    config: Config,
    unit: Unit,
    now: dt.datetime,
    *,
    count: int | None,
    accounts: list[str],
) -> None:
    """With results imported for the unit, the makeup takes only learners on its makeup list
    (named), or at most as many as are on it (a count). Without results: no check."""
    if not has_results(session, unit):
        return
    listing = makeup_list(session, config, unit, now)
    if accounts:
        on_list = {e.account for e in listing.entries}
        strangers = [a for a in accounts if a not in on_list]
        if strangers:
            raise Refused(
                "makeup_not_listed",
                accounts="、".join(strangers[:10]),
                more=max(0, len(strangers) - 10),
            )
    elif count is not None and count > len(listing.entries):
        raise Refused("makeup_count_over", size=len(listing.entries), count=count)


def _responsible(units: dict[int, Unit], unit_id: int) -> Unit | None:
    """The unit that answers for a learner in the liaison group: the first-level unit above (or
    at) their unit, else their county / park."""
    unit = units.get(unit_id)
    if unit is None:
        return None
    chain = [units[i] for i in _path_ids(unit.path) if i in units]
    first = next((n for n in chain if n.kind == UnitKind.UNIT.value), None)
    if first is not None:
        return first
    return next((n for n in reversed(chain) if n.kind in COUNTY_KINDS), None)


def makeup_owing(session: Session, config: Config) -> tuple[list[Unit], int, bool]:
    """(units whose makeup list is not fully registered, units with anyone on a list, known).

    A unit is done when every listed learner of its subtree is named in an active makeup
    registration, or its count-only makeup registrations cover the rest. ``known`` is False
    when no result has been imported at all (nobody can tell who must take the makeup)."""
    if not has_results(session):
        return [], 0, False
    units = {u.id: u for u in session.exec(select(Unit).order_by(col(Unit.path), col(Unit.id)))}
    listed = [o for o in _outcomes(session, config) if o.on_makeup_list]
    registered = _makeup_registered(session, [o.learner_id for o in listed])
    pending: dict[int, int] = {}
    expected: set[int] = set()
    for o in listed:
        owner = _responsible(units, o.unit_id)
        if owner is None:
            continue
        expected.add(owner.id)  # type: ignore[arg-type]
        if o.learner_id not in registered:
            pending[owner.id] = pending.get(owner.id, 0) + 1  # type: ignore[index]
    named = set(session.exec(select(RegistrationLearner.registration_id).distinct()))
    counted: dict[int, int] = {}
    for reg in session.exec(
        select(Registration).where(
            Registration.round_key == MAKEUP, Registration.status == "active"
        )
    ):
        if reg.id in named:
            continue
        owner = _responsible(units, reg.unit_id)
        if owner is not None:
            counted[owner.id] = counted.get(owner.id, 0) + reg.learner_count  # type: ignore[index]
    owing = [
        units[uid]
        for uid in sorted(pending, key=lambda i: (units[i].path, i))
        if pending[uid] > counted.get(uid, 0)
    ]
    return owing, len(expected), True


@dataclass(frozen=True)
class Affected:
    account: str
    masked_name: str
    unit_name: str
    detail: str


@dataclass(frozen=True)
class AffectedReport:
    unit_name: str
    absent: list[Affected]  # grade deferred (consequences.absent)
    failed: list[Affected]  # not rated excellent (consequences.failed_makeup)


def affected(
    session: Session,
    config: Config,
    identity: Identity,
    now: dt.datetime,
    unit_code: str | None = None,
) -> AffectedReport:
    """Learners of the administrator's scope whose annual assessment is affected; only once the
    makeup exam window has ended."""
    if not makeup_closed(config, now):
        raise Refused("affected_not_yet", end=config.makeup.exam_end)
    unit = unit_in_scope(session, identity, unit_code)
    names = {
        uid: name
        for uid, name in session.exec(
            select(Unit.id, Unit.name).where(col(Unit.path).startswith(unit.path))
        )
    }
    absent: list[Affected] = []
    failed: list[Affected] = []
    outcomes = sorted(
        _outcomes(session, config, unit.path), key=lambda o: (names.get(o.unit_id, ""), o.account)
    )
    for o in outcomes:
        if not o.on_makeup_list or o.passed_after:
            continue
        item = Affected(o.account, mask_name(o.name), names.get(o.unit_id, ""), _detail(o))
        (failed if o.sat_after else absent).append(item)
    return AffectedReport(unit.name, absent, failed)


def _score(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def _detail(o: Outcome) -> str:
    if not o.sat_after:
        return "未参加考试和补考"
    if o.makeup == "sat":
        return f"补考 {_score(o.makeup_score)} 分"
    return f"考试最高 {_score(o.best_before)} 分，未参加补考"
