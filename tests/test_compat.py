"""The private names of Scrapy, Twisted and scrapy-redis stay in ``crawler/scrapy/compat.py``, and still exist.

An upgrade of a dependency that drops or renames one fails here, naming it, rather than in a
crawl; a module that reaches for one outside the compat module fails here, naming file and line.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from crawler.scrapy.compat import PRIVATE_NAMES, PrivateName

ROOT = Path(__file__).resolve().parent.parent
COMPAT = ROOT / "crawler" / "scrapy" / "compat.py"
SCANNED = ("crawler", "spiders", "archive")
DEPENDENCIES = ("scrapy", "twisted", "scrapy_redis")

#: attributes of dependency objects that no other module may touch, whatever the object is
#: called there (``engine._slot``, ``self._pool._factory``, ``super()._redirect(...)``)
KNOWN_ATTRIBUTES = {
    "_slot",
    "_pool",
    "_factory",
    "_redirect",
    "_retry",
    "_decode_request",
    "_encode_request",
    "_contextFactory",
    "_crawler",
    "_bind_address",
    "_default_maxsize",
    "_default_warnsize",
    "_fail_on_dataloss",
    "_fail_on_dataloss_warned",
    "_tls_verbose_logging",
    "_quiescentCallback",
    "per_slot_settings",
    "inprogress",
    "nextcall",
}
KNOWN_PREFIXES = ("_cb_",)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(entry: PrivateName) -> str | None:
    """Why ``entry`` cannot be found in the installed dependency, or None when it is there."""
    try:
        found: object = importlib.import_module(entry.module)
    except ImportError as exc:
        return f"module {entry.module} does not import ({exc})"
    parts = entry.path.split(".")
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if index == last and entry.instance:
            if not isinstance(found, type) or not _assigned_in(found, part):
                return f"no {type(found).__name__ if not isinstance(found, type) else found.__name__} sets self.{part}"
            return None
        if not hasattr(found, part):
            return f"{'.'.join([entry.module, *parts[:index]])} has no attribute {part}"
        found = getattr(found, part)
    return None


def _assigned_in(cls: type, attribute: str) -> bool:
    """Whether a class of ``cls``'s MRO assigns ``self.<attribute>`` in its source (an instance attribute)."""
    pattern = re.compile(rf"\bself\.{re.escape(attribute)}\s*(:[^=\n]+)?=(?!=)")
    for klass in cls.__mro__:
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):  # builtins, classes made at run time
            continue
        if pattern.search(source):
            return True
    return False


@pytest.mark.parametrize("entry", PRIVATE_NAMES, ids=lambda e: f"{e.module}:{e.path}")
def test_every_private_name_compat_uses_still_exists(entry: PrivateName) -> None:
    problem = _resolve(entry)
    assert problem is None, (
        f"{entry.module}.{entry.path} is gone from {entry.distribution} {version(entry.distribution)}: {problem}. "
        f"crawler/scrapy/compat.py relies on it (see the comment where it is used). Either install the "
        f"{entry.distribution} version pyproject.toml allows (pip install -r requirements/lock.txt), or rework "
        f"compat.py for this version, with a public API if it now has one, and update PRIVATE_NAMES."
    )


def test_the_existence_check_can_fail() -> None:
    assert _resolve(PrivateName("scrapy", "scrapy.core.engine", "ExecutionEngine._no_such_slot", True))
    assert _resolve(PrivateName("scrapy", "scrapy.core.engine", "_NoSuchSlot"))
    assert _resolve(PrivateName("scrapy", "scrapy.core._no_such_module", "x"))


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


