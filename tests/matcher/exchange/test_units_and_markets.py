from __future__ import annotations

from pathlib import Path

import pytest

from matcher.errors import BadMarketSpec
from matcher.exchange.errors import ApiError
from matcher.exchange.markets import load_markets, market_from_table
from matcher.exchange.units import format_units, parse_units, places_of

TABLE = {"symbol": "BRSWBNB", "base": {"symbol": "BRS", "token": "0x" + "b1" * 20, "decimals": 18},
         "quote": {"symbol": "WBNB", "token": "0x" + "b2" * 20, "decimals": 18}, "tick_size": "0.000001",
         "lot_size": "0.01", "min_notional": "0.0001", "maker_fee_bps": 10, "taker_fee_bps": 20}


def test_decimal_strings_convert_exactly_both_ways() -> None:
    assert parse_units("1.5", 18, "x") == 15 * 10**17
    assert parse_units("0.000000000000000001", 18, "x") == 1
    assert parse_units("7", 0, "x") == 7 and parse_units(7, 6, "x") == 7_000_000
    assert format_units(15 * 10**17, 18, 2) == "1.50"
    assert format_units(1, 18, 2) == "0.000000000000000001"  # never drops a digit
    assert format_units(-5, 1, 1) == "-0.5" and format_units(12, 0) == "12"
    assert format_units(0, 18, 8) == "0.00000000" and format_units(0, 6) == "0.000000"  # zero: padded the same
    assert format_units(0, 18, 0) == "0" and format_units(0, 0) == "0"


def test_bad_decimals_are_refused_not_rounded() -> None:
    for text, code in (("1.0000000000000000001", -1111), ("-1", -1102), ("1e5", -1102), ("", -1102),
                       (True, -1102), ("0x10", -1102)):
        with pytest.raises(ApiError) as info:
            parse_units(text, 18, "quantity")
        assert info.value.code == code, text


def test_places_follow_the_step() -> None:
    assert places_of(10**12, 18) == 6 and places_of(10**16, 18) == 2 and places_of(10**18, 18) == 0
    assert places_of(7, 18) == 18


def test_market_converts_prices_and_quantities_to_ticks_and_lots() -> None:
    market = market_from_table(TABLE)
    assert market.ticks("0.002") == 2000 and market.lots("1.5") == 150
    # 8 decimals, as Binance writes them (python-binance's depth cache drops a level on exactly "0.00000000")
    assert market.price_text(2000) == "0.00200000" and market.qty_text(150) == "1.50000000"
    assert market.qty_text(0) == "0.00000000" and market.price_text(0) == "0.00000000"
    assert market.settlement_price(2000) == 2 * 10**15  # quote units per base unit x 1e18
    assert market.ticks_from_settlement_price(2 * 10**15 + 1, round_up=True) == 2001
    assert market.ticks_from_settlement_price(2 * 10**15 + 1, round_up=False) == 2000
    for price in ("0.0020001", "0.0000005"):
        with pytest.raises(ApiError, match="PRICE_FILTER"):
            market.ticks(price)
    with pytest.raises(ApiError, match="LOT_SIZE"):
        market.lots("1.005")
    info = market.info()
    filters = {f["filterType"]: f for f in info["filters"]}
    assert list(filters) == ["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL", "NOTIONAL",
                             "PERCENT_PRICE_BY_SIDE", "ICEBERG_PARTS", "TRAILING_DELTA", "MAX_NUM_ORDERS",
                             "MAX_NUM_ALGO_ORDERS"]
    assert filters["MIN_NOTIONAL"]["minNotional"] == filters["NOTIONAL"]["minNotional"] == "0.00010000"
    assert filters["PRICE_FILTER"]["maxPrice"] == "1000000.00000000"  # a real ceiling, not "0"
    assert filters["LOT_SIZE"]["maxQty"] == "9000000000.00000000"
    assert filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierDown"] == "0.20000000"


def test_markets_file_loads_and_rejects_inconsistent_specs(tmp_path: Path) -> None:
    path = tmp_path / "markets.toml"
    path.write_text('[[market]]\nsymbol = "BRSWBNB"\nbase = { symbol = "BRS", token = "0x' + "b1" * 20 +
                    '", decimals = 18 }\nquote = { symbol = "WBNB", token = "0x' + "b2" * 20 +
                    '", decimals = 18 }\ntick_size = "0.000001"\nlot_size = "0.01"\n')
    assert list(load_markets(path).by_symbol) == ["BRSWBNB"]
    with pytest.raises(BadMarketSpec, match="not an address"):
        market_from_table({**TABLE, "base": {**TABLE["base"], "token": "nope"}})
    with pytest.raises(BadMarketSpec, match="tick_size"):
        market_from_table({**TABLE, "tick_size": "0.1234567890123456789"})
    path.write_text("nothing = 1\n")
    with pytest.raises(BadMarketSpec, match="no \\[\\[market\\]\\]"):
        load_markets(path)


def test_kept_texts_are_the_formatted_ones_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from matcher.exchange import markets as markets_module
    monkeypatch.setattr(markets_module, "TEXTS_KEPT", 64)
    market, fresh = market_from_table(TABLE), market_from_table(TABLE)
    rng = random.Random(5)
    amounts = [0, 1, 7, 10**6, 2**70, -3, *(rng.randrange(10**9) for _ in range(500))]
    for amount in amounts + amounts[::-1]:  # asked twice: formatted, then kept
        spec = market.spec
        assert market.price_text(amount) == format_units(amount * spec.tick_size, spec.quote.decimals,
                                                         max(8, market.price_places))
        assert market.qty_text(amount) == format_units(amount * spec.lot_size, spec.base.decimals,
                                                       max(8, market.qty_places))
        assert market.quote_text(amount) == format_units(amount, spec.quote.decimals, max(8, market.price_places))
    assert all(len(texts) <= 64 for texts in market._texts)
    assert market.price_text(True) == fresh.price_text(1)  # a bool is formatted, not kept as a key
    assert all(type(amount) is int for amount in market._texts[0])
    assert market == fresh and hash(market) == hash(fresh)  # the kept texts are not part of what a market is


def test_kept_amounts_read_as_fresh_ones_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher.exchange import units
    monkeypatch.setattr(units, "PARSED_KEPT", 32)
    monkeypatch.setattr(units, "_PARSED", {})
    texts = ["1", "1.5", "0.000001", "007", "1.", "12.3400", " 2 ", "0", *(f"{i}.{i % 7}" for i in range(100))]
    for text in texts + texts:  # read twice: parsed, then kept
        for decimals in (0, 6, 18):
            try:
                expected: object = units._parse_units(text, decimals, "price")
            except ApiError as refused:
                expected = (refused.code, refused.msg)
            try:
                got: object = units.parse_units(text, decimals, "price")
            except ApiError as refused:
                got = (refused.code, refused.msg)
            assert got == expected, (text, decimals)
    assert len(units._PARSED) <= 32
    for refused_text in ("1.5", "abc", "-1", "1e3"):  # refusals are never kept, and name the field asked for
        with pytest.raises(ApiError, match="'quantity'"):
            units.parse_units(refused_text, 0, "quantity")
    assert ("abc", 0) not in units._PARSED and units.parse_units("9" * 81, 0, "q") == int("9" * 81)
    assert ("9" * 81, 0) not in units._PARSED  # long texts are not kept
