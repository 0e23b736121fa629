"""Question detection: whether a group message is a question at all, and for whom, before any
ranking.

In the group silence beats a wrong answer, so greetings, laughter, notices, forwards, reports of
things done and messages addressed to another member ("@陈主任 …", "张科长你们…") are recognised
from the lexicon's markers and never reach the ranking. A question is recognised by its form:
a question word or mark, a clause ending in a bare negation or 吧 ("能考不", "可以考试了吧"), a
verb repeated around 不/没 ("算不算", "在不在"), or a described platform problem ("登不上").
"""

from __future__ import annotations

import re

from faq.text import PUNCT, Lexicon, normalise, squash

MAX_PHRASE_CHARS = 14  # a marker-less message longer than this is a statement, not a keyword phrase
# "三十几个人", "十几场", "几十个", "好几个": 几 counting roughly, asking nothing.
ROUGH_COUNT = re.compile(r"(?<=[\d十百千])几|几(?=[十百千])|好几")


class QuestionDetector:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        negations = "".join(re.escape(n) for n in lexicon.repeat_negations)
        self._repeat = re.compile(f"(\\w)[{negations}]\\1" if negations else "(?!)")
        titles = "|".join(re.escape(t) for t in sorted(lexicon.titles, key=len, reverse=True))
        surname = f"[{re.escape(lexicon.surnames)}]" if lexicon.surnames else "(?!)"
        familiar = "|".join(re.escape(f) for f in lexicon.familiar) or "(?!)"
        unit = "|".join(re.escape(w) for w in lexicon.not_after_title) or "(?!)"
        self._addressee = re.compile(f"^{surname}{{1,2}}(?:{titles})(?!\\w?(?:{unit}))")
        # "老李，…", "小王你们…": a familiar name is an address only when the message turns to
        # its bearer next; "老张2024年11月退休…" speaks of him.
        vocative = "|".join(re.escape(w) for w in lexicon.vocative_after) or "(?!)"
        self._familiar = re.compile(f"^(?:{familiar}){surname}(?:[\\s\\W_]|{vocative})")
        aside = "|".join(re.escape(w) for w in lexicon.ask_aside) or "(?!)"
        person = f"(?:{familiar}){surname}|{surname}{{1,2}}(?:{titles})|(?:{titles})"
        self._aside = re.compile(f"(?:{aside})(?:[^，,。？?！!\\s]{{0,6}}的)?(?:{person})[\\W_]*$")
        first = "|".join(re.escape(w) for w in lexicon.first_person) or "(?!)"
        self._run_on = re.compile(f"(?<=吧)(?=(?:{first}))")
        roles = "|".join(re.escape(r) for r in sorted(lexicon.bot_roles, key=len, reverse=True))
        self._bot_mention = re.compile(f"@\\s*(?:{roles})" if roles else "(?!)")
        relayers = "|".join(re.escape(w) for w in sorted(lexicon.relayers, key=len, reverse=True))
        verbs = "|".join(re.escape(w) for w in sorted(lexicon.relay_verbs, key=len, reverse=True))
        # ... not "学员手机号问题": 问题, 说明 and 说话 are no verbs of passing on
        self._relay = re.compile(
            f"(?:^|(?<=[\\s，,。；;！!？?]))(?:{relayers})[^\\s，,。；;！!？?]{{0,6}}?(?:{verbs})(?![题明话])[，,:：\\s]*"
            if relayers and verbs
            else "(?!)"
        )

    def marker_words(self) -> set[str]:
        """The question markers as segmented words (normalised, synonyms mapped): they say
        what kind of answer is wanted ("怎么", "几"), not what the question is about."""
        lex = self.lexicon
        markers = {normalise(m) for m in (*lex.question_markers, *lex.tail_markers)}
        markers |= set(lex.modal_words)
        return markers | {self.lexicon.synonyms.get(m, m) for m in markers}

    def is_chatter(self, text: str) -> bool:
        """Greetings and acknowledgements, laughter, or nothing but digits, symbols and emoji
        ("+1")."""
        squashed = squash(text)
        if not squashed or squashed in self.lexicon.chatter:
            return True
        if self._without_greeted(squashed) in self.lexicon.chatter:
            return True  # "晚上好各位", "谢谢各位领导"
        if any(m in squashed for m in self.lexicon.chatter_markers):
            return True
        return not any(ch.isalpha() for ch in squashed)

    def _without_greeted(self, squashed: str) -> str:
        for word in self.lexicon.greeted:
            if squashed.startswith(word):
                squashed = squashed[len(word) :]
            if squashed.endswith(word):
                squashed = squashed[: -len(word)]
        return squashed

    def addressed_to_other(self, text: str) -> bool:
        """A message for another member: it mentions someone ("@陈主任"), opens with a name
        and a title ("张科长你们单位报了吗", "王姐…") or a familiar name ("老李…"), or asks the
        others how far they are ("你们报了没")."""
        text = normalise(text)
        for mention in re.finditer(r"(?<![\w.])@\s*(\S*)", text):  # not an email's @
            if not mention.group(1).startswith(self.lexicon.bot_roles):
                return True
        if any(p in squash(text) for p in self.lexicon.peer_questions):
            return True
        if self._aside.search(text):
            return True  # "…奖金会不会少啊？问问人事的老陈"
        return bool(self._addressee.match(squash(text)) or self._familiar.match(text))

    def without_bot_mention(self, text: str) -> str:
        """``text`` without its mentions of the bot ("@管理员 补考什么时候报名"): they say whom
        the question is for, not what it is about (管理员 would pull it to the entries about
        what administrators do)."""
        if "@" not in normalise(text):
            return text
        return self._bot_mention.sub(" ", normalise(text)).strip() or text

    def without_relay(self, text: str) -> str:
        """``text`` without who passed the question on ("学员问我看视频的学分一直不涨": what is
        asked is the rest)."""
        m = self._relay.search(text)
        if m is None:
            return text
        said = m.group()
        rest = text[m.end() :]
        if said.rstrip("，,:： ").endswith("下") and rest.startswith(self.lexicon.after_xia):
            said = said.rstrip("，,:： ")[:-1]  # "有人问下周还有考试吗": 下周, not 问下
        return (text[: m.start()] + text[m.start() + len(said) :]).strip() or text

    def has_question_marker(self, text: str) -> bool:
        """A question word or mark, a clause ending in a bare negation or 吧 (the lexicon's
        ``tail_markers``), or a verb repeated around 不/没."""
        text = normalise(text)
        for said in self.lexicon.not_markers:  # "我去问下领导": asking someone else, later
            text = text.replace(said, " ")
        text = ROUGH_COUNT.sub("", text)
        if any(marker in text for marker in self.lexicon.question_markers):
            return True
        if self._repeat.search(text):
            return True
        tails = self.lexicon.tail_markers
        # Run-on speech ("还有一场吧我记得有"): the asker speaking of himself starts a clause.
        text = self._run_on.sub(" ", text)
        return any(c.endswith(tails) for c in PUNCT.split(text) if c)

    def describes_problem(self, text: str) -> bool:
        """ "学员身份证号录错了改不了": a problem described, which asks for help."""
        text = normalise(text)
        return any(m in text for m in self.lexicon.problem_markers)

    def persists(self, text: str) -> bool:
        """ "密码重置了还是登不上": a problem described as lasting after something was done
        about it, which no rule of the notice mends (a fault for the technical service)."""
        text = normalise(text)
        return self.describes_problem(text) and any(m in text for m in self.lexicon.persisting)

    def looks_like_question(self, text: str) -> bool:
        """A question marker, or a short keyword phrase. Notices, forwards, reports of things
        done, plans ("9月19号我们单位统一考": the speaker's own) and long statements are not."""
        text = normalise(text)
        if self.has_question_marker(text):
            return not text.startswith(self.lexicon.forward_prefixes)
        if text.startswith(self.lexicon.notice_prefixes) or self.reports_done(text):
            return False
        if any(w in text for w in self.lexicon.instructions):
            return False  # "补考的同志请记得按时参加": an instruction to the group
        if any(p in text for p in self.lexicon.first_person):
            # "我们单位补考报名时间" asks; "9月19号我们单位统一考" tells its own plan
            return squash(text).endswith(self.lexicon.query_nouns)
        if squash(text).endswith(self.lexicon.statement_endings):
            return False  # "考试题目好多是民法典的": told
        return len(squash(text)) <= MAX_PHRASE_CHARS

    def reports_done(self, text: str) -> bool:
        """ "材料已交", "我们报完了": a statement that something is done, not a question."""
        lex = self.lexicon
        text = normalise(text)
        for turn in lex.turns:  # "…设置好了 但是学员那边还显示要考试": a problem after all
            rest = text.partition(turn)[2]
            if rest and self.describes_problem(rest):
                return False
        done_at = min((text.find(m) for m in lex.done_markers if m in text), default=-1)
        problems = [text.find(m) for m in lex.problem_markers if m in text]
        if done_at >= 0 and any(at > done_at for at in problems):
            return False  # "免考已经设置好了，学员那边登录还显示要学积分": the problem comes after
        for problem in lex.problem_markers:  # "提示已注册" quotes an error, reports nothing done
            text = text.replace(problem, " ")
        for quoting in lex.quoting:  # "系统显示账号已在…": the platform's words, not the asker's
            text = text.split(quoting, 1)[0]
        if any(m in text for m in lex.done_markers):
            return True
        particle = lex.done_particle
        return bool(particle) and particle in text and any(p in text for p in lex.first_person)

    def without_off_topic(self, text: str) -> str:
        """``text`` normalised, other apps' names ("学习强国") blanked out."""
        text = normalise(text)
        for word in self.lexicon.off_topic:
            text = text.replace(word, " ")
        return text

    def about_another_app(self, text: str) -> bool:
        """It names another system or app ("学习强国积分怎么不涨") and nothing that is the
        campaign's own (如法网, 考法, 补考 …): its 积分 and 题 are the other app's."""
        if not any(w in normalise(text) for w in self.lexicon.off_topic):
            return False
        text = self.without_off_topic(text)
        return not any(w in text for w in self.lexicon.campaign_words)

    def on_topic(self, text: str) -> bool:
        """Whether the message is about the campaign at all (its words, not another app's)."""
        text = self.without_off_topic(text)
        words = (*self.lexicon.topic_words, *self.lexicon.uncovered_words)
        return any(w in text for w in words)

    def platform_problem(self, text: str) -> bool:
        """Whether the message is about using the platform (login, app, browser, scores,
        certificates, the face check), which the technical service answers."""
        text = self.statement(text)
        return any(w in text for w in self.lexicon.platform_words)

    def statement(self, text: str) -> str:
        """``text`` normalised, a verb repeated around 不/没 said once: "能不能用" asks whether
        it may be used, it does not say "不能用"."""
        return self._repeat.sub(r"\1", normalise(text))
