"""Keyword analysis: Dutch and English stemming and Dutch compound splitting.

Documents are indexed as stems in their own language (kept in FTS5, scored by ``term_index``).
A query term matches through either language's stem, since short queries do not reveal their
language. Long words are split into
two known parts ("onboardingstraject" → "onboarding" + "traject", with the linking -s-), both
when indexing and when searching, so a compound finds its parts and the parts find the compound.
Known parts are the stems already in the index.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

from kb.language import DUTCH, ENGLISH, detect_language
from kb.rendering import visible_bidi

_CLITICS = frozenset(["s", "t", "d", "m", "ll", "re", "ve"])
STOPWORDS = {"nl": DUTCH | _CLITICS, "en": ENGLISH | _CLITICS}
ANY_STOPWORD = DUTCH | ENGLISH | _CLITICS
_WORDS = re.compile(r"(\w+)", re.UNICODE)  # grouped, so that split() keeps the words
_MIN_COMPOUND = 9
_MIN_PART = 4
_LINKERS = ("", "s", "en", "e")
_FORMS_CACHE = 200_000  # words whose stems an analyzer remembers

_STEMMERS = threading.local()  # a snowball stemmer keeps the word in hand on itself: one per thread


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    stemmers = getattr(_STEMMERS, "by_lang", None)
    if stemmers is None:
        stemmers = _STEMMERS.by_lang = {"nl": snowballstemmer.stemmer("dutch"),
                                        "en": snowballstemmer.stemmer("english")}
    return stemmers.get(lang, stemmers["en"]).stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens; snake_case identifiers also yield their parts."""
    out: list[str] = []
    for token in _WORDS.findall(text.lower()):
        out.append(token)
        if "_" in token:
            out.extend(part for part in token.split("_") if part)
    return out


class Analyzer:
    """Turns text into index terms and queries into groups of alternative stems, knowing the index vocabulary."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self.vocabulary: set[str] = set(vocabulary)
        self._split_cache: dict[str, tuple[str, str] | None] = {}
        self._forms: dict[str, frozenset[str]] = {}

    def learn(self, terms: Iterable[str]) -> None:
        self.vocabulary.update(terms)
        self._split_cache.clear()
        self._forms.clear()

    def split_compound(self, word: str) -> tuple[str, str] | None:
        """The best split of a long word into two known parts, or None."""
        if len(word) < _MIN_COMPOUND or not word.isalpha():
            return None
        if word in self._split_cache:
            return self._split_cache[word]

        def known(part: str) -> bool:
            stems = (stem(part, "nl"), stem(part, "en"))
            return len(part) >= _MIN_PART and any(form in self.vocabulary for form in stems)

        best: tuple[tuple[int, int], tuple[str, str]] | None = None
        for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if not known(tail):
                continue
            for linker in _LINKERS:
                if linker and not head.endswith(linker):
                    continue
                stem_head = head[: len(head) - len(linker)] if linker else head
                if known(stem_head):
                    score = (min(len(stem_head), len(tail)), len(linker))
                    if best is None or score > best[0]:
                        best = (score, (stem_head, tail))
        result = best[1] if best else None
        self._split_cache[word] = result
        return result

    def forms(self, word: str) -> frozenset[str]:
        """Every stem a lower-case word matches: Dutch, English, and its compound parts' (cached:
        searches ask for the same words over and over, in queries and in snippets)."""
        found = self._forms.get(word)
        if found is None:
            stems = {stem(word, "nl"), stem(word, "en")}
            parts = self.split_compound(word)
            if parts:
                stems.update(stem(part, lang) for part in parts for lang in ("nl", "en"))
            found = frozenset(stems)
            if len(self._forms) >= _FORMS_CACHE:
                self._forms.clear()
            self._forms[word] = found
        return found

    def index_terms(self, text: str, lang: str) -> str:
        """Space-separated stems of ``text``, as a chunk's terms are stored (stop words left out)."""
        terms: list[str] = []
        stopwords = STOPWORDS.get(lang, ANY_STOPWORD)
        for token in tokens(text):
            if token in stopwords:
                continue
            terms.append(stem(token, lang))
            parts = self.split_compound(token)
            if parts:
                terms.extend(stem(part, lang) for part in parts)
        return " ".join(terms)

    def query_terms(self, query: str) -> list[set[str]]:
        """One set of alternative stems per query word (both languages, compound parts). A word
        the query repeats appears once per occurrence, so it weighs more in BM25, as query term
        frequency does: a pasted question names its subject in the subject line and again in the body."""
        groups: list[set[str]] = []
        language = detect_language(query, default="")
        stopwords = STOPWORDS.get(language, ANY_STOPWORD)
        for token in tokens(query):
            if token in stopwords:
                continue
            groups.append(set(self.forms(token)))
        return groups


def highlight(text: str, groups: list[set[str]], analyzer: Analyzer, seen: dict[str, bool] | None = None) -> str:
    """HTML-escaped ``text`` with words that match the query wrapped in ``<mark>``; ``seen``
    remembers which words match, across the snippets of one page."""
    wanted = {term for group in groups for term in group}
    if not wanted:
        return visible_bidi(html.escape(text))
    seen = {} if seen is None else seen
    parts = _WORDS.split(text)  # between-words, word, between-words, word, ..., between-words
    for at in range(1, len(parts), 2):
        word = parts[at]
        lower = word.lower()
        marked = seen.get(lower)
        if marked is None:
            marked = seen[lower] = lower not in ANY_STOPWORD and not wanted.isdisjoint(analyzer.forms(lower))
        parts[at] = "<mark>" + html.escape(word) + "</mark>" if marked else html.escape(word)
    for at in range(0, len(parts), 2):
        parts[at] = html.escape(parts[at])
    return visible_bidi("".join(parts))  # a passage's bidi controls are shown, not obeyed
