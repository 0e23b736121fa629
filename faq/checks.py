"""How an answer bears on a yes-or-no question: whether it confirms the facts the question
checks, states a number otherwise, says the rule in the negative, denies a premise, names the
opposite of what is asked or another doer (``faq.verdict`` decides the lead from these).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from faq import facts as facts_
from faq.names import unit_mention
from faq.reason import lead, vocabulary


def confirms(question: str, answer: str, now: dt.datetime, named: list[str]) -> bool:
    """A yes-or-no question about numbers or named facts ("考试是不是90分钟", "集中考试是在电大
    吗") that the answer states, every one: the answer may start with yes. ``named``: what the
    question names that the domain knows (the config's names, the lexicon's words, as the
    segmenter gives them)."""
    text = facts_.read(question, now.date()).text
    stated = re.findall(r"\d+", text) + named
    return bool(stated) and lead(text) is not None and all(s in answer for s in stated)


# What a number in a question or an answer counts: the unit written after it ("90分钟",
# "30道"), or nothing for a bare code of four digits or more ("123456", a password).
_QUANTITY = re.compile(
    r"(\d+)(个?小时|个?钟头|分钟|分|道|场|人|天|日|月|周年|年|周|次|个|名|题|%|点|号)?"
)
MIN_CODE_DIGITS = 4
_CLAUSE = re.compile(r"[，,；;：:、。！!？?\n]")
_SENTENCE = re.compile(r"[；;。！!？?\n]")


def quantities(text: str) -> set[tuple[str, str]]:
    """The (number, unit) pairs ``text`` states (hours as minutes); bare numbers count only
    when long enough to be a code."""
    found = set()
    for number, unit in _QUANTITY.findall(text):
        # "2周年内" and "3年以内" count alike, "12月31号" is the answer's "12月31日"
        unit = _same_units().get(unit, unit)
        if unit.endswith(("小时", "钟头")):
            number, unit = str(int(number) * 60), "分钟"
        if unit or len(number) >= MIN_CODE_DIGITS:
            found.add((number.lstrip("0") or "0" if unit else number, unit or ""))
    return found


@lru_cache(maxsize=1)
def _same_units() -> dict[str, str]:
    units: dict[str, str] = vocabulary()["same_units"]  # type: ignore[assignment]
    return units


def clauses_of(answer: str) -> list[str]:
    return [c for c in _CLAUSE.split(answer) if c]


def sentences_of(answer: str) -> list[str]:
    """The answer's sentences: a rule whose subject and verdict sit in two clauses of one
    sentence ("对补考不合格者，其当年年度考核不得确定为优秀等次") is read whole."""
    return [c for c in _SENTENCE.split(answer) if c]


def sentence_about(answer: str, topic: dict[str, float]) -> str:
    """The sentence of ``answer`` that speaks most of the question's ``topic`` words."""
    return max(sentences_of(answer), key=lambda c: sum(v for w, v in topic.items() if w in c))


def clause_about(answer: str, topic: dict[str, float]) -> str:
    """The clause of ``answer`` that speaks most of the question's ``topic`` words (weighed by
    how specific each is): for "公共试题占…吧" the clause about the public questions' share,
    not the one giving the other share; for "单选题要报…道吗" the clause about 单选, not the
    total. The whole answer when no clause names any. The question's numbers do not choose:
    they are what is checked."""
    subject = {w: weight for w, weight in topic.items() if not any(ch.isdigit() for ch in w)}
    clauses = clauses_of(answer)
    best = max(clauses, key=lambda c: sum(v for w, v in subject.items() if w in c), default="")
    return best if any(w in best for w in subject) else answer


def refutes(question: str, answer: str, now: dt.datetime) -> bool:
    """A yes-or-no question stating a number the answer states otherwise (a password, an
    exam's minutes, a count of questions other than the config's): the answer starts with no."""
    text = facts_.read(question, now.date()).text
    if lead(text) in (None, "fit"):
        return False  # "75人一场坐得下吗" compares its count with the rule's; it claims none
    stated = quantities(answer)
    if not stated:
        return False
    units = {unit for _, unit in stated}
    return any(unit in units and (n, unit) not in stated for n, unit in quantities(text))


def says_no(
    question: str, clauses: list[tuple[str, set[str]]], subject: set[str], now: dt.datetime
) -> bool:
    """Whether a clause of an answer (its text and its words) that names every ``subject``
    word of a yes-or-no question says its rule in the negative ("…单位的管理员要进群吗" to a
    rule that such administrators 不须进群). A question that is itself negative ("不用进群吧")
    is left alone: its yes and no are the other way round."""
    negations: list[str] = vocabulary()["negation"]["words"]  # type: ignore[index]
    text = facts_.read(question, now.date()).text
    said = "".join(clause for clause, _ in clauses)
    # A negative the rule states too is the premise, not the question's form: "补考不合格，
    # 还能评优秀吗" of the rule on 补考不合格者.
    shared = [t for t in _negated_terms(text, negations) if t in said]
    for term in shared:
        text = text.replace(term, " ")
    if not subject or lead(text) is None or any(n in text for n in negations):
        return False

    def names(clause: str, words: set[str], w: str) -> bool:
        # "二级单位" is named by "二级及以下单位" too
        return w in clause or w in words or (len(w) == 4 and w[:2] in clause and w[2:] in clause)

    def negative(clause: str) -> bool:
        for term in shared:
            clause = clause.replace(term, " ")
        return any(n in clause for n in negations)

    return any(
        all(names(clause, words, w) for w in subject) and negative(clause)
        for clause, words in clauses
    )


def _negated_terms(text: str, negations: list[str]) -> list[str]:
    """Each negation of ``text`` with the two characters after it ("不合格")."""
    return [
        text[m.start() : m.end() + 2]
        for n in negations
        for m in re.finditer(re.escape(n), text)
        if len(text) >= m.end() + 2
    ]


def denies(question: str, premises: tuple[str, ...], now: dt.datetime) -> bool:
    """A yes-or-no question holding a premise the rule contradicts."""
    text = facts_.read(question, now.date()).text
    return lead(text) is not None and any(_holds(text, p) for p in premises)


# Done for someone, not by them: "帮学员报考" is no "学员报".
_ON_BEHALF = ("帮", "给", "替", "为", "代")


# "产假…结束": the two parts in one clause, a few characters apart ("产假今年3月结束了").
_APART = "…"


def _holds(text: str, premise: str) -> bool:
    """Whether ``text`` states ``premise`` (not of something done on someone's behalf); a
    premise "A…B" holds where A comes a little before B in one clause."""
    if _APART in premise:
        first, _, then = premise.partition(_APART)
        gap: str = vocabulary()["premises"]["apart"]  # type: ignore[index]
        return re.search(re.escape(first) + gap + re.escape(then), text) is not None
    at = text.find(premise)
    while at >= 0:
        if not text[:at].endswith(_ON_BEHALF):
            return True
        at = text.find(premise, at + 1)
    return False


def contradicts(question: str, answer: str, now: dt.datetime) -> bool:
    """Whether a yes-or-no question names one of a pair of opposites (``cues.toml``
    [contrasts]) where the answer names only the other: "是不是调出单位管理员操作" of the rule
    that 调入单位管理员 does it."""
    text = facts_.read(question, now.date()).text
    if lead(text) is None:
        return False
    pairs: list[list[str]] = vocabulary()["contrasts"]["pairs"]  # type: ignore[index]
    for pair in pairs:
        for word, other in ((pair[0], pair[1]), (pair[1], pair[0])):
            if word in text and other not in text and other in answer and word not in answer:
                return True
    return False


def said_in(word: str, text: str, words: set[str]) -> bool:
    """Whether an answer (its ``text``, its ``words``) says ``word``; a place said with 里
    ("县里", "市里") is said by the place ("市县两级")."""
    if word in text or word in words:
        return True
    return len(word) == 2 and word.endswith("里") and word[0] in text


def other_actor(question: str, answer: str, now: dt.datetime) -> bool:
    """Whether a yes-or-no question asks if someone does a thing ("最终场次是我们单位自己定吗", "试题
    是直接报给市司法局吗") that the answer's rule has someone else do ("由市委依法治市办统筹
    确定"): the asker's own unit or a province-level body where the rule names the city's, or
    a unit the rule's doers do not include (``cues.toml`` [actors])."""
    text = facts_.read(question, now.date()).text
    actors: dict[str, Any] = vocabulary()["actors"]  # type: ignore[assignment]
    if lead(text) is None or not any(v in text for v in actors["verbs"]):
        return False
    doers = [d for key in ("agent", "receiver", "doer") for d in re.findall(actors[key], answer)]
    if not doers:
        return False
    if any(w in text for w in actors["self"]) and not any(w in text for w in actors["city"]):
        return not any(w in d for d in doers for w in ("单位", "自己", "本人"))
    if any(w in text for w in actors["province"]) or re.search(actors["province_body"], text):
        return not any(d.startswith(("省", "湖南")) for d in doers)
    named = unit_mention(text)
    return named is not None and not any(named in d or d in named for d in doers)


def other_receiver(question: str, answer: str, now: dt.datetime) -> bool:
    """Whether a yes-or-no question names, right after 报/交 ("要报市司法局备案吗"), a body
    other than the one the answer's rule sends it to ("报市委依法治市办备案")."""
    text = facts_.read(question, now.date()).text
    actors: dict[str, Any] = vocabulary()["actors"]  # type: ignore[assignment]
    asked = re.search(actors["receiver"], text)
    if lead(text) is None or asked is None:
        return False
    given = re.findall(actors["receiver"], answer)
    return bool(given) and not any(asked[1] in g or g in asked[1] for g in given)
