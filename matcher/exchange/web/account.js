// The connected account: its balances, orders and fills through the private API, each read proven with an EIP-712
// Read signature, and kept current by the user stream (a listenKey). Fills still settling are re-read until they
// are final, and so are withdrawals being paid out (no stream reports either).
import { api } from "./exchange.js";
import { exchangeTyped } from "./signing.js";

const SETTLING = ["PENDING", "SIGNED", "SUBMITTED"];
const SETTLEMENT_POLL_MS = 1500;

export class Account {
  constructor(wallet, info, streams) {
    this.wallet = wallet;
    this.info = info;
    this.streams = streams;
    this.listeners = [];
    this.balances = [];
    this.openOrders = [];
    this.allOrders = [];
    this.trades = [];
    this.withdrawals = [];
    this.symbol = null;
    this.stopStream = null;
    this.settleTimer = null;
    wallet.onChange(() => this.connect());
  }

  get address() {
    return this.wallet.account;
  }

  onChange(listener) {
    this.listeners.push(listener);
  }

  emit() {
    for (const listener of this.listeners) listener(this);
  }

  async signedParams(method, path) {
    const timestamp = await api.serverTime();
    const typed = exchangeTyped("Read", { account: this.address, method, path, timestamp }, this.info.chainId,
      this.info.settlementVault);
    const signature = await this.wallet.signTypedData(typed);
    return { address: this.address, timestamp, signature };
  }

  async read(path, params = {}) {
    return api.get(path, { ...params, ...(await this.signedParams("GET", path)) });
  }

  async connect() {
    if (this.stopStream) this.stopStream();
    if (!this.address) return;
    const key = await api.post("/api/v3/userDataStream", await this.signedParams("POST", "/api/v3/userDataStream"));
    this.stopStream = this.streams.subscribe(key.listenKey, (event) => this.onEvent(event));
    await this.refresh();
  }

  setSymbol(symbol) {
    this.symbol = symbol;
    if (this.address) this.refresh();
  }

  async refresh() {
    if (!this.address) return;
    const symbol = this.symbol;
    const [account, open, all, trades, withdrawals] = await Promise.all([this.read("/api/v3/account"),
      this.read("/api/v3/openOrders", { symbol }), this.read("/api/v3/allOrders", { symbol, limit: 50 }),
      this.read("/api/v3/myTrades", { symbol, limit: 50 }), this.read("/api/v3/withdrawals")]);
    this.withdrawals = withdrawals.slice().reverse();
    this.balances = account.balances;
    this.openOrders = open;
    this.allOrders = all.slice().reverse();
    this.trades = trades.slice().reverse();
    this.emit();
    clearTimeout(this.settleTimer);
    if (this.trades.some((trade) => SETTLING.includes(trade.settlement))
        || this.withdrawals.some((w) => SETTLING.includes(w.state))) {
      this.settleTimer = setTimeout(() => this.refresh(), SETTLEMENT_POLL_MS);
    }
  }

  onEvent(event) {
    if (event.e === "outboundAccountPosition") {
      for (const change of event.B) {
        const balance = this.balances.find((b) => b.asset === change.a);
        if (balance) { balance.free = change.f; balance.locked = change.l; }
      }
      this.emit();
    }
    if (event.e === "executionReport" || event.e === "balanceUpdate") this.refresh();
  }
}
