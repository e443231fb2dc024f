"""`bourse node`: run the local chain with HTTP + WebSocket JSON-RPC."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import socket
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from .config import DEFAULT_MNEMONIC, ETHER, HARDFORKS, MiningMode, NodeConfig
from .profiles import PROFILES
from .profiles import resolve as resolve_profile
from .errors import ChainError
from .node import Node
from .pool import ORDERS
from .rpc.envelope import MAX_BATCH
from .server import RpcServer
from .state_file import dump as dump_state_of, read_file as read_state_file, write_file as write_state_file


def _ether(value: str) -> int:
    try:
        wei = Decimal(value) * ETHER  # parsing user input once, exactly; never float
    except InvalidOperation:
        raise click.BadParameter(f"not a number: {value!r}") from None
    if wei < 0 or wei != wei.to_integral_value():
        raise click.BadParameter("balance must be a non-negative amount with at most 18 decimals")
    return int(wei)


def banner(node: Node, url: str, cors_origins: tuple[str, ...] = ("*",)) -> str:
    cfg = node.config
    lines = [
        "",
        "  bourse node",
        "",
        "Available Accounts",
        "==================",
    ]
    ether = cfg.balance_wei // ETHER
    lines += [f"({i}) {a.checksum} ({ether} {cfg.native_symbol})" for i, a in enumerate(node.accounts)]
    lines += ["", "Private Keys", "=================="]
    lines += [f"({i}) 0x{a.key.to_bytes().hex()}" for i, a in enumerate(node.accounts)]
    lines += [
        "",
        "Wallet",
        "==================",
        f"Mnemonic:          {cfg.mnemonic}",
        f"Derivation path:   {cfg.derivation_path}<index>",
        "",
        f"Chain ID:          {cfg.chain_id}",
        f"Hardfork:          {cfg.hardfork}",
        f"Base fee:          {node.backend.pending_base_fee()}",
        f"Gas limit:         {node.backend.gas_limit}",
        f"Mining:            {node.mode.value}" + (f" every {node.block_time}s" if node.mode is MiningMode.INTERVAL else ""),
        f"Transaction order: {cfg.order}",
        f"Storage:           {cfg.data_dir or 'in memory'}"
        + (f" (resumed at block {node.backend.head.number})" if node.resumed else ""),
        f"Head block:        {node.backend.head.number}",
    ]
    fork = node.backend.fork
    if fork is not None:
        lines += [f"Fork:              {fork.url} at block {fork.number} (0x{fork.hash.hex()})"]
    if cfg.predeploy and node.accounts and fork is None:
        from contracts.predeploy import PREDEPLOYS

        lines += ["", "Platform contracts (owner: account 0)", "=================="]
        lines += [f"{p.label:<26} {p.address}" for p in PREDEPLOYS]
    lines += [
        "",
        f"Listening on {url} (HTTP and WebSocket)",
        f"Explorer:          {url.rstrip('/')}/explorer/",
    ]
    if cors_origins == ("*",):
        lines += ["CORS: any web page open in your browser can call this node, and so send transactions from the",
                  "      unlocked dev accounts (tools rely on it); --cors-origin URL limits it to your own pages."]
    else:
        lines += [f"CORS: only pages from {', '.join(cors_origins)} (others are refused, WebSocket included)."]
    return "\n".join(lines)


@click.command("node")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8545, show_default=True, type=click.IntRange(0, 65535),
              help="Port for HTTP and WebSocket (0: any free port).")
@click.option("--chain", "chain_name", type=click.Choice(sorted(PROFILES)), default="dev", show_default=True,
              help="Presets: dev (anvil's defaults), bsc / bsc-testnet (BNB Smart Chain's chain id 56 / 97, its block "
                   "gas limit and 0.75 s block interval, BNB as the native coin); the options below override them.")
@click.option("--chain-id", default=None, type=click.IntRange(min=1),
              help="Chain id (default: the --chain preset's; 31337 for dev, as anvil and hardhat).")
@click.option("--accounts", "account_count", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many funded dev accounts to derive from the mnemonic.")
@click.option("--balance", default="10000", show_default=True, help="Ether per dev account.")
@click.option("--mnemonic", default=DEFAULT_MNEMONIC, show_default=False,
              help="BIP-39 mnemonic for the dev accounts (default: anvil's and hardhat's).")
@click.option("--block-time", type=click.FloatRange(min=0, min_open=True), help="Mine every N seconds.")
@click.option("--no-mining", is_flag=True, help="Mine only on evm_mine / anvil_mine.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Persist the chain here.")
@click.option("--gas-limit", default=None, type=click.IntRange(min=21_000),
              help="Block gas limit (default: the --chain preset's; 30,000,000 for dev).")
@click.option("--base-fee", default=10**9, show_default=True, type=click.IntRange(min=0), help="Genesis base fee (wei).")
@click.option("--hardfork", default="osaka", show_default=True, type=click.Choice(HARDFORKS),
              help="EVM rules the chain follows.")
@click.option("--bare", is_flag=True, help="Start without the platform contracts.")
@click.option("--artifacts", "artifacts_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Compiler output (hardhat artifacts/build-info, solc standard-JSON output, Vyper combined_json) "
                   "whose sources revert traces show.")
@click.option("--client-version", default=None, metavar="TEXT",
              help="What web3_clientVersion answers (default: anvil-compatible/bourse/v<version>/python, which "
                   "tools that accept anvil recognise).")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="URL",
              help="Answer browser pages only from this origin (repeatable; default: any page, as anvil does).")
@click.option("--code-size-limit", type=click.IntRange(1, 2**32 - 1), default=None, metavar="BYTES",
              help="Largest contract code a deployment may leave (EIP-170, default 24576); initcode may be twice it.")
@click.option("--disable-code-size-limit", is_flag=True,
              help="Deploy code of any size (EIP-170 and EIP-3860 limits off), as hardhat's allowUnlimitedContractSize.")
@click.option("--max-batch", default=MAX_BATCH, show_default=True, type=click.IntRange(1, 100_000),
              help="Most requests in one JSON-RPC batch: the node answers a batch in one go, holding its lock, so an "
                   "unbounded batch could stall every other client.")
@click.option("--load-state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Start from a state file (anvil's format, as anvil --dump-state or this node writes it).")
@click.option("--dump-state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the state to this file (anvil's format) when the node stops.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Load this state file if it exists, and write the state back to it when the node stops.")
@click.option("--state-interval", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Also write the state file every N seconds (with --state or --dump-state).")
@click.option("--slots-in-an-epoch", default=32, show_default=True, type=click.IntRange(1, 65_536),
              help="How far behind the head the `safe` (one epoch) and `finalized` (two) block tags are.")
@click.option("--fork-url", "-f", default=None, metavar="URL",
              help="Fork this node (anvil, geth, another bourse node, BNB Smart Chain...): start from its block and "
                   "read its state as it is needed.")
@click.option("--fork-block-number", type=click.IntRange(0, 2**63), default=None,
              help="The block to fork at (default: the remote's latest).")
@click.option("--fork-chain-id", type=click.IntRange(1, 2**63), default=None,
              help="Use this chain id instead of the remote's.")
@click.option("--fork-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              metavar="SECONDS", help="How long a request to the forked node may take before it counts as failed.")
@click.option("--enable-tx-gas-limit", "--tx-gas-limit", "enable_tx_gas_limit", is_flag=True,
              help="Enforce EIP-7825's per-transaction gas cap (2^24) under Osaka; off by default, as anvil, since "
                   "tools send transactions with the block's gas limit.")
@click.option("--order", type=click.Choice(ORDERS), default="fees", show_default=True,
              help="How blocks take pending transactions: the highest priority fee first, or first come first served "
                   "(each sender's in nonce order either way).")
@click.option("--http-threads/--no-http-threads", default=True, show_default=True,
              help="Serve a light client's HTTP connection on a thread pinned to each CPU core, so it is answered on "
                   "the core it asks from (see chain/http_threads.py); off: every connection on the event loop.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the URL.")
def node_command(host: str, port: int, chain_name: str, chain_id: int | None, account_count: int, balance: str, mnemonic: str,
                 block_time: float | None, no_mining: bool, data_dir: Path | None, gas_limit: int | None,
                 base_fee: int,
                 hardfork: str, bare: bool, artifacts_dir: Path | None, client_version: str | None,
                 cors_origins: tuple[str, ...], code_size_limit: int | None, disable_code_size_limit: bool,
                 max_batch: int, load_state: Path | None, dump_state: Path | None, state_path: Path | None,
                 state_interval: float | None, slots_in_an_epoch: int, fork_url: str | None,
                 fork_block_number: int | None, fork_chain_id: int | None, fork_timeout: float,
                 enable_tx_gas_limit: bool, order: str, http_threads: bool,
                 quiet: bool) -> None:
    """Run a local EVM chain (an anvil for Python)."""
    if block_time and no_mining:
        raise click.UsageError("--block-time and --no-mining are exclusive")
    if code_size_limit is not None and disable_code_size_limit:
        raise click.UsageError("--code-size-limit and --disable-code-size-limit are exclusive")
    if state_path is not None and (load_state is not None or dump_state is not None):
        raise click.UsageError("--state is --load-state and --dump-state in one; give either")
    if state_path is not None:
        load_state, dump_state = (state_path if state_path.exists() else None), state_path
    if fork_url is None and (fork_block_number is not None or fork_chain_id is not None):
        raise click.UsageError("--fork-block-number and --fork-chain-id need --fork-url")
    if state_interval is not None and dump_state is None:
        raise click.UsageError("--state-interval needs --state or --dump-state")
    initial_state = None
    if load_state is not None:
        try:
            initial_state = read_state_file(load_state)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    profile, chain_id, gas_limit, block_time = resolve_profile(chain_name, chain_id, gas_limit, block_time, no_mining)
    config = NodeConfig(chain_id=chain_id, native_symbol=profile.native_symbol, accounts=account_count, balance_wei=_ether(balance), mnemonic=mnemonic,
                        block_time=block_time, no_mining=no_mining, data_dir=data_dir, gas_limit=gas_limit,
                        base_fee=base_fee, hardfork=hardfork, host=host, port=port, predeploy=not bare,
                        client_version=client_version, artifacts_dir=artifacts_dir,
                        code_size_limit=None if disable_code_size_limit else (code_size_limit or 24_576),
                        initial_state=initial_state, slots_in_an_epoch=slots_in_an_epoch, fork_url=fork_url,
                        fork_block_number=fork_block_number, fork_chain_id=fork_chain_id, fork_timeout=fork_timeout,
                        enable_tx_gas_limit=enable_tx_gas_limit, order=order)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if port:  # the port must be free before the data dir is touched
        try:
            socket.create_server((host, port)).close()
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    try:
        node = Node(config)
    except (ChainError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if initial_state is not None and node.resumed:  # a chain kept in --data-dir: the file's accounts go on top
        node.load_state(initial_state)
    # The chain allocates many short-lived objects per block; the default GC
    # thresholds make full collections walk the whole heap every few blocks.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        _run_loop(_serve(node, host, port, quiet, tuple(cors_origins) or ("*",), max_batch, dump_state,
                         state_interval, http_threads))
    finally:
        node.close()


def _save_state(node: Node, path: Path) -> None:
    try:
        with node.lock:
            state = dump_state_of(node)
        write_state_file(path, state)
    except OSError as exc:
        click.echo(f"error: could not write the state to {path}: {exc.strerror}", err=True)


async def _save_every(node: Node, path: Path, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        _save_state(node, path)


def _run_loop(main: Any) -> None:
    """uvloop when installed (about 20% less per-request overhead), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(node: Node, host: str, port: int, quiet: bool, cors_origins: tuple[str, ...],
                 max_batch: int, dump_state: Path | None = None, state_interval: float | None = None,
                 http_threads: bool = True) -> None:
    server = RpcServer(node, cors_origins, max_batch=max_batch, http_threads=http_threads)
    try:
        await server.start(host, port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    url = f"http://{host}:{server.port}"
    click.echo(url if quiet else banner(node, url, cors_origins), nl=True)
    node.output = lambda text: click.echo(text)  # console.log lines, under their transaction or call
    node.start_interval_miner()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    saver = None
    if dump_state is not None and state_interval is not None:
        saver = asyncio.ensure_future(_save_every(node, dump_state, state_interval))
    await stop.wait()
    if saver is not None:
        saver.cancel()
    node.stop_interval_miner()
    if dump_state is not None:
        _save_state(node, dump_state)
        if not quiet:
            click.echo(f"state written to {dump_state}")
    await server.stop()
