"""`tickwire venue` as a process, and `tickwire bench venue` on a tiny workload."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request

from host import cli
from sim.venue import TEST_API_KEY
from sim.venue.testing import VenueProcess, WsClient


def test_the_venue_command_serves_until_interrupted():
    with VenueProcess("--source", "synthetic", "--seed", "3") as venue:
        assert venue.info["api_key"] == TEST_API_KEY
        assert venue.info["markets"]["BTC-PERP"] == 0
        with urllib.request.urlopen(venue.rest_url + "/health", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}

        async def go():
            client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await client.send(type="subscribe", channels=["ticker"], markets=["ETH-PERP"])
            ticker = await client.next("ticker", timeout=10)
            assert 2000 < ticker["bid"] < ticker["ask"] < 3200
            await client.close()
        asyncio.run(go())
        proc = venue.proc
    assert proc.returncode == 0


def test_the_venue_command_explains_missing_data():
    result = subprocess.run([sys.executable, "-m", "host.cli", "venue", "--source", "replay",
                             "--data-dir", "/nonexistent"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "no shared/data recordings found" in result.stderr


def test_venue_bench_prints_its_figures(capsys):
    assert cli.main(["bench", "venue", "--orders", "400", "--repeats", "1",
                     "--loopback-orders", "200", "--round-trips", "20"]) == 0
    out = capsys.readouterr().out
    for figure in ("orders matched/s", "messages published/s", "order round trip"):
        assert figure in out
