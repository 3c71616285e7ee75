"""A larger synthetic-but-realistic corpus, recombined from the demo content's own text.

The demo content (content/) is loaded with the real loaders; its paragraphs, sentences, titles,
tags, people and session formats, split by language, are the material. Each new document takes
a language, a kind (articles, sessions, forum threads in the demo's proportions), a title made of
one of its sentences, and a body of whole paragraphs from documents in that language: 60-220
words, so mostly one or two chunks at the default chunk size (forum threads: one or two posts).
Files are written in the real formats (Markdown with YAML front matter, forum JSON) and go
through the real loaders. Everything
follows from ``seed``: the same seed gives the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from indexer.pipeline import scan
from kb import html_blocks, join_front_matter, markdown_blocks

SEED = 20261127
VERSION = 1  # bump when the generator changes, so cached corpora are rebuilt
KIND_SHARE = (("article", 0.44), ("session", 0.33), ("forum", 0.23))
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Material:
    """The demo content, cut into reusable pieces per language."""

    paragraphs: dict[str, list[str]] = field(default_factory=dict)
    sentences: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # one entry per demo document: the language mix


def gather(content_dir: Path) -> Material:
    documents, _ = scan(content_dir, 10_000_000)
    material = Material()
    for doc in documents:
        material.languages.append(doc.lang)
        material.tags.extend(doc.tags)
        material.people.extend(doc.people())
        if doc.format:
            material.formats.append(doc.format)
        if doc.category:
            material.categories.append(doc.category)
        texts = [doc.body] if doc.kind != "forum" else [post.body for post in doc.posts]
        formats = [doc.body_format] if doc.kind != "forum" else [post.body_format for post in doc.posts]
        for text, body_format in zip(texts, formats, strict=True):
            blocks = html_blocks(text) if body_format == "html" else markdown_blocks(text)
            for kind, block in blocks:
                words = len(block.split())
                if kind == "paragraph" and 12 <= words <= 130:
                    material.paragraphs.setdefault(doc.lang, []).append(" ".join(block.split()))
    for lang, paragraphs in material.paragraphs.items():
        material.sentences[lang] = [s.strip() for p in paragraphs for s in _SENTENCE.split(p)
                                    if 4 <= len(s.split()) <= 14]
    return material


def generate(target: Path, documents: int, content_dir: Path, seed: int = SEED) -> Path:
    """Write ``documents`` synthetic documents under ``target`` (replacing what was there)."""
    material = gather(content_dir)
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    for folder in ("articles", "sessions", "forum"):
        (target / folder).mkdir(parents=True)
    kinds, weights = zip(*KIND_SHARE, strict=True)
    for number in range(documents):
        kind = rng.choices(kinds, weights)[0]
        lang = rng.choice(material.languages)
        date = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(1800))
        title = _title(rng, material, lang)
        tags = sorted(set(rng.sample(material.tags, k=min(len(material.tags), rng.randint(1, 4)))))
        if kind == "forum":
            path = target / "forum" / f"synth-{number:06d}.json"
            path.write_text(json.dumps(_thread(rng, material, lang, title, tags, date), ensure_ascii=False, indent=1),
                            encoding="utf-8")
            continue
        fields = {"title": title, "date": date, "tags": tags, "language": lang}
        if kind == "article":
            fields["author"] = rng.choice(material.people)
            path = target / "articles" / f"synth-{number:06d}.md"
        else:
            fields["speakers"] = sorted(set(rng.sample(material.people, k=rng.randint(1, 2))))
            fields["format"] = rng.choice(material.formats or ["lunch & learn"])
            path = target / "sessions" / f"{date.isoformat()}-synth-{number:06d}.md"
        path.write_text(join_front_matter(fields, _body(rng, material, lang)), encoding="utf-8")
    return target


def edit(folder: Path, share: float, round_number: int, seed: int = SEED) -> list[Path]:
    """Change the text of ``share`` of the files under ``folder`` (at least one), as an author would:
    a sentence added at the end. Different files and sentences per ``round_number``."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".md", ".json", ".html"))
    rng = random.Random(seed * 1000 + round_number)
    chosen = rng.sample(files, k=max(1, round(share * len(files))))
    for path in chosen:
        line = f"Update {round_number}: this was reviewed again on day {rng.randrange(10_000)}."
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if "post_stream" in data:  # a Discourse topic: posts are HTML
                data["post_stream"]["posts"][-1]["cooked"] += f"<p>{line}</p>"
            else:
                data["posts"][-1]["body"] += "\n\n" + line
            path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        elif path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("</main>", f"<p>{line}</p></main>", 1) if "</main>" in text
                            else text.replace("</body>", f"<p>{line}</p></body>", 1), encoding="utf-8")
        else:
            path.write_text(path.read_text(encoding="utf-8").rstrip() + "\n\n" + line + "\n", encoding="utf-8")
    return chosen


def _title(rng: random.Random, material: Material, lang: str) -> str:
    sentence = rng.choice(material.sentences[lang])
    return sentence.rstrip(".!?:;,").strip()


def _paragraphs(rng: random.Random, material: Material, lang: str, low: int = 60, high: int = 220) -> list[str]:
    """Whole paragraphs in ``lang`` adding up to a word count between ``low`` and about ``high``."""
    want = rng.randint(low, high)
    out: list[str] = []
    count = 0
    while count < want:
        paragraph = rng.choice(material.paragraphs[lang])
        words = len(paragraph.split())
        if out and count + words > high:
            break
        out.append(paragraph)
        count += words
    return out


def _body(rng: random.Random, material: Material, lang: str) -> str:
    paragraphs = _paragraphs(rng, material, lang)
    if len(paragraphs) > 1 and sum(len(p.split()) for p in paragraphs) <= 150 and rng.random() < 0.5:
        heading = _title(rng, material, lang)
        paragraphs.insert(rng.randrange(1, len(paragraphs)), f"## {heading}")
    return "\n\n".join(paragraphs)


def _thread(rng: random.Random, material: Material, lang: str, title: str, tags: list[str], date: dt.date) -> dict:
    posts = []
    for number in range(rng.choice((1, 2))):
        posts.append({
            "author": rng.choice(material.people),
            "date": f"{date.isoformat()}T{9 + number:02d}:{rng.randrange(60):02d}:00Z",
            "body": "\n\n".join(_paragraphs(rng, material, lang, 25, 110)),
            **({"accepted": True} if number == 1 else {}),
        })
    return {"title": title, "category": rng.choice(material.categories or ["General"]), "tags": tags,
            "language": lang, "posts": posts}
