"""Tests needing redis-server or chromium skip, saying how to install them, when the program is
missing; under ANTARA_REQUIRE_ALL_TESTS=1 (CI) they fail instead, so nothing is skipped unseen.

Each case runs pytest in a subprocess on a small test file that uses the suite's own fixtures,
with ANTARA_REDIS_SERVER and ANTARA_CHROMIUM pointing at programs that do not exist.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT

pytest_plugins = ["pytester"]

USES_BOTH = """
import pytest

@pytest.mark.redis
def test_needs_redis(redis_url):
    pass

@pytest.mark.browser
def test_needs_chromium(browser):
    pass

def test_needs_nothing():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest project with this suite's settings and fixtures, where both programs are missing."""
    pytester.makepyprojecttoml((ROOT / "pyproject.toml").read_text())
    pytester.makeconftest(
        "from tests.conftest import browser, redis_server, redis_url\n"
        "from tests.conftest import pytest_collection_modifyitems, pytest_runtest_setup\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("ANTARA_REDIS_SERVER", str(pytester.path / "absent" / "redis-server"))
    monkeypatch.setenv("ANTARA_CHROMIUM", str(pytester.path / "absent" / "chromium"))
    monkeypatch.delenv("ANTARA_REQUIRE_ALL_TESTS", raising=False)
    return pytester


def test_a_missing_program_skips_its_tests_and_says_how_to_install_it(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_uses_both=USES_BOTH)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    absent = suite.path / "absent"
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED*redis-server not found at {absent}/redis-server: run scripts/install-test-deps (as root)",
            f"SKIPPED*chromium not found at {absent}/chromium: run scripts/install-test-deps (as root)",
        ],
        consecutive=False,
    )


def test_under_require_all_tests_a_missing_program_fails_its_tests(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTARA_REQUIRE_ALL_TESTS", "1")
    suite.makepyfile(test_uses_both=USES_BOTH)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*redis-server not found at *ANTARA_REQUIRE_ALL_TESTS=1: nothing may be skipped*"])
    result.stdout.fnmatch_lines(["*chromium not found at *ANTARA_REQUIRE_ALL_TESTS=1: nothing may be skipped*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_test_using_redis_or_the_browser_must_carry_its_marker(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_unmarked="def test_a(redis_url):\n    pass\n\ndef test_b(browser):\n    pass\n")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_unmarked.py::test_a uses the redis_server fixture without @pytest.mark.redis",
            "*test_unmarked.py::test_b uses the browser fixture without @pytest.mark.browser",
        ]
    )
