"""Did you mean: a query word the index does not know, replaced by a frequent one a letter or two away.

The index holds stems, in Dutch and English, so a typed word is compared through its stems with
the stems of the vocabulary that enough chunks hold; the suggestion is then shown as a word that
really occurs in the content ("onbaording" → stem "onboard" → "onboarding"), taken from a passage
that holds the stem. The vocabulary is read when a query first needs it, not per generation.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from kb.keyword import ANY_STOPWORD, Analyzer, stem, tokens
from kb.term_index import TermIndex

MIN_CHUNKS = 2  # a suggestion is a term at least this many passages hold
MIN_WORD = 4  # shorter words are too often right and rare (codes, names)
SURFACE_PASSAGES = 5  # passages read for the word a stem stands for
MAX_WORDS = 8  # longer queries are pasted questions: their rare words are names and details, not typos
REMEMBERED = 10_000  # corrections a speller keeps (queries repeat)
_WORD = re.compile(r"\w+", re.UNICODE)


def max_distance(word: str) -> int:
    """How many edits (a swap of two neighbours is one) a word may be from its suggestion: more
    would turn words the content does not use ("camping", "dochter") into ones it does."""
    return 1 if len(word) < 10 else 2


class Speller:
    """Suggestions for the unknown words of queries over one generation's terms."""

    def __init__(self, terms: TermIndex, analyzer: Analyzer, passage: Callable[[int], str]) -> None:
        """``passage(chunk id)`` is a chunk's text, where a suggested stem's surface form is found."""
        self.terms = terms
        self.analyzer = analyzer
        self.passage = passage
        self._choices: list[str] | None = None
        self._surface: dict[str, str] = {}
        self._corrections: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def unknown(self, word: str, visible: np.ndarray | None = None) -> bool:
        """A word worth correcting: long enough, letters only, and none of its stems in a passage
        (of those ``visible`` marks: whether a hidden passage holds it must not show)."""
        if len(word) < MIN_WORD or not word.isalpha() or word in ANY_STOPWORD:
            return False
        if visible is None:
            return not any(self.terms.document_frequency(form) for form in self.analyzer.forms(word))
        return not any(self.terms.held_within(form, visible) for form in self.analyzer.forms(word))

    def suggest(self, query: str, visible: np.ndarray | None = None) -> str | None:
        """The query with each unknown word replaced by its closest frequent word, or None when
        every word is known or none has a close neighbour. ``visible`` (a mask over the term
        index's rows) limits suggestions to words of passages the reader may see."""
        words = tokens(query)
        if len(words) > MAX_WORDS:
            return None
        replacements = {}
        for word in dict.fromkeys(words):
            if self.unknown(word, visible):
                better = self.correct(word) if visible is None else self._closest(word, visible)
                if better:
                    replacements[word] = better
        if not replacements:
            return None
        corrected = _WORD.sub(lambda match: replacements.get(match.group().lower(), match.group()), query)
        return corrected if corrected != query else None  # a part of a snake_case word is not replaced

    def correct(self, word: str) -> str | None:
        """The word that the content uses instead of ``word``, or None (remembered per word)."""
        if word in self._corrections:
            return self._corrections[word]
        better = self._closest(word)
        if len(self._corrections) >= REMEMBERED:
            self._corrections.clear()
        self._corrections[word] = better
        return better

    def _closest(self, word: str, visible: np.ndarray | None = None) -> str | None:
        limit = max_distance(word)
        found: dict[str, int] = {}
        for typed in {word, stem(word, "nl"), stem(word, "en")}:
            for term, distance, _ in process.extract(typed, self.choices(), scorer=OSA.distance,
                                                     score_cutoff=limit, limit=20):
                if visible is None or self.terms.frequency_within(term, visible) >= MIN_CHUNKS:
                    found[term] = min(distance, found.get(term, limit))
        if not found:
            return None
        frequency = self.terms.document_frequency if visible is None else (
            lambda t: self.terms.frequency_within(t, visible))
        term = min(found, key=lambda t: (found[t], -frequency(t), t))
        better = self.surface(term, visible)
        # the stems were close; the words must be too ("camping" stems to "camp", near "came")
        return better if better != word and OSA.distance(better, word) <= limit else None

    def choices(self) -> list[str]:
        """The stems a suggestion may be: words of letters that enough passages hold, read once."""
        if self._choices is None:
            with self._lock:
                if self._choices is None:
                    self._choices = sorted(term for term in self.terms.terms() if term.isalpha()
                                           and len(term) >= MIN_WORD - 1
                                           and self.terms.document_frequency(term) >= MIN_CHUNKS)
        return self._choices

    def surface(self, term: str, visible: np.ndarray | None = None) -> str:
        """The commonest word that stems to ``term`` in the first passages that hold it (the
        stem itself when none does); only passages ``visible`` marks, when given."""
        if visible is not None or term not in self._surface:
            words: Counter = Counter()
            for chunk in self.terms.chunks_with(term, SURFACE_PASSAGES, visible):
                for token in tokens(self.passage(chunk)):
                    parts = self.analyzer.split_compound(token) or ()
                    for word in (token, *parts):  # "onboardingstraject" holds "onboarding"
                        if term in (stem(word, "nl"), stem(word, "en")):
                            words[word] += 1
                if words:
                    break
            best = min(words, key=lambda w: (-words[w], w)) if words else term
            if visible is not None:
                return best
            self._surface[term] = best
        return self._surface[term]
