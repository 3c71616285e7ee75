"""Cross-site scripting: hostile text in every place a colleague or a saved page can put it stays inert.

More than fifty payloads (script tags, event handlers, javascript: and data: URLs, CSS tricks,
attribute breaking, entity encoding, Markdown links, raw HTML in Markdown, template syntax, ...)
go into note titles, bodies, speakers and tags (through the API and through the form), forum
posts (simple and Discourse), a saved HTML article, and search queries and filters. Every page
that shows them is loaded in headless Chromium with the Content-Security-Policy switched off, so
that only the escaping and the sanitiser stand between a payload and the page: no payload may
set its ``window.__xss_<n>`` marker, open a dialog, or leave a script, an event handler, a
frame or a script/data URL in the DOM; links to other sites get ``rel="noopener nofollow"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from indexer.pipeline import run_index
from kb.embeddings import HashingEmbedder
from kb.knowledge import KnowledgeBase
from tests.browser_support import launch, require_browser, serve
from tests.conftest import web_config
from tests.web_support import settings_of
from tests.xss_payloads import PAYLOADS, PROBE, groups, hostile_content, note_for, one_line
from web import create_app

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An app whose content, notes included, is full of payloads: (app, document ids, note ids)."""
    config = web_config(tmp_path_factory.mktemp("xss"))
    content_ids = hostile_content(Path(config["content_dir"]))
    settings = settings_of(config)
    indexer = KnowledgeBase(settings, embedder=HashingEmbedder())
    report = run_index(settings, indexer)
    indexer.close()
    assert report.skipped == [] and report.applied.added == len(content_ids)
    app = create_app(config)
    client = app.test_client()
    note_ids = []
    for number, group in enumerate(groups(PAYLOADS, 200)):
        response = client.post("/api/notes", json=note_for(group, number))
        assert response.status_code == 201, response.get_data(as_text=True)
        note_ids.append(response.get_json()["id"])
    yield app, content_ids, note_ids
    app.extensions["kb"].close()


