"""Questions answered by computing, not by the nearest entry: a question that states a fact
(a date, a time, a count, credits, a score, a unit) and asks about it.

"5月18号能考吗" is not "when is the exam": it wants yes or no for 5月18日. ``route`` reads the
question's facts (``faq.facts``) and cues (``cues.toml``) and names the entry whose computed
template answers it (``faq.computed``); None leaves the question to the ranking.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from bot.core.config import Config
from faq import facts as facts_
from faq.facts import Facts
from faq.forms import has_wh, lead, vocabulary
from faq.names import COUNTY, find_names, unit_mention
from faq.schedule import CENTRALIZED, COUNTY_PLANS, EXAM, QUESTIONS, REGISTER, STUDY
from faq.units import question_department, resolve_unit

# The entries whose templates compute an answer (faq/entries.toml).
CALENDAR = "registration-status"
SESSIONS = "session-times"
STUDY_DEADLINE = "study-deadline"
SCORE = "exam-score"
CREDITS = "exam-eligibility"
SEATS = "centralized-batching"
COUNTY_UNITS = "county-min-units"
RETIREMENT = "exemption-retirement"
UNLISTED = "exemption-unlisted"
NO_STUDY = "exemption-no-study"
AFTER_MAKEUP = "after-makeup"
WHO_TAKES_PART = "who-participates"
PLATFORM = "platform"
UNIT_EXAM = "category-department-scope"
CENTRALIZED_UNIT = "centralized-units"
QUESTION_DUTY = "question-department-laws"
ROUTED = (
    CALENDAR,
    SESSIONS,
    STUDY_DEADLINE,
    SCORE,
    CREDITS,
    SEATS,
    COUNTY_UNITS,
    RETIREMENT,
    UNLISTED,
    NO_STUDY,
    UNIT_EXAM,
    CENTRALIZED_UNIT,
    QUESTION_DUTY,
)


@dataclass(frozen=True)
class Cues:
    """Which cue groups of ``cues.toml`` a question holds, and the zone round it names."""

    exam: bool = False
    register: bool = False
    makeup: bool = False
    centralized: bool = False
    county: bool = False
    county_plans: bool = False
    category: bool = False
    zone: bool = False
    online_self: bool = False
    other_platform: bool = False
    total: bool = False
    consent: bool = False
    starts: bool = False
    ends: bool = False
    questions: bool = False
    study: bool = False
    credit: bool = False
    session: bool = False
    seat: bool = False
    enough: bool = False
    retire: bool = False
    reckon: bool = False
    enrol: bool = False
    open_still: bool = False
    exempted: bool = False
    missed: bool = False
    threshold: bool = False
    failed: bool = False
    retake: bool = False
    remedy: bool = False
    last_session: bool = False
    first_session: bool = False
    after: bool = False
    exemption: bool = False
    exemption_steps: bool = False
    passing: bool = False
    eligible: bool = False
    still: bool = False
    later: bool = False
    either: bool = False
    agenda: bool = False
    status_now: bool = False
    same_day: bool = False
    day_before: bool = False
    which_exam: bool = False
    question_duty: bool = False
    duty_ask: bool = False
    round: int | None = None

    @property
    def scope(self) -> str | None:
        """The window the question is about: a round's key, or a window of ``faq.schedule``."""
        if self.makeup:
            return "makeup"
        if self.county_plans and self.county:
            return COUNTY_PLANS
        if self.centralized:
            return CENTRALIZED
        if self.category:
            return "category"
        if self.round is not None:
            return f"zone{self.round}"
        if self.questions:
            return QUESTIONS
        return None

    @property
    def action(self) -> str | None:
        if self.register and self.exam and self.either:
            return None  # "是报名还是考试": whichever is on
        if self.register:
            return REGISTER
        if self.exam:
            return EXAM
        if self.study:
            return STUDY
        return None


CUE_NAMES = [f.name for f in fields(Cues) if f.type in ("bool", bool)]


