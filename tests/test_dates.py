"""Tables of date strings as ANTARA pages, metadata and feeds print them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.domain.regions import region_for_host
from crawler.extraction.dates import DateError, _parse_general, _usual, find_date_text, parse_date, to_iso
from crawler.samplesite import SampleSite
from crawler.samplesite.model import BAD_DATE_TEXT

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"

NOW = datetime(2022, 10, 20, 16, 0, 30, tzinfo=timezone(timedelta(hours=7)))


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # printed article dates
        ("Kamis, 20 Oktober 2022 15:02 WIB", "WIB", "2022-10-20T15:02:00+07:00"),
        ("Senin, 23 Februari 2026 23:15 WIB", "WIB", "2026-02-23T23:15:00+07:00"),
        ("Jumat, 5 Maret 2021 6:34 WIB", "WIB", "2021-03-05T06:34:00+07:00"),
        ("Jum'at, 5 Maret 2021 06:34 WIB", "WIB", "2021-03-05T06:34:00+07:00"),
        ("Selasa, 7 Januari 2025 9:05 WITA", "WIB", "2025-01-07T09:05:00+08:00"),
        ("Rabu, 12 Juni 2024 14:20 WIT", "WIB", "2024-06-12T14:20:00+09:00"),
        ("Minggu, 31 Desember 2023 23:59:59 WIB", "WIB", "2023-12-31T23:59:59+07:00"),
        ("Sabtu, 29 Februari 2020 00:00 WIB", "WIB", "2020-02-29T00:00:00+07:00"),
        ("kamis, 20 oktober 2022 15:02 wib", "WIB", "2022-10-20T15:02:00+07:00"),
        ("Kamis,\xa020 Oktober 2022\xa0 15:02\u200b WIB ", "WIB", "2022-10-20T15:02:00+07:00"),
        ("  Kamis,  20   Oktober 2022   15:02   WIB\n", "WIB", "2022-10-20T15:02:00+07:00"),
        ("Kamis, 20 Oktober 2022 15.02 WIB", "WIB", "2022-10-20T15:02:00+07:00"),
        ("Kamis, 20 Oktober 2022 pukul 15.02 WIB", "WIB", "2022-10-20T15:02:00+07:00"),
        ("Kamis, 20 Oktober 2022 15:02WIB", "WIB", "2022-10-20T15:02:00+07:00"),
        # no zone label: the region's zone
        ("20 Oktober 2022 15:02", "WIB", "2022-10-20T15:02:00+07:00"),
        ("20 Oktober 2022 15:02", "WITA", "2022-10-20T15:02:00+08:00"),
        ("Rabu, 12 Juni 2024 14:20", "WIT", "2024-06-12T14:20:00+09:00"),
        ("20 Oktober 2022", "WIB", "2022-10-20T00:00:00+07:00"),
        # short and English month names
        ("20 Okt 2022 15:02", "WIB", "2022-10-20T15:02:00+07:00"),
        ("1 Jan 2020 1:05", "WIB", "2020-01-01T01:05:00+07:00"),
        ("17 Agu 2023 10:00", "WIB", "2023-08-17T10:00:00+07:00"),
        ("17 Agt 2023 10:00", "WIB", "2023-08-17T10:00:00+07:00"),
        ("17 Ags 2023 10:00", "WIB", "2023-08-17T10:00:00+07:00"),
        ("17 Agustus 2023 10:00", "WIB", "2023-08-17T10:00:00+07:00"),
        ("5 Mei 2021 8:00", "WIB", "2021-05-05T08:00:00+07:00"),
        ("9 Sep 2021 8:00", "WIB", "2021-09-09T08:00:00+07:00"),
        ("24 Des 2021 8:00", "WIB", "2021-12-24T08:00:00+07:00"),
        ("3 Nopember 2019 8:00", "WIB", "2019-11-03T08:00:00+07:00"),
        ("12 Pebruari 2012 8:00", "WIB", "2012-02-12T08:00:00+07:00"),
        ("Thursday, 20 October 2022 15:02", "WIB", "2022-10-20T15:02:00+07:00"),
        ("20 May 2022 15:02", "WIB", "2022-05-20T15:02:00+07:00"),
        ("20 Dec. 2022 15:02", "WIB", "2022-12-20T15:02:00+07:00"),
        # numeric dates as in captions and datelines
        ("Kamis, (20/10/2022)", "WIB", "2022-10-20T00:00:00+07:00"),
        ("20/10/2022 15:02", "WIB", "2022-10-20T15:02:00+07:00"),
        ("5/3/2021 6:34 WITA", "WIB", "2021-03-05T06:34:00+08:00"),
        # ISO 8601 from <time datetime>, article:published_time, itemprop, JSON-LD
        ("2022-10-20T15:02:00+07:00", "WIB", "2022-10-20T15:02:00+07:00"),
        ("2022-10-20T15:02:00+0800", "WIB", "2022-10-20T15:02:00+08:00"),
        ("2022-10-20T15:02:00+09", "WIB", "2022-10-20T15:02:00+09:00"),
        ("2022-10-20T08:02:00Z", "WIB", "2022-10-20T08:02:00+00:00"),
        ("2022-10-20T08:02:00.000Z", "WIB", "2022-10-20T08:02:00+00:00"),
        ("2022-10-20T15:02:00.123456+07:00", "WIB", "2022-10-20T15:02:00+07:00"),
        ("2022-10-20T15:02:00", "WITA", "2022-10-20T15:02:00+08:00"),
        ("2022-10-20 15:02:00", "WIB", "2022-10-20T15:02:00+07:00"),
        ("2022-10-20T15:02", "WIT", "2022-10-20T15:02:00+09:00"),
        ("2022-10-20", "WIB", "2022-10-20T00:00:00+07:00"),
        ("2022-10-20T15:02:00-03:00", "WIB", "2022-10-20T15:02:00-03:00"),
        # RFC 2822 feed dates
        ("Sun, 15 Mar 2020 15:51:04 +0700", "WIB", "2020-03-15T15:51:04+07:00"),
        ("Sun, 15 Mar 2020 08:51:04 GMT", "WIB", "2020-03-15T08:51:04+00:00"),
        ("15 Mar 2020 15:51 +0800", "WIB", "2020-03-15T15:51:00+08:00"),
        ("Thu, 20 Oct 2022 15:02:00 -0000", "WIB", "2022-10-20T15:02:00+00:00"),
        ("Kam, 20 Okt 2022 15:02:00 +0700", "WIB", "2022-10-20T15:02:00+07:00"),
        # the English service: month first, and the English forms of what the Indonesian pages print
        ("Monday, November 30, 2026 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("November 30, 2026 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Mon, 30 Nov 2026 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Monday, 30 November 2026 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Tuesday, December 1, 2026 6:34 WIB", "WIB", "2026-12-01T06:34:00+07:00"),
        ("Friday, March 5, 2021 6:34 WITA", "WIB", "2021-03-05T06:34:00+08:00"),
        ("Wednesday, June 12, 2024 14:20 WIT", "WIB", "2024-06-12T14:20:00+09:00"),
        ("Sunday, December 31, 2023 23:59:59 WIB", "WIB", "2023-12-31T23:59:59+07:00"),
        ("Saturday, February 29, 2020 00:00 WIB", "WIB", "2020-02-29T00:00:00+07:00"),
        ("monday, november 30, 2026 15:02 wib", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Monday,\xa0November 30,\xa02026\u200b 15:02 WIB ", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Monday, November 30, 2026 15.02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Monday, November 30, 2026 at 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Monday, November 30, 2026, 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("November 30, 2026 15:02WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("November 30, 2026 15:02", "WITA", "2026-11-30T15:02:00+08:00"),
        ("November 30, 2026", "WIB", "2026-11-30T00:00:00+07:00"),
        ("November 30 2026 15:02", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Nov 30, 2026 15:02", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Nov. 30, 2026 15:02", "WIB", "2026-11-30T15:02:00+07:00"),
        ("Sept 9, 2021 8:00", "WIB", "2021-09-09T08:00:00+07:00"),
        ("May 5, 2021 8:00", "WIB", "2021-05-05T08:00:00+07:00"),
        ("November 30th, 2026 15:02 WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("December 1st, 2026 9:05 WIB", "WIB", "2026-12-01T09:05:00+07:00"),
        ("November 30, 2026 3:02 PM WIB", "WIB", "2026-11-30T15:02:00+07:00"),
        ("November 30, 2026 3:02 p.m.", "WIB", "2026-11-30T15:02:00+07:00"),
        ("November 30, 2026 12:05 am", "WIB", "2026-11-30T00:05:00+07:00"),
        ("November 30, 2026 12:05 pm", "WIB", "2026-11-30T12:05:00+07:00"),
        ("30 November 2026 3:02 pm WIB", "WIB", "2026-11-30T15:02:00+07:00"),
    ],
)
def test_parse_date(text: str, zone: str, expected: str) -> None:
    assert to_iso(parse_date(text, default_zone=zone)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26 menit lalu", "2022-10-20T15:34:30+07:00"),
        ("11 jam lalu", "2022-10-20T05:00:30+07:00"),
        ("2 hari lalu", "2022-10-18T16:00:30+07:00"),
        ("1 minggu lalu", "2022-10-13T16:00:30+07:00"),
        ("3 hari yang lalu", "2022-10-17T16:00:30+07:00"),
        ("sejam yang lalu", "2022-10-20T15:00:30+07:00"),
        ("1 detik lalu", "2022-10-20T16:00:29+07:00"),
        ("baru saja", "2022-10-20T16:00:30+07:00"),
        ("Baru Saja", "2022-10-20T16:00:30+07:00"),
        ("  5 Menit  Lalu ", "2022-10-20T15:55:30+07:00"),
        ("2 hours ago", "2022-10-20T14:00:30+07:00"),
        ("an hour ago", "2022-10-20T15:00:30+07:00"),
        ("just now", "2022-10-20T16:00:30+07:00"),
        ("26 minutes ago", "2022-10-20T15:34:30+07:00"),
        ("1 minute ago", "2022-10-20T15:59:30+07:00"),
        ("a minute ago", "2022-10-20T15:59:30+07:00"),
        ("11 hours ago", "2022-10-20T05:00:30+07:00"),
        ("2 days ago", "2022-10-18T16:00:30+07:00"),
        ("a day ago", "2022-10-19T16:00:30+07:00"),
        ("1 week ago", "2022-10-13T16:00:30+07:00"),
        ("30 seconds ago", "2022-10-20T16:00:00+07:00"),
        ("  5 Minutes  Ago ", "2022-10-20T15:55:30+07:00"),
        ("Just Now", "2022-10-20T16:00:30+07:00"),
    ],
)
def test_relative_dates_count_back_from_now(text: str, expected: str) -> None:
    assert to_iso(parse_date(text, now=NOW)) == expected


def test_relative_date_is_expressed_in_the_site_zone() -> None:
    now_utc = datetime(2022, 10, 20, 9, 0, tzinfo=timezone.utc)
    assert to_iso(parse_date("26 menit lalu", default_zone="WITA", now=now_utc)) == "2022-10-20T16:34:00+08:00"
    naive = datetime(2022, 10, 20, 16, 0)  # a naive "now" is site-local
    assert to_iso(parse_date("1 jam lalu", default_zone="WIT", now=naive)) == "2022-10-20T15:00:00+09:00"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\xa0",
        "kemarin",
        "Kamis",
        "Kamis, 31 Februari 2022 15:02 WIB",  # no such day
        "29 Februari 2021 10:00",  # not a leap year
        "31 Juni 2024 10:00",
        "32 Oktober 2022 10:00",
        "0 Oktober 2022 10:00",
        "20 Oktober 2022 25:00 WIB",  # no such hour
        "20 Oktober 2022 15:60 WIB",
        "20 Oktober 2022 15:02:61 WIB",
        "20 Okteber 2022 15:02 WIB",  # unknown month
        "20 Foo 2022",
        "Hariapa, 20 Oktober 2022 15:02 WIB",  # unknown weekday
        "20 Oktober 22 15:02",  # two-digit year
        "20 Oktober 1800 15:02",  # out of range
        "20 Oktober 2022 15:02 EST",
        "20 Oktober 2022 15:02 WIB extra",
        "2022-13-01T00:00:00+07:00",
        "2022-02-30",
        "2022-10-20T24:00:00",
        "2022-10-20T15:02:00+25:00",
        "20/13/2022",
        "Sun, 31 Feb 2020 15:51:04 +0700",
        "5 bulan lalu",  # too vague to resolve
        "lalu",
        "x" * 500,
        # English
        "yesterday",
        "Monday",
        "February 31, 2026 15:02 WIB",  # no such day
        "February 29, 2025 10:00",  # not a leap year
        "November 30, 2026 25:00 WIB",
        "Novembr 30, 2026 15:02 WIB",  # unknown month
        "Someday, November 30, 2026 15:02 WIB",  # unknown weekday
        "November 30, 26 15:02",  # two-digit year
        "November 30, 2026 15:02 EST",
        "November 30, 2026 15:02 WIB extra",
        "November 30, 2026 13:02 pm",  # 13 o'clock pm
        "November 30, 2026 0:02 am",
        "5 months ago",  # too vague to resolve
        "ago",
    ],
)
def test_impossible_or_unknown_dates_raise_date_error(text: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text, now=NOW)
    assert isinstance(caught.value, ValueError)
    if len(text) <= 80:
        assert repr(text) in str(caught.value)  # the message quotes the bad text


@pytest.mark.parametrize(
    "text", ["26 menit lalu", "11 jam lalu", "baru saja", "1 detik lalu", "2 hours ago", "26 minutes ago", "just now"]
)
def test_relative_dates_need_now(text: str) -> None:
    with pytest.raises(DateError, match="now"):
        parse_date(text)


@pytest.mark.parametrize("value", [None, 20221020, b"20 Oktober 2022"])
def test_non_strings_raise_date_error(value: object) -> None:
    with pytest.raises(DateError):
        parse_date(value)  # type: ignore[arg-type]


def test_unknown_default_zone_is_refused() -> None:
    with pytest.raises(DateError):
        parse_date("20 Oktober 2022 15:02", default_zone="CET")


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2022, 10, 20, 15, 2, tzinfo=timezone(timedelta(hours=7))), "2022-10-20T15:02:00+07:00"),
        (datetime(2022, 10, 20, 15, 2, 5, 999999, tzinfo=timezone(timedelta(hours=8))), "2022-10-20T15:02:05+08:00"),
        (datetime(2022, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "2022-01-02T03:04:05+00:00"),
        (datetime(2022, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=5, minutes=30))), "2022-01-02T03:04:00+05:30"),
    ],
)
def test_to_iso(dt: datetime, expected: str) -> None:
    assert to_iso(dt) == expected


def test_to_iso_refuses_naive_datetimes() -> None:
    with pytest.raises(DateError):
        to_iso(datetime(2022, 10, 20, 15, 2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Umum / 26 menit lalu", "26 menit lalu"),
        ("Kabar Daerah / 20 Oktober 2022 15:02", "20 Oktober 2022 15:02"),
        ("Senin, 23 Februari 2026 23:15 WIB 3 menit baca", "Senin, 23 Februari 2026 23:15 WIB"),
        ("Ekonomi - baru saja", "baru saja"),
        ("Diperbarui 2022-10-20T15:02:00+07:00", "2022-10-20T15:02:00+07:00"),
        ("Politics | Monday, November 30, 2026 15:02 WIB | 2 min read", "Monday, November 30, 2026 15:02 WIB"),
        ("Economy / November 30, 2026 15:02", "November 30, 2026 15:02"),
        ("Updated Nov 30, 2026 3:02 pm WITA, by staff", "Nov 30, 2026 3:02 pm WITA"),
        ("World - 2 hours ago", "2 hours ago"),
        ("Business 26 minutes ago", "26 minutes ago"),
        ("Mon, 30 Nov 2026 15:02 WIB", "Mon, 30 Nov 2026 15:02 WIB"),
        ("2 min read", None),
        ("May the best win, 2026", None),
        ("3 menit baca", None),
        ("Pulang Pisau", None),
        ("", None),
    ],
)
def test_find_date_text(text: str, expected: str | None) -> None:
    assert find_date_text(text) == expected


def _usual_form_cases() -> list[tuple[str, str]]:
    """Every date the fixture pages and a sample site print (with the page's zone), then near misses of
    the usual form that the general path must reject or read alike."""
    cases: dict[tuple[str, str], None] = {}
    for spec_file in sorted(FIXTURES.glob("*.json")):
        expected = json.loads(spec_file.read_text(encoding="utf-8")).get("expected") or {}
        raw, site = expected.get("published_at_raw"), expected.get("site")
        if raw and site:
            region = region_for_host(site)
            assert region is not None
            cases[(raw, region.zone)] = None
    site = SampleSite(articles=1500, seed=1)
    for k in range(site.articles):
        spec = site.article_at(k)
        region = region_for_host(spec.host)
        if spec.published_at_raw and region is not None:
            cases[(spec.published_at_raw, region.zone)] = None
    for text in (
        "Kamis, 31 Februari 2022 15:02 WIB",  # impossible day
        "Kamis, 20 Oktober 2022 25:02 WIB",  # impossible hour
        "Kamis, 20 Oktober 2022 15:60 WIB",
        "Kamis, 20 Oktober 1800 15:02 WIB",  # year out of range
        "Kamis, 20 Brumaire 2022 15:02 WIB",  # unknown month
        "Kamisan, 20 Oktober 2022 15:02 WIB",  # unknown weekday
        "Jum'at, 20 Oktober 2022 15:02 WITA",
        "KAMIS, 20 OKTOBER 2022 15:02 WIT",
        "Monday, Smarch 30, 2026 15:02 WIB",
        "Someday, November 30, 2026 15:02 WIB",
        "Monday, November 31, 2026 15:02 WIB",
        "Monday, November 30, 2026 24:00 WIB",
        "Mon, November 30, 2026 6:02 WITA",
        "Mon, 30 Nov 2026 15:02 WIB",
        "Kamis, 20 Oktober 2022 15:02",  # no zone label: the default zone
        "Kamis, 31 Oktober 2022 15:02",
        "Monday, November 30, 2026 15:02",
        "Kamis, 20 Oktober 2022 15:02 UTC",
        BAD_DATE_TEXT,
    ):
        for zone in ("WIB", "WITA", "WIT"):
            cases[(text, zone)] = None
    return list(cases)


USUAL_FORM_CASES = _usual_form_cases()


def test_usual_form_cases_are_mostly_read_by_the_fast_path() -> None:
    # the table below would prove nothing if the usual form were never taken
    fast = [text for text, zone in USUAL_FORM_CASES if _usual(text, zone) is not None]
    assert len(fast) >= len(USUAL_FORM_CASES) // 2


def _read(text: str, zone: str, parse: object) -> object:
    try:
        dt = parse(text, zone)  # type: ignore[operator]
    except DateError as exc:
        return str(exc)
    return (dt, to_iso(dt), dt.tzname())


def test_usual_printed_form_reads_as_the_general_path() -> None:
    """The fast path for "Kamis, 20 Oktober 2022 15:02 WIB" and "Monday, November 30, 2026 15:02 WIB"
    gives what the general path gives (the same instant, offset and zone name, or the same refusal)
    for every date of the table."""
    differ = [
        (text, zone)
        for text, zone in USUAL_FORM_CASES
        if _read(text, zone, lambda t, z: parse_date(t, default_zone=z))
        != _read(text, zone, lambda t, z: _parse_general(t, z, None))
    ]
    assert differ == []
