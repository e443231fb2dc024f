"""`bourse burn`: burn the exchange's collected platform-token fees now, or show the burn report."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from .errors import MatcherError

TERMINAL = ("CONFIRMED", "FAILED")


def exchange_request(url: str, method: str = "GET", token: str | None = None) -> Any:
    """A JSON request to the exchange; its error as one MatcherError line."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, method=method, headers=headers, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("msg", "")
        except ValueError:
            message = ""
        raise MatcherError(f"the exchange refused (HTTP {exc.code}){': ' + message if message else ''}") from None
    except OSError as exc:
        raise MatcherError(f"cannot reach the exchange at {url}: {exc}") from None


def _line(burn: dict[str, Any]) -> str:
    supply = (f"supply {burn['supplyBefore']} -> {burn['supplyAfter']}" if burn.get("supplyAfter") else "")
    tx = f"tx {burn['txHash']} (block {burn['block']})" if burn.get("block") is not None else \
        (f"tx {burn['txHash']}" if burn.get("txHash") else "")
    reason = f"({burn['reason']})" if burn.get("reason") else ""
    return " ".join(part for part in (f"burn {burn['id']}", f"epoch {burn['epoch']}", f"{burn['amount']} "
                                      f"{burn['asset']}", burn["state"], tx, supply, reason) if part)


@click.command("burn")
@click.option("--exchange", "exchange_url", default="http://127.0.0.1:8080", show_default=True,
              help="The exchange's base URL.")
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The exchange's admin.token (in its data dir; else $BOURSE_ADMIN_TOKEN).")
@click.option("--report", is_flag=True, help="Only list every burn so far (no token needed).")
@click.option("--timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Seconds to wait for the burn to confirm on chain.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def burn_command(exchange_url: str, admin_token_file: Path | None, report: bool, timeout: float,
                 as_json: bool) -> None:
    """Burn the platform-token fees the exchange has collected (through the vault and the token's burn), and wait
    until it is confirmed; or, with --report, list every burn with its supply before and after."""
    base = exchange_url.rstrip("/")
    if report:
        burns = exchange_request(base + "/bourse/v1/burns")
        click.echo(json.dumps(burns, indent=2) if as_json else "\n".join(map(_line, burns)) or "no burns yet")
        return
    from wallet.files import read_token
    started = exchange_request(base + "/admin/burn", "POST", read_token(admin_token_file))
    if "id" not in started:
        click.echo(json.dumps(started) if as_json else "nothing to burn: the fee account holds none of the "
                                                           "platform token")
        return
    if not as_json:
        click.echo(f"burning {started['amount']} {started['asset']} (epoch {started['epoch']}), waiting for the "
                   "fills before it to settle...", err=True)
    deadline = time.monotonic() + timeout
    burn = started
    while burn["state"] not in TERMINAL:
        if time.monotonic() > deadline:
            raise MatcherError(f"burn {started['id']} is still {burn['state']} after {timeout:g} s (it goes on in "
                               "the exchange; see bourse burn --report)")
        time.sleep(0.5)
        burn = next(b for b in exchange_request(base + "/bourse/v1/burns") if b["id"] == started["id"])
    click.echo(json.dumps(burn, indent=2) if as_json else _line(burn))
    if burn["state"] == "FAILED":
        raise SystemExit(1)
