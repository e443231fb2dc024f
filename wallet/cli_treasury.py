"""`bourse wallet sweep` and `bourse por`: treasury sweeps and proof of reserves."""

from __future__ import annotations

from pathlib import Path

import click

from .cli_common import WalletGroup, emit, json_option, rpc_option
from .errors import WalletError
from .rpc import Rpc
from .units import format_amount, parse_amount


def _watermark(text: str, token: bool) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != (3 if token else 2):
        raise WalletError(f"expected {'TOKEN:HIGH:LOW' if token else 'HIGH:LOW'}, got {text!r}")
    return ("native", *parts) if not token else tuple(parts)  # type: ignore[return-value]


@click.command("sweep")
@click.option("--hot", "hot", multiple=True, required=True, help="A hot address (repeat for several).")
@click.option("--cold", required=True, help="Cold address that receives the surplus.")
@click.option("--native", default=None, help="HIGH:LOW marks for the native coin, in ether (e.g. 10:2).")
@click.option("--token", "tokens", multiple=True, help="TOKEN:HIGH:LOW marks in the token's base units.")
@click.option("--execute", is_flag=True, help="Send the transfers (default: dry run that only prints the plan).")
@click.option("--signer", "signer_url", default=None, help="Policy signer URL (http://... or unix:///...).")
@click.option("--signer-token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Bearer token for the signer (else $BOURSE_SIGNER_TOKEN).")
@rpc_option
@json_option
def sweep_command(hot: tuple[str, ...], cold: str, native: str | None, tokens: tuple[str, ...], execute: bool,
                  signer_url: str | None, signer_token_file: Path | None, rpc_url: str, as_json: bool) -> None:
    """Move everything above the high-water mark from hot addresses to COLD; list addresses below low water."""
    from .treasury import Watermark, execute_sweep, plan_sweep
    marks = []
    if native:
        _, high, low = _watermark(native, False)
        marks.append(Watermark("native", parse_amount(high), parse_amount(low)))
    for text in tokens:
        asset, high, low = _watermark(text, True)
        from eth_utils import is_address, to_checksum_address
        if not is_address(asset):
            raise WalletError(f"not a token address: {asset!r}")
        marks.append(Watermark(to_checksum_address(asset), parse_amount(high, 0), parse_amount(low, 0)))
    if not marks:
        raise WalletError("nothing to sweep: give --native and/or --token")
    rpc = Rpc(rpc_url)
    plan = plan_sweep(rpc, list(hot), cold, marks)
    data: dict[str, object] = {
        "transfers": [{"from": t.source, "asset": t.asset, "amount": str(t.amount), "to": t.to} for t in plan.transfers],
        "refills": [{"address": r.address, "asset": r.asset, "balance": str(r.balance), "needed": str(r.needed)}
                    for r in plan.refills],
        "executed": False}
    lines = [f"sweep {_show(t.asset, t.amount)} from {t.source} to {t.to}" for t in plan.transfers] or ["nothing to sweep"]
    lines += [f"refill {r.address}: has {_show(r.asset, r.balance)}, needs {_show(r.asset, r.needed)} from cold"
              for r in plan.refills]
    if execute:
        if not signer_url:
            raise WalletError("--execute needs --signer (keys stay in the policy signer)")
        from .signer_client import SignerClient
        token = signer_token_file.read_text().strip() if signer_token_file else None
        data["transactions"] = execute_sweep(rpc, plan, SignerClient(signer_url, token))
        data["executed"] = True
        lines += [f"sent {h}" for h in data["transactions"]]  # type: ignore[union-attr]
    else:
        lines.append("(dry run: pass --execute to send)")
    emit(data, as_json, "\n".join(lines))


def _show(asset: str, amount: int) -> str:
    return f"{format_amount(amount)} native" if asset == "native" else f"{amount} of token {asset}"


@click.group("por", cls=WalletGroup)
def por_group() -> None:
    """Proof of reserves: Merkle sum tree of liabilities, user proofs, on-chain asset coverage."""


