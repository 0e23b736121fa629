"""The words of ``facts.toml`` as the patterns ``faq.facts`` reads a question with."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).resolve().parent / "facts.toml"
ASKED = r"(?<![\d哪几])"  # "哪两位": the count asked after, not one stated; "几10" no 0


def _alt(words: Any) -> str:
    """A regex alternation of ``words``, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class Vocabulary:
    raw: dict[str, Any]
    numeral: re.Pattern[str]
    after_month: re.Pattern[str]
    after_credit: re.Pattern[str]
    month_day: re.Pattern[str]
    year_month: re.Pattern[str]
    week_only: re.Pattern[str]
    dotted: re.Pattern[str]
    day_only: re.Pattern[str]
    span_end: re.Pattern[str]
    relative: re.Pattern[str]
    weekday: re.Pattern[str]
    holiday: re.Pattern[str]
    weekend: re.Pattern[str]
    month_end: re.Pattern[str]
    clock: re.Pattern[str]
    period: re.Pattern[str]
    people: re.Pattern[str]
    people_word: re.Pattern[str]
    units: re.Pattern[str]
    required: re.Pattern[str]
    elective: re.Pattern[str]
    total: re.Pattern[str]
    total_after: re.Pattern[str]
    required_after: re.Pattern[str]
    studied: re.Pattern[str]
    complete: re.Pattern[str]
    score_before: re.Pattern[str]
    score_after: re.Pattern[str]
    score_plain: re.Pattern[str]
    keep: re.Pattern[str]

    def period_before_numeral(self, text: str, m: re.Match[str]) -> bool:
        """A part of the day right before the numeral makes it an hour ("下午一点")."""
        return any(text[: m.start()].endswith(p) for p in self.raw["periods"])

    @classmethod
    def load(cls, path: Path = FACTS_PATH) -> Vocabulary:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        m = raw["marks"]
        units = _alt(raw["numeral_units"])
        periods = _alt(raw["periods"])
        counts, scores = raw["counts"], raw["scores"]
        fill = f"(?:{_alt(scores['fillers'])}|\\s)*"
        more = _alt(counts["more"])
        # "一共18个人", "一共30道": no credits
        counted = _alt([*counts["people"], *counts["units"], *counts["other_counts"]])
        num = re.escape(m["numerals"])
        year, month, minute = (re.escape(m[k]) for k in ("year", "month", "minute"))
        day, hour, ranges = _alt(m["day"]), _alt(m["hour"]), _alt(m["range"])
        credit, piece = _alt(m["credit_words"]), re.escape(m["piece"])
        no_score = _alt(m["not_score_after"])
        minutes = re.escape(m["not_score_after"][0])
        return cls(
            raw=raw,
            numeral=re.compile(f"[{num}]++(?=(?:{units}))"),
            after_month=re.compile(f"(?<={month})[{num}]++"),
            # "总学分已经一百二了", "选修四十": a number of credits, at a clause's end (not
            # "学分一直不涨")
            after_credit=re.compile(
                f"((?:{_alt([*scores['total'], *scores['required'], *scores['elective']])}){fill})"
                f"([{num}]++)(?=[了分多吗呢吧啦啊,，。;；?？!！\\s]|$)"
            ),
            month_day=re.compile(
                f"(?:(\\d{{4}}){year})?(?<!\\d)(\\d{{1,2}}){month}(?:(\\d{{1,2}})(?:{day})?)?"
            ),
            year_month=re.compile(f"(\\d{{4}}){year}(?!\\d{{1,2}}{month})"),
            week_only=re.compile(f"({_alt(raw['weeks'])})(?!{_alt(raw['weekdays'])})"),
            dotted=re.compile(
                f"(?<![\\d.:/-])(\\d{{1,2}})[./-](\\d{{1,2}})(?![\\d:./-])"
                f"(?!\\s*(?:{_alt(m['not_date_after'])}))"
            ),
            day_only=re.compile(
                # not "衡法办〔2022〕12号", a document's number
                f"(?<![\\d{month}./:{re.escape(m['not_day_before'])}])(\\d{{1,2}})(?:{day})"
                f"(?!{_alt(raw['times']['not_after_day'])})"
            ),
            span_end=re.compile(
                f"^\\s*(?:{ranges})\\s*(?:(\\d{{1,2}}){month})?(\\d{{1,2}})(?:{day})?"
            ),
            relative=re.compile(_alt(raw["relative_days"])),
            weekday=re.compile(f"({_alt(raw['weeks'])})({_alt(raw['weekdays'])})"),
            holiday=re.compile(_alt(raw["holidays"])),
            weekend=re.compile(_alt(raw["weekends"])),
            month_end=re.compile(_alt(raw["month_ends"])),
            clock=re.compile(
                f"({periods})?\\s*(\\d{{1,2}})\\s*(?:[:\\uff1a](\\d{{2}})|(?:{hour})"
                f"(?!{_alt(m['not_hour_after'])})"
                f"(?:\\s*({re.escape(raw['times']['half'])})|\\s*(\\d{{1,2}})\\s*{minute}?(?!{minutes})|"
                f"({re.escape(raw['times']['quarter'])}))?)"
            ),
            period=re.compile(periods),
            people=re.compile(
                f"{ASKED}(\\d+)\\s*({more})?\\s*(?:{_alt(counts['people'])})"
                f"(?!{_alt(m['not_people_after'])})"
            ),
            people_word=re.compile(f"(?:{_alt(counts['people_words'])}){fill}(\\d+)"),
            # "60来个人" counts people, not units; "这2个单位" points at units named, counts none
            units=re.compile(
                f"{ASKED}(?<![这那])(\\d+)\\s*({more})?\\s*(?:{_alt(counts['units'])})(?![人名位])"
            ),
            required=re.compile(f"(?:{_alt(scores['required'])}){fill}(\\d+)"),
            elective=re.compile(f"(?:{_alt(scores['elective'])}){fill}(\\d+)"),
            # "一共18个人" counts people, not credits
            total=re.compile(
                f"(?:{_alt(scores['total'])}){fill}(\\d+)"
                f"(?!\\d|\\s*(?:{more})?\\s*(?:{counted})|\\s*(?:{day}|{month}|{hour}))"  # "学分26号前"
            ),
            total_after=re.compile(f"(\\d+)\\s*(?:{piece})?(?:{credit})"),
            # "学满50分必修": the number before the word, after a verb of study ("60分必修学分
            # 指的是…" quotes the rule)
            required_after=re.compile(
                f"(?:{_alt(scores['study_verbs'])})\\s*(\\d+)\\s*{minute}?\\s*"
                f"(?:{_alt(scores['required'])})(?!{_alt(m['not_required_after'])})"
            ),
            complete=re.compile(
                f"(?:{_alt(scores['required'])})\\s*(?:{_alt(m['complete_adverbs'])})?\\s*"
                f"(?:{_alt(scores['complete'])})(?!\\s*\\d)"  # not "必修学满50分"
            ),
            score_before=re.compile(
                f"(?:{_alt(scores['exam_verbs'])})\\s*(\\d+)\\s*{minute}(?!{minutes})"
            ),
            score_after=re.compile(
                f"(\\d+)\\s*{minute}(?!{minutes})\\s*(?:{_alt(scores['exam_after'])})"
            ),
            score_plain=re.compile(f"(?<![\\d.])(\\d+)\\s*{minute}(?!{no_score})"),
            # "学满50分": points of study, not an exam's score
            studied=re.compile(f"(?:{_alt(scores['study_verbs'])})\\s*\\d+\\s*{minute}"),
            keep=re.compile(_alt(raw["keep_words"])),
        )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary.load()
