"""Forum threads as JSON: the simple thread format, or a Discourse topic (``/t/<id>.json``).

Simple format::

    {"title": "...", "category": "...", "tags": ["..."], "language": "nl",
     "posts": [{"author": "...", "date": "2025-06-03T09:12:00Z", "body": "Markdown", "accepted": true}]}

Discourse: ``title``, ``tags``, ``post_stream.posts[]`` with ``name``/``username``,
``created_at``, ``cooked`` (HTML) and ``accepted_answer``.
"""

from __future__ import annotations

import json

from kb import ContentError, Document, Post, build_document, parse_date, text_field


def load_forum(text: str, path: str, categories: dict[str, str] | None = None) -> Document:
    """A forum thread; ``categories`` maps a category (its name, in any case, or its number) to
    the visibility of every thread in it (``forum-audiences.yaml``), which a thread's own
    ``visibility`` cannot widen: a mapped category decides."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: a forum thread must be a JSON object, not {type(data).__name__}")
    mapping = {key.casefold(): value for key, value in (categories or {}).items()}
    if "post_stream" in data:
        return _discourse(data, path, mapping)
    if "posts" in data:
        return _simple(data, path, mapping)
    raise ContentError(f"{path}: not a forum thread: expected a 'posts' list (simple format) "
                       "or 'post_stream' (Discourse)")


def _simple(data: dict, path: str, categories: dict[str, str]) -> Document:
    raw_posts = data.get("posts")
    if not isinstance(raw_posts, list) or not raw_posts:
        raise ContentError(f"{path}: 'posts' must be a non-empty list")
    posts = []
    for number, post in enumerate(raw_posts, start=1):
        if not isinstance(post, dict) or not isinstance(post.get("body"), str) \
                or not isinstance(post.get("author"), str) \
                or not post["author"].strip():
            raise ContentError(f"{path}: post {number} needs an 'author' and a text 'body'")
        posts.append(Post(author=post["author"].strip(), date=parse_date(post.get("date"), path),
                          body=post["body"], body_format="markdown", accepted=bool(post.get("accepted"))))
    fields = {key: data.get(key) for key in ("title", "tags", "language", "category", "visibility")}
    fields["visibility"] = _category_visibility(categories, data.get("category")) or fields["visibility"]
    fields["date"] = posts[0].date
    fields["author"] = [posts[0].author]
    return build_document(path, fields, "", "markdown", posts)


def _discourse(data: dict, path: str, categories: dict[str, str]) -> Document:
    stream = data.get("post_stream")
    raw_posts = stream.get("posts") if isinstance(stream, dict) else None
    if not isinstance(raw_posts, list) or not raw_posts:
        raise ContentError(f"{path}: 'post_stream.posts' must be a non-empty list")
    topic_answer = data.get("accepted_answer")
    accepted_number = topic_answer.get("post_number") if isinstance(topic_answer, dict) else None
    posts = []
    for number, post in enumerate(raw_posts, start=1):
        if not isinstance(post, dict) or not isinstance(post.get("cooked"), str):
            raise ContentError(f"{path}: post {number} in post_stream has no 'cooked' HTML")
        author = text_field(post.get("name") or post.get("username"), path, f"post {number} name")
        if not author:
            raise ContentError(f"{path}: post {number} in post_stream has no 'name' or 'username'")
        accepted = bool(post.get("accepted_answer")) or post.get("post_number") == accepted_number
        posts.append(Post(author=author, date=parse_date(post.get("created_at"), path), body=post["cooked"],
                          body_format="html", accepted=accepted))
    tags = data.get("tags")
    if isinstance(tags, list):  # newer Discourse versions send {"name": ...} objects
        tags = [tag.get("name") if isinstance(tag, dict) else tag for tag in tags]
    fields = {
        "title": data.get("title") or data.get("fancy_title"),
        "tags": tags,
        "date": posts[0].date,
        "author": [posts[0].author],
        "category": _category(data),
        "visibility": _category_visibility(categories, data.get("category_id"), _category(data))
        or data.get("visibility"),
    }
    return build_document(path, fields, "", "html", posts)


def _category_visibility(categories: dict[str, str], *names) -> str | None:
    """The visibility ``forum-audiences.yaml`` gives the first of ``names`` it maps (keys casefolded)."""
    for name in names:
        if isinstance(name, str | int) and str(name).strip().casefold() in categories:
            return categories[str(name).strip().casefold()]
    return None


def _category(data: dict) -> str:
    """The category's name when the topic carries one; Discourse topics only carry its number."""
    category = data.get("category")
    if isinstance(category, dict):
        category = category.get("name")
    return category.strip() if isinstance(category, str) else ""
