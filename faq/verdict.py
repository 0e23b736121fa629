"""How the answer to a yes-or-no question starts: "是的" where the answer bears out every
fact the question checks, "不是" or the form's no where the question states a number, a
party, a place or a law the answer states otherwise, or a premise the rule denies; nothing
where the answer does not decide it. The engine renders the answer, then asks ``Verdicts.of``.
"""

from __future__ import annotations

import datetime as dt
import re

from faq import checks, forms, reason
from faq import facts as facts_
from faq.compute import LOOKUPS
from faq.knowledge import Entry
from faq.ranking import Index
from faq.text import Lexicon, Segmenter, normalise

RECANT = "recant"  # the answer's own yes is taken back: it says "不是" instead
# Entries whose answer judges the asker's numbers itself, and says its own yes or no.
OWN_VERDICTS = frozenset({reason.SESSIONS, reason.CREDITS, reason.SEATS, reason.SCORE})
DENIED = "denied"  # ... for a premise the rule denies: it says no in the question's form
AGREED = "agreed"  # its own no bears out a belief that something is not so: "是的，" first
AGREED_NO = (
    "agreed_no"  # ... a premise denied as believed, over an answer's own yes: "是的，不能。"
)
GENERIC_IDF = 2.0  # a word this common in the knowledge base names no topic of its own

# A fixed answer's opening yes or no, a sentence of its own ("可以申请。").
LEAD_SENTENCE = re.compile(r"^[^。，,；;]{1,6}。")


# "集中考试是在市司法局考吧": the place a question names for an exam.
_EXAM_PLACE = re.compile(r"在([^，,。；;\s在]{2,14}?)(?:考试|考|参加考试)")


def _body(word: str) -> bool:
    """Whether ``word`` names a body or its level ("省", "司法厅", "市委依法治市办")."""
    bodies: dict[str, list[str]] = reason.vocabulary()["bodies"]  # type: ignore[assignment]
    return word in bodies["levels"] or (len(word) > 2 and word.endswith(tuple(bodies["endings"])))


def without_lead(body: str) -> str:
    """``body`` without its opening yes or no ("可以申请。")."""
    return LEAD_SENTENCE.sub("", body, count=1)


def facts_text(question: str, now: dt.datetime) -> str:
    """The question as its facts are read (normalised, numerals as digits)."""
    return facts_.read(question, now.date()).text


def exam_place(question: str, now: dt.datetime) -> str | None:
    """The place a yes-or-no question names for an exam ("是在市司法局考吧": 市司法局), or None."""
    text = facts_text(question, now)
    m = _EXAM_PLACE.search(text)
    if reason.lead(text) is None or m is None or "哪" in m.group(1):
        return None
    return m.group(1)


# "报劳动合同法的题": a law named, after what is done with it, that the bank may not hold
_LAW = re.compile(
    r"(?:报|出|是|的|交|《)([\u4e00-\u9fff]{2,10}?法)(?=》|的|题|吧|吗|呢|[？?，,。]|$)"
)


def _not_laws() -> tuple[str, ...]:
    words: list[str] = reason.vocabulary()["laws"]["not_laws"]  # type: ignore[index]
    return tuple(words)


def _law_named(text: str) -> list[str]:
    return [m.group(1) for m in _LAW.finditer(text) if not m.group(1).endswith(_not_laws())]


