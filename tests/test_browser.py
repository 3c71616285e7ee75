"""A colleague's visit in headless Chromium: search in Dutch, read, follow related learning, add a note.

Skipped when /usr/bin/chromium is missing, unless KB_REQUIRE_BROWSER=1 (then it fails).
Screenshots land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.browser_support import launch, require_browser, serve
from tests.conftest import web_config
from web import create_app

sync_playwright = require_browser()
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app over a small indexed world, served on a free loopback port in a thread."""
    with serve(create_app(web_config(tmp_path_factory.mktemp("site")))) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged (a CSP violation or a failed load shows up here)."""
    return []


@pytest.fixture
def page(browser, console_errors):
    """A Dutch-speaking colleague's tab; the test fails on any console error it leaves behind."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = console_errors
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_colleague_searches_in_dutch_reads_and_follows_related_learning(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Wat wil je leren?"
    page.get_by_role("searchbox", name="Zoeken").fill("hoe regel ik de eerste week van een nieuwe collega")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    cards = page.locator("ol.cards > li")
    assert cards.count() >= 2
    first = cards.first.locator("h2 a")
    assert "onboarding" in (first.get_attribute("href") or "")
    assert page.locator("ol.cards mark").count() > 0
    assert page.locator("details.filters").is_visible() and page.locator("details.filters li a").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

    first.click()
    page.wait_for_url("**/doc/**")
    panel = page.locator("aside.related")
    assert panel.locator("h2").inner_text() == "Verder leren"
    suggestion = panel.locator("ul.suggestions a").first
    assert suggestion.is_visible() and panel.locator("p.reason").first.inner_text()
    assert panel.get_by_text("Wie kun je het vragen").is_visible()
    page.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)

    suggestion.click()
    page.wait_for_url("**/doc/**")
    assert page.locator("article.document h1").is_visible()


def test_colleague_adds_a_note_and_finds_it_first(server, page):
    page.goto(server + "/")
    page.get_by_role("link", name="Sessienotitie toevoegen").first.click()
    page.wait_for_url("**/notes/new")
    page.get_by_label("Titel").fill("Brown bag: werken met feature flags")
    page.get_by_label("Sprekers").fill("Femke Jansen, Lars Brouwer")
    page.get_by_label("Onderwerpen (tags)").fill("feature-flags, releases")
    page.get_by_label("Vorm").select_option("brown bag")
    page.get_by_label("Notitie", exact=True).fill(
        "## Kern\n\nZet elke **feature flag** uit met een vervaldatum: de flamingoregel van team Checkout.")

    page.get_by_role("button", name="Voorbeeld").click()
    page.wait_for_load_state()
    preview = page.locator("section.preview")
    assert preview.locator("h2", has_text="Kern").is_visible()
    assert preview.locator("strong", has_text="feature flag").is_visible()
    assert page.get_by_label("Titel").input_value() == "Brown bag: werken met feature flags"

    page.get_by_role("button", name="Notitie opslaan").click()
    page.wait_for_url("**/doc/sessions/**")
    assert page.locator("article.document h1").inner_text() == "Brown bag: werken met feature flags"
    note_url = page.url

    page.get_by_role("searchbox", name="Zoeken").fill("flamingoregel van team Checkout")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator("ol.cards > li h2 a").first
    assert note_url.endswith(first.get_attribute("href"))


def test_form_errors_are_shown_next_to_the_fields(server, page, console_errors):
    page.goto(server + "/notes/new")
    page.get_by_label("Notitie", exact=True).fill("Alleen een tekst, verder niets.")
    page.get_by_role("button", name="Notitie opslaan").click()
    page.wait_for_load_state()
    assert console_errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    console_errors.clear()  # the form comes back with status 400, as it should
    assert page.locator("#title-error").is_visible() and page.locator("#speakers-error").is_visible()
    assert page.get_by_label("Notitie", exact=True).input_value() == "Alleen een tekst, verder niets."


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter(element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > 0 && (box.right > width + 1 || box.left < -1);  // wholly off: the skip link
  }).map(element => element.tagName.toLowerCase() + "." + element.className);
  return {width, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 10)};
}"""


@pytest.fixture
def phone(browser, console_errors):
    """A colleague's phone: 390 × 844, Dutch."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert console_errors == []