@por_group.command("build")
@click.argument("liabilities", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--from-exchange", "exchange_url", default=None,
              help="Take the balances from a running exchange's live ledger (its /admin/ledger) instead of a file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Input format (default: from the file extension).")
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --from-exchange: the exchange's admin.token (else $BOURSE_ADMIN_TOKEN).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for root.json and proofs/<account>.json.")
@json_option
def por_build(liabilities: Path | None, exchange_url: str | None, admin_token_file: Path | None, fmt: str | None,
              out_dir: Path, as_json: bool) -> None:
    """Build the tree from LIABILITIES (account,asset,amount in base units) or an exchange's ledger; write the root
    and one proof per user."""
    from .por import build, liabilities_from_ledger, parse_liabilities, write_tree
    if (liabilities is None) == (exchange_url is None):
        raise WalletError("give a LIABILITIES file or --from-exchange URL")
    if exchange_url is not None:
        from .files import read_token
        tree = build(liabilities_from_ledger(exchange_url, read_token(admin_token_file)))
    else:
        fmt = fmt or ("json" if liabilities.suffix.lower() == ".json" else "csv")  # type: ignore[union-attr]
        tree = build(parse_liabilities(liabilities.read_text(), fmt))  # type: ignore[union-attr]
    root_path = write_tree(tree, out_dir)
    emit(tree.root_json(), as_json, f"root {tree.root.hash.hex()} over {len(tree.proofs)} users; wrote {root_path}")


@por_group.command("verify")
@click.option("--root", "root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The published root.json.")
@click.option("--proof", "proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The user's proof file.")
@json_option
def por_verify(root_file: Path, proof_file: Path, as_json: bool) -> None:
    """Check a user's inclusion proof against a published root."""
    from .por import read_json, read_root, verify_proof
    proof = read_json(proof_file, "proof")
    balances = verify_proof(proof, read_root(root_file))
    emit({"account": proof["account"], "balances": {a: str(v) for a, v in balances.items()}, "valid": True}, as_json,
         f"valid: {proof['account']} is included with " + ", ".join(f"{v} {a}" for a, v in balances.items()))


@por_group.command("assets")
@click.option("--root", "root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The published root.json (its totals are the liabilities).")
@click.option("--holder", "holders", multiple=True, required=True,
              help="An address holding exchange funds: hot, cold, and the settlement vault contract.")
@click.option("--asset", "asset_map", multiple=True,
              help="NAME=TOKEN_ADDRESS for each liability asset that is a token ('native' is the coin).")
@rpc_option
@json_option
def por_assets(root_file: Path, holders: tuple[str, ...], asset_map: tuple[str, ...], rpc_url: str,
               as_json: bool) -> None:
    """Sum on-chain holdings per asset and report whether they cover the root's liabilities (exit 1 if not)."""
    from .por import coverage
    from .treasury import onchain_assets
    from .por import read_root
    root = read_root(root_file)
    tokens = {"native": "native"}
    for item in asset_map:
        name, _, address = item.partition("=")
        if not address:
            raise WalletError(f"--asset takes NAME=TOKEN_ADDRESS, got {item!r}")
        tokens[name] = address
    missing = [a for a in root["assets"] if a not in tokens]
    if missing:
        raise WalletError(f"no token address for {', '.join(missing)} (pass --asset NAME=0x...)")
    liabilities = {a: int(v) for a, v in root["totals"].items()}
    held = onchain_assets(Rpc(rpc_url), list(holders), [tokens[a] for a in root["assets"]])
    assets = {a: held[tokens[a]] for a in root["assets"]}
    rows = coverage(liabilities, assets)
    emit([{"asset": a, "assets": str(x), "liabilities": str(y), "covered": ok} for a, x, y, ok in rows], as_json,
         "\n".join(f"{a:<12} assets {x:>30}  liabilities {y:>30}  {'covered' if ok else 'SHORT by ' + str(y - x)}"
                   for a, x, y, ok in rows))
    if not all(ok for *_, ok in rows):
        raise click.exceptions.Exit(1)
