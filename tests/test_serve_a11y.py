"""Accessibility of ``antara serve``'s pages: axe-core in a real chromium finds no serious violation.

axe-core runs from the copy bundled in the ``axe-playwright-python`` package (nothing is fetched:
every request of the page is checked to go to the served archive). An archive of a real crawl of a
sample site of our own, with an edit found by a revisit so an article has versions; ``antara
serve`` runs in a subprocess and each page is checked at 1280 px (the home and an article also
at 375 px).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datasette.utils import tilde_encode

from crawler.samplesite import SampleSite
from crawler.serve.app import CONFIG_DIR
from tests.conftest import RunningSite, crawl_with_a_correction, rows, serve_archive, serve_site

#: the impacts that fail the check (axe's others are "moderate" and "minor")
FAILING = ("serious", "critical")

#: Violations of Datasette's own markup that we leave to Datasette, each for one rule on one element
#: of one page: {page key: {rule id: CSS selector of the element}}.
EXCUSED: dict[str, dict[str, str]] = {
    # Datasette's generic table page (tables other than articles): the filter form's selects and
    # value box have no <label>. It is the whole of Datasette's table.html to copy for three labels,
    # and the pages of issue 12 (the articles page included) do not use this form.
    "table": {
        "label": ".filter-value",
        "select-name": "select",
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=700, seed=12), tmp_path_factory.mktemp("a11y-site")) as running:
        yield running


@pytest.fixture(scope="module")
def archive(site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two crawls of kalteng; between them one article is edited, so it has a second version."""
    db = tmp_path_factory.mktemp("a11y") / "archive.db"
    crawl_with_a_correction(site, db)
    return db


@pytest.fixture(scope="module")
def pages(archive: Path) -> dict[str, str]:
    """Page key -> path under the served root."""
    article = rows(archive, "SELECT article_url FROM article_versions LIMIT 1")[0]["article_url"]
    title = rows(archive, "SELECT title FROM articles WHERE url = ?", (article,))[0]["title"]
    word = max(re.findall(r"\w+", title), key=len)
    run = rows(archive, "SELECT max(id) AS id FROM crawl_runs")[0]["id"]
    return {
        "home": "",
        "database": "archive",
        "articles": "archive/articles",
        "search": f"archive/articles?_search={word}",
        "columns": "archive/articles?_col=title&_col=region&_col=published_at",
        "article": f"archive/articles/{tilde_encode(article)}",
        "query-crawl-runs-recent": "archive/crawl_runs_recent",
        "query-search-articles": f"archive/search_articles?q={word}",
        "query-latest-in-region": "archive/latest_in_region?region=kalteng",
        "health": "health",
        "table": "archive/crawl_runs",
        "run": f"archive/crawl_runs/{run}",
        "404": "archive/nope",
    }


@pytest.fixture(scope="module")
def served(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_archive(archive, tmp_path_factory.mktemp("a11y-serve")) as server:
        yield server.url


def serious_violations(results: dict[str, Any], excused: dict[str, str]) -> list[str]:
    """axe's serious and critical violations, one line per rule: id, impact, help URL, the nodes."""
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in FAILING:
            continue
        nodes = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        if violation["id"] in excused:
            nodes = [n for n in nodes if not n.startswith(excused[violation["id"]])]
        if nodes:
            more = f" and {len(nodes) - 8} more" if len(nodes) > 8 else ""
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} {violation['helpUrl']}"
                f" on {nodes[:8]}{more}"
            )
    return found


def check(browser: Any, served: str, path: str, width: int, excused: dict[str, str]) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        response = page.goto(served + path)
        assert response is not None
        results = Axe().run(page).response
    finally:
        page.close()
    assert results["testEngine"]["version"].startswith("4."), results["testEngine"]
    outside = [r for r in requests if not r.startswith(served)]
    assert not outside, f"the page or axe fetched from outside the archive: {outside}"
    return serious_violations(results, excused)


CASES = [(key, 1280) for key in ("home", "database", "articles", "search", "columns", "article")]
CASES += [(key, 1280) for key in ("query-crawl-runs-recent", "query-search-articles", "query-latest-in-region")]
CASES += [(key, 1280) for key in ("health", "table", "run", "404")]
CASES += [("home", 375), ("article", 375)]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize(("key", "width"), CASES)
def test_no_serious_accessibility_violations(
    browser: Any, served: str, pages: dict[str, str], key: str, width: int
) -> None:
    found = check(browser, served, pages[key], width, EXCUSED.get(key, {}))
    assert not found, f"/{pages[key]} at {width} px:\n" + "\n".join(found)


@pytest.mark.slow
@pytest.mark.browser
def test_the_check_fails_on_a_serious_violation(browser: Any, served: str) -> None:
    """A page of the archive with a label removed and its text made faint is reported, with help URLs."""
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served)
    page.evaluate("document.querySelectorAll('label').forEach(l => l.remove())")
    page.evaluate("document.querySelector('#antara-search').removeAttribute('placeholder')")
    page.evaluate("document.querySelector('h1').style.color = '#ddd'")
    found = serious_violations(Axe().run(page).response, {})
    page.close()
    assert any(line.startswith("label (critical)") for line in found), found
    assert any(line.startswith("color-contrast (serious)") for line in found), found
    assert all("https://dequeuniversity.com/rules/axe/" in line for line in found), found


def test_excusing_a_rule_is_for_one_element_only() -> None:
    results = {
        "violations": [
            {
                "id": "label",
                "impact": "critical",
                "help": "Form elements must have labels",
                "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/label",
                "nodes": [{"target": [".filter-value"]}, {"target": ["#_search"]}],
            }
        ]
    }
    assert serious_violations(results, EXCUSED["table"]) == [
        "label (critical): Form elements must have labels"
        " https://dequeuniversity.com/rules/axe/4.12/label on ['#_search']"
    ]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_keyboard_focus_is_visible_on_links_and_buttons(browser: Any, served: str, width: int) -> None:
    """Tab through the home page: every link and button reached shows a solid outline of 2 px or more."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(served)
    seen: dict[str, int] = {"A": 0, "BUTTON": 0}
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, text: (e.textContent || e.value || '').trim().slice(0, 40),
                    style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""
        )
        if focused["tag"] in seen:
            seen[focused["tag"]] += 1
            assert focused["style"] not in ("none", "hidden") and focused["width"] >= 2, focused
    page.close()
    assert seen["A"] >= 5 and seen["BUTTON"] >= 1, seen
    css = (CONFIG_DIR / "static" / "antara-a11y.css").read_text()
    assert re.search(r"a:focus-visible, button:focus-visible", css)


@pytest.mark.parametrize(("name", "edits"), [("base.html", 2), ("_table.html", 1)])
def test_our_copies_of_datasettes_templates_differ_only_by_the_accessibility_changes(name: str, edits: int) -> None:
    """base.html and _table.html are Datasette's own, but for the changes their comment names."""
    import datasette

    theirs = (Path(datasette.__file__).parent / "templates" / name).read_text()
    ours = (CONFIG_DIR / "templates" / name).read_text()
    ours = re.sub(r"\{#-.*?#\}\n", "", ours, flags=re.S)
    undone = ours.replace('<html lang="en">', "<html>").replace(
        '<section class="content" role="main">', '<section class="content">'
    )
    undone = undone.replace(
        '<div class="table-wrapper" tabindex="0" role="region" aria-label="Table rows">', '<div class="table-wrapper">'
    )
    assert undone == theirs
    assert sum(a != b for a, b in zip(ours.splitlines(), theirs.splitlines(), strict=True)) == edits
