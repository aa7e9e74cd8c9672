"""Options and checks shared by several subcommands."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import click


def region_options(func: Any) -> Any:
    func = click.option(
        "--all-regions", is_flag=True, help="Every Indonesian-language site in the registry (35 hosts; not en)."
    )(func)
    return click.option(
        "--region", "regions", multiple=True, metavar="SLUG[,SLUG]", help="Region slug(s); repeatable, comma-separated."
    )(func)


def check_redis_url(url: str | None, option: str = "--redis") -> str:
    if not url:
        raise click.UsageError(f"{option} URL is required, e.g. {option} redis://127.0.0.1:6379/0")
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise click.BadParameter(f"{url!r} is not a Redis URL such as redis://127.0.0.1:6379/0", param_hint=option)
    return url


def settings_pairs(values: tuple[str, ...]) -> dict[str, str]:
    """The ``-s NAME=VALUE`` options as a dict of settings."""
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="'--set'")
        pairs[name.strip()] = setting
    return pairs
