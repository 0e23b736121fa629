"""Question detection: whether a group message is a question at all, before any ranking.

In the group silence beats a wrong answer, so greetings, notices, forwards and reports of things
done are recognised from the lexicon's markers and never reach the ranking.
"""

from __future__ import annotations

from faq.text import PUNCT, Lexicon, normalise, squash

MAX_PHRASE_CHARS = 14  # a marker-less message longer than this is a statement, not a keyword phrase


class QuestionDetector:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def marker_words(self) -> set[str]:
        """The question markers as segmented words (normalised, synonyms mapped): they say
        what kind of answer is wanted ("怎么", "几"), not what the question is about."""
        markers = {normalise(m) for m in self.lexicon.question_markers}
        return markers | {self.lexicon.synonyms.get(m, m) for m in markers}

    def is_chatter(self, text: str) -> bool:
        """Greetings and acknowledgements, or nothing but digits, symbols and emoji ("+1")."""
        squashed = squash(text)
        if not squashed or squashed in self.lexicon.chatter:
            return True
        return not any(ch.isalpha() for ch in squashed)

    def has_question_marker(self, text: str) -> bool:
        """A question word or mark, or a clause ending in a bare negation (the lexicon's
        ``tail_markers``)."""
        text = normalise(text)
        if any(marker in text for marker in self.lexicon.question_markers):
            return True
        tails = self.lexicon.tail_markers
        return any(c.endswith(tails) for c in PUNCT.split(text) if c)

    def looks_like_question(self, text: str) -> bool:
        """A question marker, or a short keyword phrase. Notices, forwards, reports of things
        done and long statements are not."""
        text = normalise(text)
        if self.has_question_marker(text):
            return not text.startswith(self.lexicon.forward_prefixes)
        if text.startswith(self.lexicon.notice_prefixes) or self.reports_done(text):
            return False
        return len(squash(text)) <= MAX_PHRASE_CHARS

    def reports_done(self, text: str) -> bool:
        """ "材料已交", "我们报完了": a statement that something is done, not a question."""
        lex = self.lexicon
        if any(m in text for m in lex.done_markers):
            return True
        particle = lex.done_particle
        return bool(particle) and particle in text and any(p in text for p in lex.first_person)