class _Finder(ast.NodeVisitor):
    """Uses of private names of the dependencies in one module."""

    def __init__(self, derived: frozenset[str] = frozenset()) -> None:
        self.found: list[tuple[int, str]] = []
        self.bound: set[str] = set()  # names bound to a dependency module or object
        self.derived = derived  # classes of other project modules with a dependency base
        self.dependency_classes: set[str] = set()  # classes of this module with a dependency base
        self.own: set[str] = set()  # attributes this module defines (self._x = ..., def _x)
        self.inherited_lines: set[int] = set()  # lines inside classes with a dependency base

    def scan(self, tree: ast.Module) -> list[tuple[int, str]]:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in DEPENDENCIES:
                        self.bound.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in DEPENDENCIES:
                self.bound.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.own.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for sub in ast.walk(target):
                        if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store) and _is_self(sub.value):
                            self.own.add(sub.attr)
                        elif isinstance(sub, ast.Name):
                            self.own.add(sub.id)
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for _ in classes:  # a class whose base is a class with a dependency base, in any order
            for cls in classes:
                if any(self._root(base) in self.bound | self.dependency_classes | self.derived for base in cls.bases):
                    self.dependency_classes.add(cls.name)
        for cls in classes:
            if cls.name in self.dependency_classes:
                self.inherited_lines.update(range(cls.lineno, (cls.end_lineno or cls.lineno) + 1))
        self.visit(tree)
        return sorted(self.found)

    def _root(self, node: ast.expr) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802 (ast's name)
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] in DEPENDENCIES and any(_private(p) for p in parts):
                self.found.append((node.lineno, f"import {alias.name}"))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802 (ast's name)
        parts = (node.module or "").split(".")
        if parts[0] not in DEPENDENCIES:
            return
        if any(_private(p) for p in parts):
            self.found.append((node.lineno, f"from {node.module} import ..."))
        for alias in node.names:
            if _private(alias.name):
                self.found.append((node.lineno, f"from {node.module} import {alias.name}"))

    def visit_Attribute(self, node: ast.Attribute) -> None:  # noqa: N802 (ast's name)
        self._check_attribute(node.lineno, node.value, node.attr)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802 (ast's name)
        inherits = node.name in self.dependency_classes
        for child in ast.walk(node):
            if not inherits or not isinstance(child, ast.Attribute) or not _private(child.attr):
                continue
            base = child.value
            is_super = isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"
            is_self = _is_self(base)
            if is_super or (is_self and child.attr not in self.own):
                self.found.append((child.lineno, f"{ast.unparse(child)} (inherited from a dependency)"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802 (ast's name)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            self._check_attribute(node.lineno, node.args[0], node.args[1].value)
        self.generic_visit(node)

    def _check_attribute(self, line: int, base: ast.expr, name: str) -> None:
        if _is_self(base) and name in self.own and line not in self.inherited_lines:
            return  # the module's own method or attribute of that name, in a class of its own
        if name in KNOWN_ATTRIBUTES or name.startswith(KNOWN_PREFIXES):
            self.found.append((line, f"attribute {name}"))
        elif _private(name) and self._root(base) in self.bound:
            self.found.append((line, f"{ast.unparse(base)}.{name}"))


def private_uses(source: str, derived: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, what) for every use of a private name of Scrapy, Twisted or scrapy-redis in ``source``
    (``derived``: names of the project's classes that subclass a dependency's, e.g. in another module)."""
    return sorted(set(_Finder(derived).scan(ast.parse(source))))


def derived_classes(sources: list[str]) -> frozenset[str]:
    """Names of the classes in ``sources`` that subclass a class of a dependency, directly or through another."""
    trees = [ast.parse(source) for source in sources]
    derived: frozenset[str] = frozenset()
    while True:
        found = set(derived)
        for tree in trees:
            finder = _Finder(derived)
            finder.scan(tree)
            found |= finder.dependency_classes
        if found == derived:
            return derived
        derived = frozenset(found)


def test_no_module_but_compat_uses_private_names_of_dependencies() -> None:
    sources = {
        path: path.read_text(encoding="utf-8") for folder in SCANNED for path in sorted((ROOT / folder).rglob("*.py"))
    }
    derived = derived_classes(list(sources.values()))
    uses = []
    for path, source in sources.items():
        if path == COMPAT:
            continue
        for line, what in private_uses(source, derived):
            uses.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not uses, (
        "private names of Scrapy, Twisted or scrapy-redis used outside crawler/scrapy/compat.py; use a public "
        "API, or move the use into compat.py with a comment saying why none does the job:\n" + "\n".join(uses)
    )


@pytest.mark.parametrize(
    "source",
    [
        "from twisted.web._newclient import ResponseFailed",
        "from scrapy.utils._download_handlers import get_dataloss_msg",
        "from scrapy.core.downloader.handlers.http11 import _ScrapyAgent",
        "import scrapy_redis._private",
        "import twisted.web.client as c\nc._HTTP11ClientFactory",
        "from scrapy.core import engine\nengine._Slot",
        "def f(crawler):\n    return crawler.engine._slot.inprogress",
        "def f(engine):\n    return getattr(engine, '_slot', None)",
        "def f(handler):\n    handler._pool._factory = object",
        "from scrapy.downloadermiddlewares.redirect import RedirectMiddleware\n"
        "class R(RedirectMiddleware):\n    def _redirect(self, a, b, c):\n        return super()._redirect(a, b, c)",
        "from scrapy.downloadermiddlewares.retry import RetryMiddleware\n"
        "class R(RetryMiddleware):\n    def f(self, request):\n        return self._retry(request, 'x')",
        "from scrapy_redis.queue import PriorityQueue\n"
        "class Q(PriorityQueue):\n    def f(self, data):\n        return self._decode_request(data)",
        "from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler\n"
        "class A(HTTP11DownloadHandler):\n    pass\n"
        "class B(A):\n    def f(self):\n        return self._disconnect_timeout",
        "def f(downloader, key):\n    return downloader.per_slot_settings[key]",
        "from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler\n"
        "class A(HTTP11DownloadHandler):\n    def f(self):\n        self._fail_on_dataloss_warned = True",
    ],
)
def test_the_scan_finds_a_private_use(source: str) -> None:
    assert private_uses(source), source


def test_the_scan_follows_subclasses_across_modules() -> None:
    base = (
        "from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler\n"
        "class Mirror(HTTP11DownloadHandler):\n    pass"
    )
    user = (
        "from mirror import Mirror\n"
        "class Capture(Mirror):\n    def f(self):\n        self._fail_on_dataloss_warned = True"
    )
    derived = derived_classes([base, user])
    assert derived == {"Mirror", "Capture"}
    assert private_uses(user, derived)


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "from twisted.web.client import ResponseFailed, ResponseNeverReceived",
        "from scrapy.downloadermiddlewares.retry import get_retry_request",
        "from lxml import etree\nx: etree._Element",
        "from scrapy_redis.queue import PriorityQueue\n"
        "class Q(PriorityQueue):\n    def __init__(self):\n        self._tokens = 1\n"
        "    def f(self):\n        return self._tokens",
        "class Server:\n    def _redirect(self):\n        pass\n    def f(self):\n        return self._redirect()",
        "class Mine:\n    def f(self):\n        return self._cache",
        "def f(engine):\n    return engine.scheduler",
    ],
)
def test_the_scan_leaves_public_and_own_names_alone(source: str) -> None:
    assert private_uses(source) == [], source


def test_offline_reextract_loads_no_http_client_and_no_redis() -> None:
    """``antara reextract`` reads WARC files: it must not load Scrapy's HTTP client or redis."""
    unwanted = ("redis", "scrapy_redis", "scrapy.core.downloader.handlers.http11")
    code = (
        f"import crawler.replay.reextract, sys; loaded = [m for m in {unwanted!r} if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("location", "status", "method", "expected"),
    [
        ("https://www.antaranews.com/berita/1/c", 301, "GET", "max redirections reached"),
        ("https://evil.test/x", 301, "GET", "offsite: https://www.antaranews.com/berita/1/b redirects to"),
        ("https://evil.test/y", 302, "POST", "offsite: https://www.antaranews.com/berita/1/b redirects to"),
        ("ftp://evil.test/z", 301, "GET", "response"),
    ],
)
def test_redirect_checks_run_in_the_order_scrapy_calls_its_public_hooks(
    location: str, status: int, method: str, expected: str
) -> None:
    """AntaraRedirectMiddleware relies on Scrapy calling ``handle_referer`` with each redirect request
    before counting it against REDIRECT_MAX_TIMES: an offsite redirect at the limit is ``offsite``."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler

    from crawler.scrapy.redirects import AntaraRedirectMiddleware

    middleware = AntaraRedirectMiddleware.from_crawler(get_crawler(settings_dict={"REDIRECT_MAX_TIMES": 1}))
    first = Request("https://www.antaranews.com/berita/1/a", method=method)
    hop = middleware.process_response(
        first, Response(first.url, status=307, headers={"Location": "https://www.antaranews.com/berita/1/b"})
    )
    assert isinstance(hop, Request) and hop.dont_filter and hop.meta["redirect_times"] == 1
    assert hop.method == method  # a 307 keeps it: a POST then meets a 302, rebuilt as a GET
    answer = Response(hop.url, status=status, headers={"Location": location})
    if expected == "response":
        assert middleware.process_response(hop, answer) is answer
        return
    with pytest.raises(IgnoreRequest) as raised:
        middleware.process_response(hop, answer)
    assert str(raised.value).startswith(expected)
