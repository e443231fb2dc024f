"""The exchange service: signed orders in, a Binance-style API out, fills settled on chain in batches.

It joins the matching engine (`matcher.engine`, journaled), the settlement vault (JSON-RPC only) and the policy
signer (`wallet.signer_client`). Modules: `units` and `markets` (exact conversions, market config), `signed`
(EIP-712 orders, cancels, withdrawals), `store` (SQLite beside the journal), `core` (the single writer),
`vault` (the contract over JSON-RPC), `follower` (chain events in), `settler` (batches and withdrawals out),
`api` (REST and WebSocket), `service` (wiring), `client` (a Python client), `reconcile`.
"""