def no_overflow(page) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["width"] and not found["wide"], (page.url, found)


def test_at_phone_width_no_page_is_wider_than_the_screen(server, phone):
    ARTIFACTS.mkdir(exist_ok=True)
    phone.goto(server + "/search?q=onboarding+buddy+eerste+week")
    no_overflow(phone)
    filters = phone.locator("details.filters")
    assert filters.is_visible() and not filters.locator("li a").first.is_visible()  # folded at the top
    assert filters.bounding_box()["y"] < phone.locator("ol.cards").bounding_box()["y"]
    phone.screenshot(path=str(ARTIFACTS / "phone-search.png"), full_page=True)
    filters.locator("summary").click()
    assert filters.locator("li a").first.is_visible()
    no_overflow(phone)
    phone.screenshot(path=str(ARTIFACTS / "phone-filters.png"), full_page=True)

    phone.locator("ol.cards > li h2 a").first.click()
    phone.wait_for_url("**/doc/**")
    no_overflow(phone)
    phone.screenshot(path=str(ARTIFACTS / "phone-document.png"), full_page=True)

    phone.goto(server + "/notes/new")
    no_overflow(phone)
    for label in ("Taal", "Vorm"):  # the selects show their whole value, not "Ned" and "lunc"
        select = phone.get_by_label(label)
        assert select.evaluate("element => element.scrollWidth <= element.clientWidth + 1"), label
        assert select.bounding_box()["width"] >= 150, label
    phone.screenshot(path=str(ARTIFACTS / "phone-note.png"), full_page=True)

    phone.goto(server + "/search?q=xqzvbl+plorf+wibbletronic")
    no_overflow(phone)
    phone.screenshot(path=str(ARTIFACTS / "phone-empty.png"), full_page=True)

    phone.goto(server + "/api/docs")
    no_overflow(phone)
    phone.screenshot(path=str(ARTIFACTS / "phone-api-docs.png"), full_page=True)


def test_a_search_nothing_answers_says_so_and_offers_a_way_on(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(server + "/search?q=xqzvbl+plorf+wibbletronic")
    assert page.locator("h1").inner_text().startswith("Niets dat goed past bij")
    assert page.locator("ol.cards").count() == 0 and page.locator("aside.related").count() == 0
    propose = page.get_by_role("link", name="Stel er een kennissessie over voor")
    page.screenshot(path=str(ARTIFACTS / "empty-state.png"), full_page=True)
    propose.click()
    page.wait_for_url("**/notes/new?*")
    assert page.get_by_label("Titel").input_value() == "xqzvbl plorf wibbletronic"


def test_slash_focuses_the_search_box(server, page):
    page.goto(server + "/search?q=onboarding")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "header-q"
    page.goto(server + "/")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_what_nobody_finds_becomes_a_planned_session_on_the_agenda(server, page, phone):
    ARTIFACTS.mkdir(exist_ok=True)
    for query in ["kubernetes helm charts"] * 3 + ["helm charts voor kubernetes"] * 2:
        page.goto(server + "/search?" + urlencode({"q": query}))
    gap = page.locator("li.gap", has_text="kubernetes helm charts")
    for _ in range(40):  # the log stores its entries in batches, every two seconds
        page.goto(server + "/agenda")
        if gap.count():
            break
        page.wait_for_timeout(250)
    assert page.locator("h1").inner_text() == "Leeragenda"
    assert gap.locator(".status").inner_text() == "Open"
    page.screenshot(path=str(ARTIFACTS / "agenda.png"), full_page=True)
    phone.goto(server + "/agenda")
    no_overflow(phone)
    phone.screenshot(path=str(ARTIFACTS / "phone-agenda.png"), full_page=True)

    gap.get_by_role("button", name="Plan een sessie").click()
    page.wait_for_url("**/notes/new?*")
    assert page.get_by_label("Titel").input_value() == "kubernetes helm charts"
    page.goto(server + "/agenda")
    assert gap.locator(".status").inner_text() == "Sessie gepland"
    assert gap.get_by_role("button", name="Open het notitieformulier opnieuw").is_visible()
