"""The Binance decoders check each message's shape in C and refuse anything else with a
FeedError; the recording reader yields (receive time, kind, message) in file order."""

from __future__ import annotations

import gzip

import pytest

from host.feeds import binance
from host.feeds.binance import FeedError, StreamKind

DIFF = (b'{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT",'
        b'"U":10,"u":12,"pu":9,"b":[["100.00","1.000"]],"a":[["101.00","0.000"]]}}')
TICKER = (b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":12,"s":"BTCUSDT",'
          b'"b":"100.00","B":"1.000","a":"101.00","A":"2.000","T":1,"E":1}}')
TRADE = (b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"T":5,"s":"BTCUSDT","t":1,'
         b'"p":"100.50","q":"0.010","X":"MARKET","m":false}}')
SNAPSHOT = b'{"lastUpdateId":11,"E":1,"T":1,"bids":[["100.00","1.000"]],"asks":[]}'


def test_classify_and_decode():
    assert binance.classify(DIFF) is StreamKind.DEPTH
    diff = binance.decode(StreamKind.DEPTH, DIFF)
    assert (diff.U, diff.u, diff.pu, diff.b, diff.a) == (
        10, 12, 9, [("100.00", "1.000")], [("101.00", "0.000")])
    ticker = binance.decode(StreamKind.BOOK_TICKER, TICKER)
    assert (ticker.u, ticker.b, ticker.B, ticker.a, ticker.A) == (
        12, "100.00", "1.000", "101.00", "2.000")
    assert binance.decode(StreamKind.TRADE, TRADE).p == "100.50"
    assert binance.decode(StreamKind.SNAPSHOT, SNAPSHOT).lastUpdateId == 11


def test_spot_diff_has_no_pu():
    raw = DIFF.replace(b'"pu":9,', b"").replace(b"@0ms", b"@100ms")
    assert binance.decode(StreamKind.DEPTH, raw).pu is None


@pytest.mark.parametrize("levels", [
    b'["12"]', b'[["100.00"]]', b'[["100.00","1.000","x"]]', b'[[100.0,"1.000"]]',
    b'[{"100.00":"1.000"}]', b'"100.00"', b"null",
])
def test_malformed_levels_are_refused_by_the_decoder(levels):
    raw = DIFF.replace(b'[["100.00","1.000"]]', levels)
    with pytest.raises(FeedError) as error:
        binance.decode(StreamKind.DEPTH, raw)
    assert error.value.reason == "bad_feed_message"


@pytest.mark.parametrize("raw", [
    DIFF.replace(b'"U":10', b'"U":"10"'), DIFF.replace(b'"u":12,', b""), DIFF[:-5], b"{}",
])
def test_malformed_diffs(raw):
    with pytest.raises(FeedError):
        binance.decode(StreamKind.DEPTH, raw)


@pytest.mark.parametrize("raw", [b'{"stream":"btcusdt@kline_1m","data":{}}', b"[]", b""])
def test_unknown_kinds(raw):
    with pytest.raises(FeedError):
        binance.classify(raw)


def test_reader(tmp_path):
    path = tmp_path / "rec.gz"
    with gzip.open(path, "wb") as out:
        for n, raw in enumerate([DIFF, SNAPSHOT, TICKER, TRADE]):
            out.write(b"%d %s\n" % (1000 + n, raw))
    records = list(binance.read_recording(path))
    assert [r.recv_ns for r in records] == [1000, 1001, 1002, 1003]
    assert [r.kind for r in records] == [StreamKind.DEPTH, StreamKind.SNAPSHOT,
                                         StreamKind.BOOK_TICKER, StreamKind.TRADE]
    assert records[0].message.u == 12
    assert [r.message for r in binance.read_raw(path)][2] == TICKER


@pytest.mark.parametrize("line", [b"notanumber " + DIFF, b"123", b"123 {\"x\":1}"])
def test_reader_refuses_bad_lines(tmp_path, line):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as out:
        out.write(line + b"\n")
    with pytest.raises(FeedError, match="bad.gz:1"):
        list(binance.read_raw(path))


def test_data_dir_lookup(tmp_path, monkeypatch):
    (tmp_path / "x.gz").write_bytes(b"")
    monkeypatch.setenv(binance.DATA_ENV, str(tmp_path))
    assert binance.find_recording("x.gz") == tmp_path / "x.gz"
    assert binance.find_recording("absent.gz") is None
    assert str(tmp_path) in binance.missing_recording_message("absent.gz")
