// The trading page: market data from the public API and streams, orders and balances through the user's wallet
// (every order, cancel, withdrawal and private read EIP-712 signed exactly as the API requires).
import { initI18n, languagePicker, onLanguageChange, t } from "./common/i18n.js";
import { h } from "./common/dom.js";
import { api } from "./exchange.js";
import { Streams } from "./stream.js";
import { Wallet } from "./wallet.js";
import { walletBox } from "./wallet-box.js";
import { marketList } from "./market-list.js";
import { tickerPanel } from "./ticker.js";
import { bookPanel } from "./book.js";
import { tradesPanel } from "./trades.js";
import { chartPanel } from "./chart.js";
import { orderForm } from "./order-form.js";
import { balancesPanel } from "./balances.js";
import { ordersPanel } from "./orders.js";
import { Account } from "./account.js";

async function main() {
  await initI18n("common/");
  document.getElementById("language").append(languagePicker());
  const [info, config] = await Promise.all([api.get("/api/v3/exchangeInfo"), api.get("/bourse/v1/web")]);
  const explorer = document.getElementById("explorer-link");
  explorer.href = config.explorerUrl;
  const streams = new Streams(location.origin.replace(/^http/, "ws") + "/stream");
  const wallet = new Wallet(config.rpcUrl);
  const account = new Account(wallet, info, streams);
  const ctx = { info, config, streams, wallet, account, market: null, listeners: [] };
  ctx.onMarket = (listener) => ctx.listeners.push(listener);
  ctx.select = (symbol) => {
    const market = info.symbols.find((m) => m.symbol === symbol) || info.symbols[0];
    ctx.market = market;
    select.value = market.symbol;
    if (location.hash.slice(1) !== market.symbol) history.replaceState(null, "", "#" + market.symbol);
    for (const listener of ctx.listeners) listener(market);
  };

  const select = document.getElementById("market-select");
  for (const market of info.symbols) {
    select.append(h("option", { value: market.symbol }, `${market.baseAsset}/${market.quoteAsset}`));
  }
  select.addEventListener("change", () => ctx.select(select.value));
  window.addEventListener("hashchange", () => ctx.select(location.hash.slice(1)));

  document.getElementById("wallet").append(await walletBox(ctx));
  marketList(document.getElementById("market-list"), ctx);
  tickerPanel(document.getElementById("ticker"), ctx);
  chartPanel(document.getElementById("chart"), ctx);
  bookPanel(document.getElementById("book-body"), ctx);
  tradesPanel(document.getElementById("trades-body"), ctx);
  orderForm(document.getElementById("order-form"), ctx);
  balancesPanel(document.getElementById("balances"), ctx);
  ordersPanel(document.getElementById("orders"), ctx);
  ctx.select(location.hash.slice(1));
  onLanguageChange(() => ctx.select(ctx.market.symbol));
  document.getElementById("trade").dataset.ready = "1";
}

main().catch((error) => {
  document.getElementById("trade").replaceChildren(h("p", { class: "error" }, t("common.failed",
    { message: error.message })));
});