@lru_cache(maxsize=4096)
def read_cues(text: str) -> Cues:
    """The cues in ``text`` (already normalised, as ``Facts.text``)."""
    vocab = vocabulary()
    groups: dict[str, list[str]] = vocab["cues"]  # type: ignore[assignment]
    present: dict[str, bool] = {}
    for name in CUE_NAMES:
        where = text
        for word in groups.get(f"not_{name}", []):  # "报题" is no "报", "学法考法" no "学法"
            # ... and "日报" no "报", but "24日报的名" is: a day's 日 is no word's
            where = re.sub(rf"(?<!\d){re.escape(word)}", " ", where)
        present[name] = any(w in where for w in groups.get(name, []))
    rounds: dict[str, list[str]] = vocab["rounds"]  # type: ignore[assignment]
    named = [int(n) for n, words in rounds.items() if any(w in text for w in words)]
    # "第一次第二次都没参加": both rounds, so neither is the one asked about
    return Cues(**present, round=named[0] if len(named) == 1 else None)


EXAM_KINDS = ("makeup", "centralized", "category", "zone")


def round_words(text: str) -> str:
    """The zone round ``text`` (normalised) names and what of it ("第二次报名", "第一次考试"), or
    "" when it names none or both."""
    cue = read_cues(text)
    if cue.round is None:
        return ""
    rounds: dict[str, list[str]] = vocabulary()["rounds"]  # type: ignore[assignment]
    word = next(w for w in rounds[str(cue.round)] if w in text)
    actions: dict[str, list[str]] = vocabulary()["round_actions"]  # type: ignore[assignment]
    action = next((a for a in actions["words"] if a in text), "")
    return word + action


def exam_kind_word(text: str) -> str | None:
    """The word by which ``text`` (normalised) names the one kind of exam it speaks of
    (补考, 集中考试, 分类, 分众), or None when it names none or several. A clause said in the
    negative ("不参加分类组考") speaks of no kind."""
    negations: list[str] = vocabulary()["negation"]["words"]  # type: ignore[index]
    clauses = re.split(r"[，,。；;！!？?]", text)
    text = "，".join(c for c in clauses if not any(n in c for n in negations))
    cue = read_cues(text)
    kinds = [k for k in EXAM_KINDS if getattr(cue, k)]
    if len(kinds) != 1:
        return None
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    return next(w for w in groups[kinds[0]] if w in text)


def understand(question: str, now: dt.datetime) -> tuple[Facts, Cues]:
    f = facts_.read(question, now.date())
    return f, read_cues(f.text)


