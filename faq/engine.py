"""The FAQ engine: the decision to answer, suggest, point to the contacts or stay silent, and the
answer's text.

A message is normalised once (full-width, traditional characters, ``faq.text``) and goes through
question detection (``faq.detect``: in the group, silence beats a wrong answer; messages for
someone else get none), then the facts it states (``faq.facts``: a question about a date, a
time, a count, credits, a score or a named unit is answered by computing, ``faq.reason`` and
``faq.computed``), then ranking (``faq.ranking``: which entry, how sure), then whether that
entry answers it at all (``faq.coverage``: if not, the contacts the notice names), then the
thresholds of the chat it came from. In private chat a follow-up ("那第二次呢") is read against
the chat's question before (``faq.followup``). Answers are the entries' Jinja templates rendered
with the config and the injected clock's "now"; every other word the engine says comes from
``faq/templates``.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from bot.core.config import Config
from bot.core.render import render, strip_html
from faq import compare, forms, reason, repeats, told
from faq.asked import AskedKinds
from faq.compiled import compiled
from faq.compute import COMPUTES, LOOKUPS, base_context
from faq.coverage import Coverage
from faq.decision import Result, Thresholds
from faq.detect import QuestionDetector
from faq.followup import Chat, FollowUps
from faq.knowledge import Entry, load_entries
from faq.modes import GROUP, PRIVATE
from faq.names import unit_mentions
from faq.ranking import Index
from faq.repeats import RecentAnswers, Topic
from faq.text import Lexicon, Segmenter, warm_up
from faq.units import config_names, fact_terms, law_names, resolve_unit
from faq.verdict import AGREED, AGREED_NO, DENIED, RECANT, Verdicts, without_lead

__all__ = ["Entry", "FaqEngine", "Result", "Thresholds", "engine_for", "warm_up"]

MAX_QUESTION_CHARS = 200  # longer messages are statements or notices, not questions
RANK_CACHE = 2048  # distinct recent questions whose ranking is kept
DECISION_CACHE = 2048  # distinct recent (question, mode, minute) whose decision is kept
ROUTED = 0.9  # the confidence of an answer computed from the facts a question states
SIBLING_SHARE = 0.66  # of the shorter answer's words (IDF-weighted) the longer one also says
FULL_RECALL = 0.99  # the entry's words cover every topic word of the question
PART_SURE = 0.6  # each question of a message that asks several must be answered this surely
REPEATABLE = ("answer", "contact")  # what the group repeat rule points back to


class FaqEngine:
    """The knowledge base, indexed for one configuration. Built once per process
    (``engine_for``); thread-safe to query."""

    def __init__(
        self,
        entries: list[Entry],
        lexicon: Lexicon,
        config: Config,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.entries = entries
        self.lexicon = lexicon
        self.config = config
        self.thresholds = thresholds or Thresholds()
        self.by_id = {e.id: e for e in entries}
        patterns: dict[str, list[str]] = reason.vocabulary()["patterns"]  # type: ignore[assignment]
        yes, no = patterns["confirmations"]
        self._confirmations = (yes, no)
        self.detector = QuestionDetector(lexicon)
        names = {name for name in config_names(config) if len(name) >= 2}
        self.segmenter = Segmenter(lexicon, names)
        # The answers' own words (rendered once, at the start of the campaign) also count.
        reference = dt.datetime.combine(config.study.start, dt.time(12), config.tz)
        answers = [strip_html(self.render(e, "", reference)) for e in entries]
        self.index = Index(
            entries,
            answers,
            self.segmenter,
            config,
            self.detector.marker_words(),
            lexicon.key_words(),
        )
        self.coverage = Coverage(self.index, self.detector, AskedKinds(entries, answers))
        self.verdicts = Verdicts(
            lexicon, self.index, self.segmenter, fact_terms(config), law_names(config)
        )
        self.followups = FollowUps()
        self._rank_cached = lru_cache(maxsize=RANK_CACHE)(self.index.rank)
        self._decided = lru_cache(maxsize=DECISION_CACHE)(self._decide_at)
        self._chosen = lru_cache(maxsize=DECISION_CACHE)(self._chosen_at)

    @classmethod
    def from_config(cls, config: Config, thresholds: Thresholds | None = None) -> FaqEngine:
        return cls(load_entries(), Lexicon.load(), config, thresholds)

    @property
    def size(self) -> int:
        """How many phrasings (questions included) the knowledge base has."""
        return self.index.size

    # --- text processing and question detection ------------------------------------------------
    def words(self, text: str) -> list[str]:
        return self.segmenter.words(text)

    # --- ranking ---------------------------------------------------------------------------------
    def rank(self, question: str, k: int = 3) -> list[tuple[Entry, float]]:
        """The ``k`` best entries with their confidence, best first. Ranking does not depend on
        the clock, so the same question (asked dozens of times a day) is ranked once."""
        return list(self._rank_cached(question[:MAX_QUESTION_CHARS], k))

    def clear_rank_cache(self) -> None:
        """Forget every cached ranking and decision (benchmarks measure first-time questions)."""
        self._rank_cached.cache_clear()
        self._decided.cache_clear()
        self._chosen.cache_clear()

    # --- answering -------------------------------------------------------------------------------
    def render(self, entry: Entry, question: str, now: dt.datetime) -> str:
        """The entry's answer as HTML, as of ``now``, for ``question`` (a computed entry reads
        the facts, unit or law it names; a look-up, each unit it names: "市网信办和市财政局…").
        A yes-or-no question gets its yes or no first where the answer decides it
        (``faq.verdict``)."""
        units = unit_mentions(question) if entry.compute in LOOKUPS else []
        if entry.compute == "unit_exam" and len(units) == 2:
            followed = self._followed(entry, question, units, now)
            if followed is not None:
                return followed
        if len(units) < 2:
            return self._rendered(entry, question, now)
        parts = [self._rendered(entry, _only(question, unit, units), now, False) for unit in units]
        return "\n".join(parts) + "\n" + render("faq_source", section=entry.section)

    def _followed(
        self, entry: Entry, question: str, units: list[str], now: dt.datetime
    ) -> str | None:
        """ "县公安局是跟省司法厅考的吧": a unit and the province's body it is said to follow. The
        unit's own answer, whose yes becomes a no where its system is another body's; None
        when the two are not a unit and a province's body."""
        bodies = [u for u in units if reason.province_body(u)]
        others = [u for u in units if u not in bodies]
        if len(bodies) != 1 or len(others) != 1:
            return None
        dept = resolve_unit(self.config, others[0]).dept
        if dept is None:
            return None
        html = self._rendered(entry, _only(question, others[0], units), now)
        if dept.name != bodies[0] and forms.question_lead(question, now) is not None:
            yes, no = self._confirmations
            followed = render("faq_followed", body=bodies[0]).strip()
            html = followed + html.removeprefix(yes).removeprefix(no)
        return html

    def _rendered(
        self, entry: Entry, question: str, now: dt.datetime, with_source: bool = True
    ) -> str:
        context = base_context(self.config, now, question)
        if entry.compute:
            context.update(COMPUTES[entry.compute](self.config, question, now))
        # Compiled on first use (once per process): the index is ready sooner, and every
        # answer is rendered by the tests (tests/test_faq_entries.py).
        body = compiled(entry.answer).render(**context).strip()
        judged = context.get("verdict") is not None  # a computed answer judged the numbers
        text = strip_html(body)
        verdict = self.verdicts.of(entry, question, text, now, judged) if question else None
        if verdict == RECANT:  # "距退休3年以内的都可以免考吧": not "可以申请。…2周年内"
            body, verdict = without_lead(body), "not"
        elif verdict == DENIED:
            body, verdict = without_lead(body), "no"
        elif verdict == AGREED:  # "…就没有机会了吧": "是的，不能。…"
            verdict = "yes_so"
        elif verdict == AGREED_NO:  # "产假结束了就不能免考了吧": not "是的，可以申请。…"
            body, verdict = without_lead(body), "yes_no"
        return render(
            "faq_answer",
            c=self.config,
            body=Markup(body),
            section=self._section(entry, context) if with_source else None,
            verdict=verdict,
            lead=context["lead"],
        )

    def _section(self, entry: Entry, context: dict[str, Any]) -> str:
        """The part of the notice an answer comes from: its entry's, or the entry's whose rule
        a computed answer speaks of (``cites``: "集中考试上午有几场" is 五（四）'s)."""
        cited = self.by_id.get(context.get("cites") or "")
        return (cited or entry).section

    def chosen(self, entry_id: str, now: dt.datetime, asked: str = "") -> Result | None:
        """The answer to a suggestion the asker picked, for the question ``asked`` (a private
        chat's last: "副厅级领导也要考吗" gets its 不用 first) or else for the entry's own;
        None when no such entry exists (any more): callback data is not to be trusted."""
        if entry_id not in self.by_id:  # forged data is not cached
            return None
        return self._chosen(entry_id, asked[:MAX_QUESTION_CHARS], _minute(now))

    def _chosen_at(self, entry_id: str, asked: str, now: dt.datetime) -> Result:
        entry = self.by_id[entry_id]
        body = Markup(self.render(entry, asked or entry.question, now))
        html = render("faq_chosen", c=self.config, question=entry.question, answer=body)
        return Result(entry.question, entry, 1.0, html, kind="answer", mode=PRIVATE)

    def decide(
        self,
        question: str,
        *,
        mode: str = GROUP,
        addressed: bool = False,
        now: dt.datetime,
        recent: RecentAnswers | None = None,
        topic: Topic = None,
        chat: Chat | None = None,
    ) -> Result:
        """Answer, suggest, or stay silent, as the bot would in ``mode`` (GROUP/PRIVATE).
        ``addressed``: the message speaks to the bot (/faq, a mention, a reply). ``recent``: the
        group's recent answers; given, an answer already given in the asker's ``topic`` (of a
        forum; None: no topic) within the repeat window becomes a pointer to it
        (``faq.repeats``). ``chat``: a private chat's id; given, a follow-up ("那第二次呢") is
        read in the context of the chat's question before (``faq.followup``)."""
        question = question.strip()
        if chat is not None and mode == PRIVATE:
            asked = self.followups.resolve(chat, question, now)
            result = self._decide(asked, mode, addressed, now)
            if result.kind in ("answer", "suggest"):
                self.followups.remember(chat, asked, now)
            return result
        result = self._decide(question, mode, addressed, now)
        if recent is None or result.kind not in REPEATABLE or mode != GROUP:
            return result
        earlier = repeats.find_earlier(recent, result.answer_html or "", now, topic)
        if earlier is None:
            return result
        html = render("faq_repeat", c=self.config, minutes=earlier.minutes)
        return Result(
            result.question,
            result.entry,
            result.score,
            html,
            kind="repeat",
            reply_to=earlier.message_id,
        )

    def remember(
        self,
        recent: RecentAnswers,
        result: Result,
        message_id: int,
        now: dt.datetime,
        topic: Topic = None,
    ) -> None:
        """Note that ``message_id`` carried ``result`` in a group's ``topic``, for the repeat
        rule."""
        if result.kind in REPEATABLE and result.mode == GROUP and result.answer_html is not None:
            repeats.remember(recent, result.answer_html, message_id, now, topic)

    def _decide(self, question: str, mode: str, addressed: bool, now: dt.datetime) -> Result:
        """The decision as of ``now``'s minute: no rule of the notice is finer than a minute
        (windows close on the minute, sessions start on it), so a question asked again within
        the minute (a group repeating itself, a burst of the same question) is decided once."""
        if len(question) > MAX_QUESTION_CHARS * 5:
            return Result(question, None, 0.0, None, mode=mode)  # not kept: no question
        return self._decided(question, mode, addressed, _minute(now))

    def _decide_at(self, question: str, mode: str, addressed: bool, now: dt.datetime) -> Result:
        """The decision for one message; one that asks several questions the whole of it does
        not answer ("一场考试多长时间、满分是多少、多少分算合格") gets each question's answer, when
        every one of them is answered surely on its own."""
        result = self._decide_one(question, mode, addressed, now)
        # Not a message kept from us (chatter, someone else's, a fragment: silent, no entry).
        ours = result.kind in ("answer", "contact", "suggest") or result.entry is not None
        if ours and result.kind != "repeat" and (pair := compare.sides(question)) is not None:
            return self._compared(result, pair, mode, addressed, now)
        asks = self.detector.has_question_marker
        parts = told.asked_parts(question, now, asks) if ours and result.kind != "repeat" else []
        if len(parts) < 2:
            return result
        joined = self._joined(question, parts, mode, addressed, now)
        return joined if joined is not None else self._confirming(result, parts, now)

    def _joined(
        self, question: str, parts: list[str], mode: str, addressed: bool, now: dt.datetime
    ) -> Result | None:
        """Each part's answer, one after another, when every part is answered surely (the
        first that is not ends it) and by two entries at least; else None."""
        chosen: dict[str, tuple[Entry, Result]] = {}
        for piece in parts:
            answer = self._decide_one(piece, mode, addressed, now, draft=True)
            if answer.kind != "answer" or answer.entry is None or answer.score < PART_SURE:
                return None
            chosen.setdefault(answer.entry.id, (answer.entry, answer))
        if len(chosen) < 2:
            return None
        answers = [self._answer(a.question, e, a.score, mode, now) for e, a in chosen.values()]
        html = "\n".join(a.answer_html or "" for a in answers)
        return Result(question, answers[0].entry, answers[0].score, html, kind="answer", mode=mode)

    def _compared(
        self, result: Result, pair: tuple[str, str], mode: str, addressed: bool, now: dt.datetime
    ) -> Result:
        """ "第一次和第二次分众考试有什么不一样": the answer to the whole when it speaks of both
        sides, else each side's own answer; in the group, no half answer."""
        words = [set(self.words(side)) for side in pair]
        if result.kind != "answer" or compare.covers(
            result, words, self.lexicon, self.index.key_words
        ):
            return result
        joined = self._joined(result.question, list(pair), mode, True, now)  # a topic each
        if joined is not None or mode != GROUP or addressed:
            return joined or result
        return Result(result.question, result.entry, result.score, None, mode=mode)

    def _confirming(self, result: Result, parts: list[str], now: dt.datetime) -> Result:
        """ "单选多选各几道？一共30道对吧": the answer to the message, opened with the yes or no
        its part that states a belief gets from the same entry."""
        entry, html = result.entry, result.answer_html
        if result.kind != "answer" or entry is None or not html:
            return result
        if strip_html(html).startswith(self.lexicon.answer_leads):
            return result  # it says its own yes or no
        for piece in parts:
            if forms.question_lead(piece, now) != "be":
                continue
            opening = strip_html(self._rendered(entry, piece, now, False))
            lead = next((w for w in self._confirmations if opening.startswith(w)), None)
            if lead is not None:
                return replace(result, answer_html=lead + html)
        return result

    def _decide_one(
        self, question: str, mode: str, addressed: bool, now: dt.datetime, draft: bool = False
    ) -> Result:
        """The decision for one question; a ``draft`` answer is decided but not written (its
        ``answer_html`` is empty): a part of a message is written only once every part is sure."""
        t = self.thresholds
        answer = self._draft if draft else self._answer
        silent = Result(question, None, 0.0, None, mode=mode)
        d = self.detector
        if d.is_chatter(question):
            return silent
        in_group = mode == GROUP and not addressed
        relayed = d.without_relay(question)  # "学员问我…": the learner's question, in his words
        if in_group and (d.addressed_to_other(question) or not self.coverage.for_us(relayed)):
            return silent  # chatter, notices, reports, messages for someone else: not for us
        if in_group and self.followups.fragment(question) is not None:
            return silent  # "那第二次呢": a reply within someone's conversation
        asks = d.has_question_marker(question) or d.describes_problem(question)
        # "@管理员 …", "学员问我…": what is asked, not of whom or by whom
        asked = d.without_relay(d.without_bot_mention(question))
        fault = d.describes_problem(question) and d.platform_problem(question)
        if (asks or not in_group) and not fault:  # "成绩显示0分 系统出问题了": not a score check
            routed = (
                reason.PLATFORM
                if reason.platform_asked(asked, now)
                else reason.route(self.config, d.without_off_topic(asked), now)
            )
            entry = self.by_id.get(routed or "")
            if entry is not None and self.coverage.computes(entry, asked, now, self.rank):
                return answer(asked, entry, ROUTED, mode, now)
        ranked = self.coverage.fitting(asked, self.rank(asked))
        top, score = ranked[0] if ranked else (None, 0.0)
        uncovered = self.coverage.uncovered(asked, self.words(asked), top, score)
        # Unsure of the entry, for a question naming none of the notice's grounds: a weakly
        # matched "快退休了…" or "得了重病…" is not to be told it is no ground.
        named_ground = reason.names_ground(asked, now)
        unsure = (uncovered or score < t.private) and not named_ground
        if unsure and not fault and (asks or not in_group) and reason.asks_exemption(asked, now):
            # The notice's grounds of exemption are all there are: "出差在外地能免考吗", "普通
            # 感冒请了两天病假能免考不" are answered by them, not only with the phone.
            return answer(asked, self.by_id[reason.UNLISTED], ROUTED, mode, now)
        ground = reason.ground_asked(asked, now) if named_ground and score < t.private else None
        if ground is not None and not fault and self.coverage.speaks_to(self.by_id[ground], asked):
            # "8月20号刚生小孩现在在休产假她今年…能申请免考吗": the ground's own rule, however
            # long the message around it
            return answer(asked, self.by_id[ground], ROUTED, mode, now)
        if in_group:
            # A message that says it is a question ("吗", "怎么", "？") needs less certainty about
            # the topic than a bare phrase does.
            needed = t.group if d.has_question_marker(question) else t.group_phrase
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            if score - runner_up >= t.margin:
                needed -= t.clear_bonus  # no other entry comes close
            if top is not None and score >= needed and not uncovered:
                if self.agreed(asked, ranked):
                    return answer(asked, top, score, mode, now)
                return Result(question, top, score, None, mode=mode)
            if self.coverage.asks_for_help(question):
                kind = self.coverage.kind(question)
                return self._contacts(question, top, score, mode, kind, unsure=not uncovered)
            return Result(question, top, score, None, mode=mode)
        threshold = t.addressed if mode == GROUP else t.private
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        clear = score - runner_up >= t.direct_margin or score >= t.sure
        if top is not None and score >= threshold and clear and not uncovered:
            return answer(asked, top, score, mode, now)
        on_topic = d.on_topic(question)
        # In private chat a message mostly of words the notice lacks ("考试时间多长 我们有些老
        # 同志打字慢…") still gets the buttons, with the contacts under them.
        if (
            uncovered
            and on_topic
            and (mode != PRIVATE or self.coverage.uncovered(asked, [], top, score, loosely=False))
        ):
            return self._contacts(question, top, score, mode, self.coverage.kind(question))
        candidates = [e for e, s in ranked if s >= t.suggest]
        if candidates:
            html = render(
                "faq_suggest",
                c=self.config,
                candidates=candidates,
                private=mode != GROUP,
                contacts=on_topic,
            )
            return Result(question, top, score, html, candidates, kind="suggest", mode=mode)
        html = render("faq_fallback", c=self.config)
        return Result(question, top, score, html, kind="fallback", mode=mode)

    def agreed(self, question: str, ranked: list[tuple[Entry, float]]) -> bool:
        """Whether the best entry is a sure choice for a message nobody addressed to us: far
        ahead of the runner-up, or scored very high, or ahead and backed by a second signal
        (the answers' own words pick the same entry, or the entry's words cover every topic
        word of the question). On phrasings the index has never seen, answers that fail this
        are wrong several times as often as those that pass. A runner-up whose answer says
        much the same as the best's is no rival."""
        t = self.thresholds
        (top, score), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
        if score - runner_up >= t.group_margin or score >= t.group_sure:
            return True
        if len(ranked) > 1 and self.index.answers_overlap(top, ranked[1][0]) >= SIBLING_SHARE:
            return True  # two entries saying much the same ("密码重置后是多少" / "谁来重置")
        if score - runner_up < t.agree_margin:
            return False
        words = self.words(question)
        choice = self.index.answer_choice(words)
        return (choice is not None and choice.id == top.id) or self.index.entry_recall(
            set(words), top
        ) >= FULL_RECALL

    def _contacts(
        self,
        question: str,
        top: Entry | None,
        score: float,
        mode: str,
        kind: str,
        unsure: bool = False,
    ) -> Result:
        """The notice does not answer it (or, ``unsure``, no entry surely does): where to ask
        (``faq.coverage``)."""
        html = render("faq_contacts", c=self.config, kind=kind, unsure=unsure)
        return Result(question, top, score, html, kind="contact", mode=mode)

    def _draft(
        self, question: str, entry: Entry, score: float, mode: str, now: dt.datetime
    ) -> Result:
        return Result(question, entry, score, "", kind="answer", mode=mode)

    def _answer(
        self, question: str, entry: Entry, score: float, mode: str, now: dt.datetime
    ) -> Result:
        html = self.render(entry, question, now)
        return Result(question, entry, score, html, kind="answer", mode=mode)


def _only(question: str, unit: str, units: list[str]) -> str:
    """``question`` as if it named ``unit`` alone of ``units``."""
    for other in units:
        if other != unit:
            question = question.replace(other, "")
    return question


def _minute(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


_engines_lock = threading.Lock()
_engines: dict[int, tuple[Config, FaqEngine]] = {}


def engine_for(config: Config) -> FaqEngine:
    """One FAQ engine per configuration in a process (building one takes a few hundred ms)."""
    with _engines_lock:
        cached = _engines.get(id(config))
        if cached is None or cached[0] is not config:
            cached = (config, FaqEngine.from_config(config))
            _engines[id(config)] = cached
        return cached[1]