class Verdicts:
    """The checks of a yes-or-no question against the answer an entry gives it."""

    def __init__(
        self,
        lexicon: Lexicon,
        index: Index,
        segmenter: Segmenter,
        terms: tuple[str, ...],
        laws: tuple[str, ...],
    ) -> None:
        self.lexicon = lexicon
        self.index = index
        self.segmenter = segmenter
        self.terms = terms  # names a question may check (faq.units.fact_terms)
        self.laws = laws  # the question bank's laws (faq.units.law_names)
        # An answer that opens with a short yes or no ("不能，还不具备…"), not one whose first
        # words only look like one ("有下属二级及以下单位的，…").
        patterns: dict[str, str] = reason.vocabulary()["patterns"]  # type: ignore[assignment]
        self._own_lead = re.compile(patterns["own_lead"])
        self._no_leads = tuple(w for w in lexicon.answer_leads if w.startswith(("不", "没")))

    def words(self, text: str) -> list[str]:
        return self.segmenter.words(text)

    def of(
        self, entry: Entry, question: str, answer: str, now: dt.datetime, judged: bool = True
    ) -> str | None:
        """How the answer to a yes-or-no question starts: "no" when the question holds a
        premise the entry's rule denies or a number the answer's clause about it states
        otherwise, "yes" when that clause bears out every fact it checks; None for a question
        asking for a fact, or an answer that already starts with yes or no. An answer computed
        from the asker's numbers that says no yes or no of its own may still get a no, never a
        yes; a look-up (a unit's exam or questions) is read like a fixed answer, and so is a
        computed one that had no numbers to judge (not ``judged``: "及格线是60分吧")."""
        from_numbers = entry.compute is not None and entry.compute not in LOOKUPS and judged
        denied = checks.denies(question, entry.denies, now)
        if answer.startswith(self.lexicon.answer_leads) and self._own_lead.match(answer):
            if denied and self._believes_not(question, now):
                return AGREED_NO  # "产假结束了就不能免考了吧": denied, as believed
            if denied:
                return DENIED  # "产假结束了还能免考吗": not "可以申请。正在休产假的…"
            # The answer's own yes ("可以申请。") does not hold for a number the question states
            # otherwise, which the answer nowhere restates (as one computed from the asker's
            # numbers does): it is taken back, and the answer says "不是".
            said = normalise(answer)
            asked = checks.quantities(facts_text(question, now))
            claimed = {(n, unit) for n, unit in asked if n != "1"}  # "赶得上一场不": any one
            own = LEAD_SENTENCE.match(answer) is not None and not asked <= checks.quantities(said)
            # An answer that judges the asker's own numbers ("8点半是第一场吧" → 8:30, "必修60
            # 选修50够了吗" → 总学分110分) restates them in its own form.
            own_verdict = entry.id in OWN_VERDICTS
            if own and claimed and not own_verdict and checks.refutes(question, said, now):
                return RECANT
            if LEAD_SENTENCE.match(answer) and checks.other_receiver(question, said, now):
                return RECANT  # "免考要报市司法局备案吗" of "需要。…须报市委依法治市办备案"
            fixed = entry.compute is None  # a computed answer says its no in the form asked
            if fixed and answer.startswith(self._no_leads) and self._believes_not(question, now):
                return AGREED  # "补考也没赶上的话，就没有机会了吧" of "不能。…"
            return None
        if denied:
            return "no"
        said = normalise(answer)
        words = set(self.words(question))
        topic = self.topic(question, words)
        idf = self.index.word_idf
        weights = {w: idf.get(w, 1.0) for w in topic}
        clause = checks.clause_about(said, weights)
        several = len(checks.quantities(facts_text(question, now))) > 1
        if not checks.quantities(clause) or from_numbers or several:
            # "政策咨询电话：…": the label, then its value; an answer computed from the asker's
            # numbers restates them (the count asked, then the rule's); a question stating several
            # numbers ("单选20道多选10道，一共30道"): only its whole counts.
            clause = said
        if checks.refutes(question, clause, now):
            return "not"  # a number stated otherwise: "不是", whatever the question's form
        # the sentence about what is done, not the one naming the doer the question names
        # ("分众组考的读本是省司法厅编的吧": the zone exam's reader, which 市司法局 compiles)
        deed = checks.sentence_about(said, {w: v for w, v in weights.items() if not _body(w)})
        about = checks.sentence_about(said, weights)
        opposed = checks.contradicts(question, said, now) or checks.contradicts(
            question, about, now
        )
        if opposed or checks.other_actor(question, deed, now):
            return "not"  # "调出" where the rule says "调入"; "自己定" where 市委依法治市办 does
        if self._other_place(question, said, now):
            return "not"  # "是在市司法局考吧" of the exam held at 广播电视大学
        if self._other_law(question, said, now) or self._not_only(question, said, now):
            return "not"  # a law of the question bank other than the one the answer names
        if from_numbers:
            return None  # it says its own yes or no from the asker's numbers
        pieces = dict.fromkeys((*checks.clauses_of(said), *checks.sentences_of(said)))
        clauses = [(c, set(self.words(c))) for c in pieces]
        # A one-character word ("评" of "评优秀") is too loose to need the rule's own words.
        subject = {w for w in topic if len(w) > 1 and not w.isdigit()}
        if checks.says_no(question, clauses, subject, now):
            return "no"
        if self._belief_denied(question, clauses, now):
            return "not"  # "我们一级管理员不用管吧" of "一级管理员要积极履责"
        named = [w for w in words if w in self.terms or w in self.index.key_words]
        named += [t for t in self.terms if t in normalise(question)]
        spoken = set(self.words(answer))  # its words as the question's are read (synonyms)
        # The campaign's own word for its exam ("考试", in every other entry) says no topic.
        needed = [w for w in topic if idf.get(w, GENERIC_IDF) >= GENERIC_IDF]
        if checks.confirms(question, said, now, named) and all(
            checks.said_in(w, said, spoken) for w in needed
        ):
            # "退休的不用参加了吧": borne out, "是的", not the form's "要"
            return AGREED if self._believes_not(question, now) else "yes"
        return None

    def _believes_not(self, question: str, now: dt.datetime) -> bool:
        return forms.believes_not(facts_text(question, now))

    def _belief_denied(
        self, question: str, clauses: list[tuple[str, set[str]]], now: dt.datetime
    ) -> bool:
        """Whether a yes-or-no question believes something is not so ("自己是搞不了的吧",
        "我们一级管理员不用管吧") where a clause of the answer naming the believing clause's
        subject says it is, with no negation of its own ("学员也可以自己…找回")."""
        vocab = reason.vocabulary()["negation"]
        believed: list[str] = vocab["belief"]  # type: ignore[index]
        negations: list[str] = vocab["words"]  # type: ignore[index]
        text = facts_text(question, now)
        if reason.lead(text) is None:
            return False
        asking = [c for c in checks.clauses_of(text) if any(b in c for b in believed)]
        if len(asking) != 1:
            return False
        clause = asking[0]
        for b in believed:
            clause = clause.replace(b, " ")
        lex, idf = self.lexicon, self.index.word_idf
        subject = {
            w
            for w in self.words(clause)
            if len(w) > 1
            and not w.isdigit()
            and w not in lex.stopwords | lex.modal_words | self.index.marker_words
            and idf.get(w, GENERIC_IDF) >= GENERIC_IDF
        }
        if not subject:
            return False
        naming = [c for c, words in clauses if subject <= words | {w for w in subject if w in c}]
        # ... and none says it is not ("已退休的不用参加：参加对象是…在职…": borne out)
        negative = [any(n in c for n in negations) for c in naming]
        return bool(naming) and not any(negative)

    def _other_place(self, question: str, answer: str, now: dt.datetime) -> bool:
        """A yes-or-no question naming a place for an exam that an answer giving the exam's
        place ("地点：…") does not name, in any of its words ("电大" is 广播电视大学)."""
        place = exam_place(question, now)
        if place is None or "地点" not in answer or normalise(place) in answer:
            return False
        named = set(self.words(place)) - self.index.marker_words
        return bool(named) and not named <= set(self.words(answer))

    def _other_law(self, question: str, answer: str, now: dt.datetime) -> bool:
        """A yes-or-no question naming laws none of which the answer names, where the answer
        names another law of the question bank."""
        text = normalise(question)
        asked = [law for law in self.laws if law in text] or _law_named(text)
        if not asked or forms.question_lead(question, now) is None:
            return False
        return not any(law in answer for law in asked) and any(law in answer for law in self.laws)

    def _not_only(self, question: str, answer: str, now: dt.datetime) -> bool:
        """A yes-or-no question believing a law is the only one ("只报老年人权益保障法", "是禁
        毒法吧，就这一部吗") of an answer naming another of the bank's laws too."""
        text = normalise(question)
        only: list[str] = reason.vocabulary()["cues"]["only"]  # type: ignore[index]
        asked = [law for law in self.laws if law in text]
        if (
            not asked
            or not any(w in text for w in only)
            or forms.question_lead(question, now) is None
        ):
            return False
        return any(law in answer and law not in asked for law in self.laws)

    def topic(self, question: str, words: set[str]) -> set[str]:
        """The question's topic words: what the answer must speak of to bear it out ("新管理
        员重新注册个账号就行吧" names 注册, which an answer about changing the original account
        over never says, so it is no "yes"). The pieces of its question form ("不对" of "对不
        对") are none."""
        lex = self.lexicon
        text = normalise(question)
        forms = [m for m in (*lex.question_markers, *lex.tail_markers) if m in text]
        topic = words - self.index.marker_words - lex.stopwords - lex.modal_words - lex.filler_words
        return {w for w in topic if not any(w in form for form in forms)}