def route(config: Config, question: str, now: dt.datetime) -> str | None:
    """The computed entry that answers ``question``, or None."""
    f, cue = understand(question, now)
    moment = bool(f.days or f.times or f.now)
    if (
        cue.credit
        and (cue.exam or cue.day_before or cue.same_day)
        and (moment or cue.day_before or cue.same_day)
    ):
        return STUDY_DEADLINE
    if cue.credit and len(set(f.days)) >= 2 and f.times:
        return STUDY_DEADLINE  # "报的是9月27号的，那学分26号晚上九点前学完就行吧"
    if (
        f.score is not None
        and (cue.passing or cue.exam)
        and not (cue.study or cue.threshold or cue.retake)
    ):
        return SCORE  # "考了58分算过吗"; not "及格线是80分吧", which asks the rule
    if cue.exempted and (cue.credit or cue.study) and not cue.register:
        return NO_STUDY  # "免考的学员也还是要把100学分学满的吧": no credits to count
    if f.required is not None or f.elective is not None or f.total is not None:
        return CREDITS
    if f.required_complete and cue.exam:
        return CREDITS
    if asks_level(f.text, cue):
        return WHO_TAKES_PART  # "厅级干部也要考吗", "考试对象到么子级别为止"
    timed = bool(f.times or f.periods)
    if f.people is not None and (
        cue.seat or (cue.centralized and not timed and (cue.session or not cue.which_exam))
    ):
        # not "有60来个人，集中考试的单位名单里有没有我们": which list it is on; nor "我们有三十
        # 个人，能不能都安排在晚上考": the online sessions have no seats to count, and the
        # centralized exam's are asked of by their time ("晚上那场集中考试行不行")
        return SEATS
    if f.units is not None and (cue.county or cue.county_plans):
        return COUNTY_UNITS
    if cue.retire and (f.dates or months_to(f.text) is not None) and not cue.credit:
        if cue.exemption_steps or cue.reckon:
            # "…是按今年年底12月31号来算的吧": the rule's day of reckoning, not a retirement
            return None  # "12月退休…我直接给他设置免考就行吧": how, not whether
        return RETIREMENT  # "2025年3月退休", "离退休还有两年半"; not "退休的还要刷学分不"
    if cue.exemption and denies_ground(f.text):
        return UNLISTED  # "长期病假但不算重大疾病 能免考不"
    # "市公交公司集中考试预报名没报，今天报还行不", "…集中考试能不能改到9月28号": the days, not
    # whether the unit is on the list
    dated = bool(f.days or f.now) and (cue.register or cue.still or lead(f.text) is not None)
    unit = named_unit(config, f.text, cue, timed=bool(f.times or f.periods) or dated)
    if unit == UNIT_EXAM and f.now and (cue.still or cue.status_now):
        unit = None  # "县税务局…现在还能在分类里考吗": whether the exam is still on
    if unit is not None:
        return unit
    if bare_unit(config, f.text):
        return UNIT_EXAM  # "衡东县教育局呢", asked out of the blue: which exam it takes
    if timed and (cue.session or cue.exam) and not cue.register and not cue.study:
        return SESSIONS
    if cue.total and cue.session and has_wh(f.text) and not (cue.register or cue.seat):
        return SESSIONS  # "集中考试四天加起来一共有多少场可以选"
    if f.times and cue.session and not cue.study:
        return SESSIONS  # "想报晚上20:30那场，有这个场次吗": the session, not the registration
    if cue.session and cue.still and any(s.relative for s in f.dates) and not cue.register:
        return SESSIONS
    # a day to come, or today named by its date ("…都错过了，今天10号能考吗")
    later = any(
        s.day is not None and (s.day > now.date() or (s.day == now.date() and not s.relative))
        for s in f.dates
    )
    # "补考也没赶上还有机会吗": none after it; not "第一次没赶上，补考几号", nor a makeup day
    # missed while days of it are left
    missed_makeup = cue.missed and cue.makeup and _makeup_missed(f.text)
    makeup_left = config.makeup.exam_start <= now.date() < config.makeup.exam_end
    if missed_makeup and not cue.register and not makeup_left:
        return AFTER_MAKEUP
    if cue.missed and cue.exam and not cue.register and not later:
        # "错过了今天的考试 还有机会吗": the makeup's rule, whatever the day; but "都没赶上，10月
        # 份还有考试吗" asks of a time to come
        return None
    this_year = any(s.day is not None and s.day.year == now.year for s in f.dates)
    if cue.exemption and (cue.credit or cue.study) and not cue.register:
        # "给他免考的话他还要看视频挣学分不": the exemption's rule, whatever the date
        return NO_STUDY
    if _asks_day_after_told(f):
        return None  # "分类组考是7月1日到8月31日之间，具体哪天考？": the day is asked for
    if (this_year or f.now) and (cue.action or cue.scope or cue.agenda) and not cue.exemption:
        return CALENDAR  # not "8月20号生了小孩…能申请免考吗": the notice sets no days for 免考
    submitted = cue.scope in (QUESTIONS, COUNTY_PLANS)  # "报题还来得及吗": a submission's deadline
    if cue.status_now and (cue.action in (EXAM, REGISTER) or submitted) and not cue.failed:
        return CALENDAR if not cue.after else None
    return None


