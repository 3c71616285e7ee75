"""Tell Dutch from English by counting frequent function words; enough for routing and stemming."""

from __future__ import annotations

import re

DUTCH = frozenset([
    "de", "het", "een", "en", "van", "ik", "je", "jij", "u", "we", "wij", "zij", "ze", "is", "zijn", "was", "waren",
    "niet", "dat", "die", "dit", "deze", "met", "voor", "op", "aan", "te", "om", "in", "bij", "als", "maar", "ook",
    "nog", "wel", "naar", "uit", "door", "over", "tot", "dan", "hoe", "wat", "wie", "waar", "waarom", "er", "heeft",
    "hebben", "kan", "kunnen", "moet", "moeten", "wordt", "worden", "zou", "zal", "mijn", "onze", "ons", "jullie",
    "geen", "meer", "veel", "omdat", "zodat", "want", "welke", "ook", "al", "nu", "hier", "daar", "heel"
])
ENGLISH = frozenset([
    "the", "a", "an", "and", "of", "i", "you", "he", "she", "we", "they", "is", "are", "was", "were", "not", "that",
    "this", "these", "those", "with", "for", "on", "to", "in", "at", "as", "but", "also", "still", "from", "by",
    "about", "than", "then", "how", "what", "who", "where", "why", "there", "has", "have", "can", "could", "must",
    "should", "would", "will", "my", "our", "your", "no", "more", "many", "because", "which", "so", "it", "its",
    "be", "been", "do", "does", "did", "here", "very"
])
LANGUAGES = ("nl", "en")  # the languages content is written in
_WORD = re.compile(r"[a-zà-ÿ']+")


def detect_language(text: str, default: str = "en") -> str:
    """``"nl"`` or ``"en"`` from function-word counts; ``default`` when there is no evidence."""
    dutch = english = 0
    for word in _WORD.findall(text.lower()[:20_000]):
        dutch += word in DUTCH
        english += word in ENGLISH
    if dutch == english:
        return default
    return "nl" if dutch > english else "en"
