"""The message catalogues: English and Simplified Chinese have the same keys, every key a page uses exists in both,
no message is empty, and placeholders match between the two languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import webui

ROOT = Path(__file__).resolve().parents[2]
PAGE_SOURCES = [ROOT / "chain" / "explorer", ROOT / "matcher" / "exchange" / "web", webui.SHARED]
KEY = re.compile(r"""["'`]((?:common|explorer|dev|trade|por)\.[A-Za-z0-9_.-]+)["'`]""")
FILE_NAME = re.compile(r"\.(css|js|json|html)$")
DYNAMIC = {  # keys built at run time, each with the values it is built from
    "explorer.mode.": ("auto", "interval", "manual"),
    "common.language.": ("en", "zh-CN"),
    "trade.place.": ("BUY", "SELL"),
    "por.reason.": ("assets", "balanceCount", "noLeaves", "leafCount", "siblingCount", "rootHash", "totals", "leafSum",
                    "overflow", "malformed"),
    "trade.side.": ("BUY", "SELL"),
    "trade.tab.": ("open", "history", "fills", "withdrawals"),
    "trade.settlement.": ("PENDING", "SIGNED", "SUBMITTED", "CONFIRMED", "FAILED"),
    "trade.status.": ("NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH"),
    "trade.type.": ("LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"),
}


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((webui.SHARED / "messages" / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore


def used_keys() -> set[str]:
    keys = set()
    for folder in PAGE_SOURCES:
        for path in folder.rglob("*"):
            if path.suffix in (".js", ".html"):
                keys |= {k for k in KEY.findall(path.read_text(encoding="utf-8")) if not FILE_NAME.search(k)}
    for prefix, values in DYNAMIC.items():
        keys |= {prefix + value for value in values}
    return keys


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(en) ^ set(zh)) == []
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        assert sorted(re.findall(r"\{\w+\}", en[key])) == sorted(re.findall(r"\{\w+\}", zh[key])), key


def test_every_key_the_pages_use_is_in_both_catalogues() -> None:
    used = used_keys()
    assert len(used) > 50  # the scan finds the pages' keys at all
    for lang in ("en", "zh-CN"):
        missing = sorted(used - set(catalogue(lang)))
        assert missing == [], f"{lang} lacks {missing}"


def test_no_catalogue_key_is_unused() -> None:
    unused = sorted(set(catalogue("en")) - used_keys())
    assert unused == []


def test_pages_have_no_visible_text_outside_the_catalogues() -> None:
    """HTML elements carry data-i18n keys and no text of their own (the scripts build text only through t())."""
    for folder in PAGE_SOURCES:
        for path in folder.rglob("*.html"):
            text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", path.read_text(encoding="utf-8"), flags=re.S)
            stray = [t.strip() for t in re.findall(r">([^<]+)<", text) if t.strip()]
            assert stray == [], f"{path.name}: {stray}"