def _makeup_missed(text: str) -> bool:
    """Whether the makeup is said to be missed itself ("补考也没赶上", "补考那几天又没考成"): a
    word of missing a few characters after its name, and no one it is for ("补考是给…没赶上的人
    考的吧")."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    missed = "|".join(re.escape(w) for w in groups["missed"])
    makeup = "|".join(re.escape(w) for w in groups["makeup"])
    return (
        re.search(f"(?:{makeup})[^，,。；;？?！!\\s给对是]{{0,4}}(?:{missed})(?!的(?!话))", text)
        is not None
    )


def _asks_makeup(text: str) -> bool:
    """Whether a question asks of the makeup: a question word after its name ("…补考是几号？
    哪个报名？"), not the makeup named as a time ("补考前想搞清楚")."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    at = max((text.rfind(w) for w in groups["makeup"]), default=-1)
    rest = text[at:]
    return at >= 0 and (has_wh(rest) or any(w in rest for w in ("吗", "么", "吧")))


def level_named(text: str) -> tuple[str | None, bool | None]:
    """The rank of staff ``text`` names and whether the participants' scope holds it (a rank
    above it named wins: "厅级干部…处级以下"), or (None, None)."""
    above, within = _levels()
    named = next((w for w in above if w in text), None)
    if named is not None:
        return named, False
    named = next((w for w in within if w in text), None)
    return named, (True if named is not None else None)


@lru_cache(maxsize=1)
def _levels() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ranks above the scope and within it, longest first ("副厅级" before "厅级")."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    return tuple(_longest(groups["level_above"])), tuple(_longest(groups["level_within"]))


def asks_level(text: str, cue: Cues) -> bool:
    """Whether a question asks if staff of a rank take part ("科员办事员都要考吧"), or up to
    which rank they do ("参加对象到哪一级为止"), and nothing else of theirs."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    asks_rank = any(w in text for w in groups["level_asked"])
    if level_named(text)[0] is None and not asks_rank:
        return False
    # "他说他是调研员不用考": whether they take part, not an exemption (免考, 免试 …)
    exempted = any(w in text for w in groups["exemption"] if "免" in w)
    other = (
        exempted
        or cue.retire
        or cue.register
        or cue.credit
        or cue.centralized
        or cue.makeup
        or cue.which_exam
        or cue.question_duty
        or cue.session
    )
    return not other and (asks_rank or lead(text) is not None)


def platform_asked(question: str, now: dt.datetime) -> bool:
    """Whether a question asks if the campaign is on another platform ("听说今年学法考法改到学
    习强国上考了，是真的吗", "换平台了，不在如法网上考了"): it is on 如法网. Read before another
    app's name is set aside."""
    f, cue = understand(question, now)
    return cue.other_platform and (cue.exam or cue.study) and bool(lead(f.text) or has_wh(f.text))


def _asks_day_after_told(f: Facts) -> bool:
    """Whether the last clause asks for a day ("具体哪天考？") and names none, the days of the
    message standing in the clauses before it."""
    forms_: dict[str, list[str]] = vocabulary()["forms"]  # type: ignore[assignment]
    start = max(
        (m.end() for m in re.finditer(r"[，,。；;！!？?]", f.text.rstrip("？?。 "))), default=0
    )
    last = f.text[start:]
    told = f.dates and all(s.at < start and not s.relative for s in f.dates)
    return bool(told) and lead(last) is None and any(w in last for w in forms_["when"])


def named_last(text: str, cue: str, other: str) -> bool:
    """Whether the words of cue group ``cue`` come last in ``text``, after those of ``other``."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]

    def last(name: str) -> int:
        return max((text.rfind(w) for w in groups[name]), default=-1)

    return last(cue) > last(other)


GROUNDS = {"ground_maternity": "exemption-maternity", "ground_illness": "exemption-illness"}


def ground_asked(question: str, now: dt.datetime) -> str | None:
    """The entry of the one ground of exemption a "能免考吗" question names ("8月20号刚生小孩现在
    在休产假她今年能申请免考吗"; not one like it: "陪产假"), or None."""
    if not asks_exemption(question, now):
        return None
    f = understand(question, now)[0]
    may_be: str = vocabulary()["patterns"]["may_be_exempt"]  # type: ignore[index]
    if lead(f.text) != "can" or not re.search(may_be, f.text):
        return None  # "休产假免考的人年底能评优秀吗": exempt already, something else asked
    return ground_named(f.text)


def ground_named(text: str) -> str | None:
    """The entry of the one ground of exemption ``text`` names, or None when it names none or
    several."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    for other in groups["like_ground"]:
        text = text.replace(other, "")
    named = [entry for key, entry in GROUNDS.items() if any(w in text for w in groups[key])]
    return named[0] if len(named) == 1 else None


def denies_ground(text: str) -> bool:
    """Whether ``text`` says a listed ground of exemption does not apply ("不算重大疾病")."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    return any(n + g in text for n in groups["not_ground"] for g in groups["ground"])


def names_ground(question: str, now: dt.datetime) -> bool:
    """Whether a question names one of the notice's grounds of exemption (its words)."""
    groups: dict[str, list[str]] = vocabulary()["cues"]  # type: ignore[assignment]
    text = understand(question, now)[0].text
    for other in groups["like_ground"]:
        text = text.replace(other, "")
    return any(g in text for g in groups["ground"])


def asks_exemption(question: str, now: dt.datetime) -> bool:
    """Whether a yes-or-no question asks whether someone may be exempted ("出差在外地能免考
    吗"), not how, nor what an exempted learner must still do."""
    f, cue = understand(question, now)
    aside = cue.credit or cue.study or cue.exemption_steps
    return cue.exemption and not aside and lead(f.text) is not None


# "离退休还有2年半", "还差1年03个月退休", "再过18个月退休": how long until it happens.
_WAIT = re.compile(
    r"(?:还有|还差|差|再过|还剩|不到|没得|没有|不足)(\d+)(?:(年)(半)?(?:零?(\d+)个?月)?|个?月)"
)


def months_to(text: str) -> int | None:
    """The months a question says are left ("还有2年半" -> 30), or None."""
    m = _WAIT.search(text)
    if m is None:
        return None
    number, years, half, extra = m.groups()
    if not years:
        return int(number)
    return int(number) * 12 + (6 if half else 0) + int(extra or 0)


BARE_TAILS = re.compile(r"[呢吗嘛啊呀的？?。.!！\s]+")


def bare_unit(config: Config, text: str) -> bool:
    """A message that is a unit's name and nothing else ("衡东县教育局呢") whose attachment-1
    system is known."""
    mention = unit_mention(text)
    if mention is None or BARE_TAILS.sub("", text.replace(mention, "")):
        return False
    unit = resolve_unit(config, text)
    return unit.dept is not None or unit.member is not None


def province_body(name: str) -> bool:
    """Whether ``name`` is a body of the province ("省司法厅"), which takes none of the city's
    exams."""
    bodies: dict[str, list[str]] = vocabulary()["bodies"]  # type: ignore[assignment]
    return name.startswith(tuple(bodies["province"]))


def named_unit(config: Config, text: str, cue: Cues, timed: bool = False) -> str | None:
    """The entry for a question about a named unit: its question-bank duty, its centralized
    exam, or which exam it takes (attachment 1 by its system). A county's department
    ("县医保局") is not the city's namesake on the centralized list; a question about the
    session times of a listed unit ("城建投下午场几点") is about the times."""
    city = config.campaign.city
    # "好多局都要报30道题，我们单位没在那个名单里，是不是也要报": the list of the question bank
    listed_only = not read_cues(text.replace("名单", "")).which_exam
    if cue.question_duty and cue.duty_ask and (not cue.which_exam or listed_only):
        bank = find_names(text, [q.department for q in config.question_bank], city)
        if question_department(config, text, dt.datetime.min)["named"] is not None:
            return QUESTION_DUTY
        if bank or unit_mention(text) is not None:
            return QUESTION_DUTY
    if not (cue.which_exam or cue.exam) or cue.exemption or _asks_makeup(text):
        # "我们是县教育局，免考要备案吗": the exemption's rule, not the unit's exam; "县法院有5个
        # 干警分类考试冇及格…补考是几号": the makeup, the province's, whichever exam was failed
        return None
    unit = resolve_unit(config, text)
    if unit.dept is None and unit.mention is not None and province_body(unit.mention):
        return None  # "读本是省司法厅编的吧": a body of the province, of no system of attachment 1
    if unit.level != COUNTY and find_names(text, config.centralized.units, city):
        return None if timed else CENTRALIZED_UNIT
    if unit.dept is not None or unit.member is not None:
        return UNIT_EXAM
    if unit.mention is not None and cue.which_exam:
        return UNIT_EXAM
    return None


def _longest(words: list[str]) -> list[str]:
    return sorted(words, key=len, reverse=True)