@pytest.fixture(scope="module")
def server(site):
    with serve(site[0]) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Chromium, or a skip (a failure under KB_REQUIRE_BROWSER=1); the checks of the HTML as sent
    below run without it."""
    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


# What the page holds after loading, checked in the page itself.
SCAN = """() => {
  const bad = [];
  const urlAttributes = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background',
                         'poster', 'srcdoc', 'srcset', 'cite', 'codebase'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    const own = (tag === 'script' && (el.getAttribute('src') || '').startsWith('/static/') && !el.textContent)
      || (tag === 'details' && el.id === 'filters' && el.parentElement.classList.contains('results-layout'));
    if (!own && ['script', 'iframe', 'frame', 'object', 'embed', 'applet', 'base', 'style', 'svg', 'math',
         'video', 'audio', 'source', 'marquee', 'details', 'template'].includes(tag)) bad.push('element ' + tag);
    if (tag === 'meta' && el.hasAttribute('http-equiv')) bad.push('meta http-equiv');
    const href = el.getAttribute('href') || '';
    const feed = el.getAttribute('rel') === 'alternate' && /^\\/(feed|agenda)\\.atom$/.test(href);
    if (tag === 'link' && !feed && !href.startsWith('/static/')) bad.push('link ' + el.outerHTML);
    if (tag === 'form' && !(el.getAttribute('action') || '').startsWith('/')) bad.push('form ' + el.outerHTML);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.toLowerCase().replace(/[\\s\\u0000-\\u001f]/g, '');
      if (name.startsWith('on')) bad.push(tag + ' ' + name);
      if (name === 'style') bad.push(tag + ' style=' + attr.value);
      if (urlAttributes.includes(name) && /^(javascript|data|vbscript):/.test(value))
        bad.push(tag + ' ' + name + '=' + attr.value);
    }
  }
  for (const a of document.querySelectorAll('a[href]')) {
    const url = new URL(a.getAttribute('href'), location.href);
    const rel = (a.getAttribute('rel') || '').split(/\\s+/);
    if (url.origin !== location.origin && !(rel.includes('noopener') && rel.includes('nofollow'))) {
      bad.push('external link without rel="noopener nofollow": ' + a.outerHTML);
    }
  }
  return {
    bad,
    markers: Object.keys(window).filter(k => k.startsWith('__xss')),
    shown: document.body.innerText.includes('__xss_')
      || [...document.querySelectorAll('input, textarea')].some(field => field.value.includes('__xss_')),
  };
}"""


class Visitor:
    """One tab with the CSP switched off and the network limited to the app, recording what went wrong."""

    def __init__(self, browser, server: str) -> None:
        self.server = server
        self.context = browser.new_context(bypass_csp=True, locale="en-GB")
        self.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                           else route.abort())
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.problems: list[str] = []
        self.pages = 0

    def visit(self, path: str) -> None:
        self.page.goto(self.server + path)
        self.check(path)

    def check(self, where: str) -> None:
        """Scan the page as it is now; a page that shows no payload at all counts as a problem too."""
        where = where if len(where) <= 100 else where[:100] + "…"
        self.page.wait_for_timeout(30)  # let onload/onerror/ontoggle handlers run if any got through
        found = self.page.evaluate(SCAN)
        self.pages += 1
        for item in found["bad"]:
            self.problems.append(f"{where}: {item}")
        if found["markers"]:
            self.problems.append(f"{where}: markers set {found['markers']}")
        if not found["shown"]:
            self.problems.append(f"{where}: no payload is shown as text (is the page empty?)")
        if self.dialogs:
            self.problems.append(f"{where}: dialogs {self.dialogs}")
            self.dialogs.clear()

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], "\n".join(self.problems[:40])


@pytest.fixture
def visitor(browser, server):
    visitor = Visitor(browser, server)
    yield visitor
    visitor.close()


def test_there_are_more_than_fifty_distinct_payloads():
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    assert sum(f"__xss_{n}" in payload for n, payload in enumerate(PAYLOADS)) >= 60


@pytest.mark.browser
def test_notes_posted_through_the_api_are_inert_in_results_and_on_their_pages(site, visitor):
    _, _, note_ids = site
    # a search ranks the 100 best passages of each side, and the hostile threads hold the probe in
    # every post; the notes alone say "note" next to it
    visitor.visit("/search?" + urlencode({"q": f"{PROBE} note", "kind": "session", "limit": 100}))
    shown = visitor.page.locator("ol.cards > li h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"/doc/" + doc_id for doc_id in note_ids} <= set(shown)
    for doc_id in note_ids:
        visitor.visit("/doc/" + doc_id)
    assert visitor.pages == len(note_ids) + 1


@pytest.mark.browser
def test_forum_threads_and_saved_pages_are_inert(site, visitor):
    _, content_ids, _ = site
    for doc_id in content_ids:
        visitor.visit("/doc/" + doc_id)
    visitor.page.goto(visitor.server + "/doc/forum/hostile-simple")
    assert visitor.page.locator("article.post").count() == len(PAYLOADS)
    external = visitor.page.locator('article.post a[href^="https://example.org"]')
    assert external.count() == 1 and external.get_attribute("rel") == "noopener nofollow"


FORCE = """([id, value]) => {
  const field = document.getElementById(id);
  if (field.tagName === 'SELECT') field.add(new Option(value, value, true, true));
  else field.value = value;  // past maxlength, as a hand-made POST could send
}"""


@pytest.mark.browser
def test_notes_typed_into_the_form_are_inert_in_preview_validation_and_on_their_page(visitor):
    page = visitor.page
    lines = [one_line(p) for p in PAYLOADS]
    values = {"title": " ".join(lines), "speakers": ", ".join(lines), "tags": ", ".join(lines),
              "body": "\n\n".join(PAYLOADS), "language": lines[44], "format": lines[46]}
    page.goto(visitor.server + "/notes/new")
    for field, value in values.items():
        page.evaluate(FORCE, [field, value])
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("section.preview h1").inner_text() == values["title"]
    assert page.locator("#body").input_value() == values["body"]
    visitor.check("preview")

    for field in ("language", "format"):
        page.evaluate(FORCE, [field, values[field]])
    page.get_by_role("button", name="Save note").click()
    page.wait_for_load_state()
    for field in ("title", "speakers", "tags", "language", "format"):
        assert page.locator(f"#{field}-error").is_visible(), field
    assert page.locator("#title").input_value() == values["title"]
    visitor.check("validation")

    for number, group in enumerate(groups(PAYLOADS, 200)[:3]):
        note = note_for(group, 100 + number)
        page.goto(visitor.server + "/notes/new")
        page.fill("#title", note["title"])
        page.fill("#speakers", ", ".join(note["speakers"]))
        page.fill("#tags", ", ".join(note["tags"]))
        page.fill("#body", note["body"])
        page.get_by_role("button", name="Save note").click()
        page.wait_for_url("**/doc/sessions/**")
        assert page.locator("article.document h1").inner_text() == note["title"]
        visitor.check(f"saved form note {number}")


@pytest.mark.browser
def test_search_queries_and_filters_are_inert_on_result_and_error_pages(site, visitor):
    for group in groups([one_line(p) for p in PAYLOADS], 900):
        text = " ".join(group)
        visitor.visit("/search?" + urlencode({"q": text, "tag": text, "author": text}))
        visitor.visit("/search?" + urlencode({"q": PROBE + " " + group[0]}))
        visitor.visit("/search?" + urlencode({"tag": text}))
        visitor.visit("/search?" + urlencode({"author": text}))
        visitor.visit("/search?" + urlencode({"q": PROBE, "kind": text}))
        visitor.visit("/search?" + urlencode({"q": PROBE, "lang": text}))
        visitor.visit("/doc/articles/" + quote(text, safe=""))
    assert visitor.page.locator("p.status").inner_text() == "404"


# without a browser: the HTML as sent --------------------------------------------------------

FORBIDDEN = {"script", "iframe", "frame", "object", "embed", "applet", "base", "style", "svg", "math", "form"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster", "srcset"}


def unsafe_markup(fragment: str, *, page: bool = False) -> list[str]:
    """Elements and attributes in ``fragment`` that could run script or leave the site unmarked."""
    from bs4 import BeautifulSoup

    found = []
    for tag in BeautifulSoup(fragment, "html.parser").find_all(True):
        own_form = tag.name == "form" and tag.get("action", "").startswith("/")
        own_script = tag.name == "script" and tag.get("src", "").startswith("/static/") and not tag.string
        if tag.name in FORBIDDEN and not (page and (own_form or own_script)):
            found.append(f"element {tag.name}")
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on") or name.lower() == "style":
                found.append(f"{tag.name} {name}")
            plain = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name.lower() in URL_ATTRIBUTES and plain.startswith(("javascript:", "data:", "vbscript:")):
                found.append(f"{tag.name} {name}={value}")
        if tag.name == "a" and tag.get("href", "").startswith(("http://", "https://", "//")) \
                and not {"noopener", "nofollow"} <= set(tag.get("rel") or []):
            found.append(f"external link without rel: {tag}")
    return found


def pages_of(site) -> list[str]:
    _, content_ids, note_ids = site
    text = " ".join(one_line(p) for p in PAYLOADS[:12])
    return ["/doc/" + doc_id for doc_id in [*content_ids, *note_ids]] + [
        "/search?" + urlencode({"q": PROBE, "limit": 100}),
        "/search?" + urlencode({"q": text, "tag": text, "author": text}),
        "/search?" + urlencode({"q": PROBE, "kind": text}),
        "/doc/articles/" + quote(text, safe=""),
    ]


def test_html_as_sent_has_no_script_urls_and_external_links_are_nofollow(site):
    client = site[0].test_client()
    for path in pages_of(site):
        response = client.get(path)
        assert "text/html" in response.content_type
        assert unsafe_markup(response.get_data(as_text=True), page=True) == [], path


def test_api_answers_carry_payloads_as_json_strings_only(site):
    client = site[0].test_client()
    _, content_ids, note_ids = site
    for path in ["/api/documents/" + doc_id for doc_id in [*content_ids, *note_ids]]:
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        document = response.get_json()
        for body in [document["body_html"], *(post["body_html"] for post in document["posts"])]:
            assert unsafe_markup(body) == [], (path, body)
    response = client.get("/api/search?" + urlencode({"q": one_line(PAYLOADS[0])}))
    assert response.mimetype == "application/json" and response.get_json()["query"] == one_line(PAYLOADS[0])


def test_template_syntax_in_content_is_shown_literally(site):
    client = site[0].test_client()
    _, _, note_ids = site
    titles = [client.get("/api/documents/" + doc_id).get_json()["title"] for doc_id in note_ids]
    holder = next(doc_id for doc_id, title in zip(note_ids, titles, strict=True) if "{{7*7}}" in title)
    page = client.get("/doc/" + holder).get_data(as_text=True)
    assert "{{7*7}}" in page and "{{ config }}" in page and "${7*7}" in page
    assert "SECRET_KEY" not in page and "<Config" not in page
