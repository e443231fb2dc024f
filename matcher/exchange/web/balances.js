// Balances in the vault (free and locked) and the two ways money moves: deposit (a transaction from the wallet:
// approve, then the vault's deposit; the wrapped coin is wrapped from the native coin first when needed) and
// withdraw (an EIP-712 Withdraw the exchange pays out on chain).
import { h, raw } from "./common/dom.js";
import { t } from "./common/i18n.js";
import { api } from "./exchange.js";
import { parseUnits, trim } from "./decimal.js";
import { exchangeTyped, freshNonce } from "./signing.js";
import { assets } from "./assets.js";

// 4-byte selectors of the calls made (tests/matcher/exchange/test_trading_page.py checks each against its signature)
export const SELECTORS = {
  "approve(address,uint256)": "0x095ea7b3",
  "deposit(address,uint256)": "0x47e7ef24",
  "balanceOf(address)": "0x70a08231",
  "deposit()": "0xd0e30db0",
};
const word = (value) => BigInt(value).toString(16).padStart(64, "0");
const addressWord = (address) => address.slice(2).toLowerCase().padStart(64, "0");

export function balancesPanel(root, ctx) {
  const list = [...assets(ctx.info).values()];
  const body = h("tbody", { id: "balance-rows" });
  const message = h("p", { id: "money-result", role: "status" });
  const assetSelect = (name) => h("select", { name, "aria-label": t("trade.asset"), "data-i18n-aria-label": "trade.asset" },
    list.map((a) => h("option", { value: a.symbol }, a.symbol)));
  const amount = (name) => h("input", { name, inputmode: "decimal", autocomplete: "off", required: true,
    placeholder: t("trade.amount"), "data-i18n-placeholder": "trade.amount", "aria-label": t("trade.amount"),
    "data-i18n-aria-label": "trade.amount" });
  const deposit = h("form", { id: "deposit" }, assetSelect("asset"), amount("amount"),
    h("button", { type: "submit", i18n: "trade.deposit" }));
  const withdraw = h("form", { id: "withdraw" }, assetSelect("asset"), amount("amount"),
    h("button", { type: "submit", i18n: "trade.withdraw" }));
  root.append(h("h2", { i18n: "trade.balances" }), h("div", { class: "scroll" }, h("table", {}, h("thead", {},
    h("tr", {}, h("th", { i18n: "trade.asset" }), h("th", { class: "num", i18n: "trade.free" }),
      h("th", { class: "num", i18n: "trade.locked" }))), body)), h("div", { class: "money-forms" }, deposit, withdraw),
  message);

  const say = (cls, key, values) => { message.className = cls; message.textContent = t(key, values); };
  const run = (form, action) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ctx.wallet.account) { say("error", "trade.connectFirst", {}); return; }
    const asset = list.find((a) => a.symbol === form.elements.asset.value);
    const units = parseUnits(form.elements.amount.value, asset.decimals);
    if (units === null || units <= 0n) { say("error", "trade.badAmount", {}); return; }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await action(asset, units, form.elements.amount.value.trim());
      form.elements.amount.value = "";
    } catch (error) {
      say("error", "common.failed", { message: error.message });
    } finally {
      button.disabled = false;
    }
  });

  run(deposit, async (asset, units, text) => {
    const { wallet, config } = ctx;
    const vault = config.settlementVault;
    const info = await wallet.node.call("bourse_explorerInfo").catch(() => ({ platform: [] }));
    const wrapped = info.platform.find((c) => c.name === "WrappedNative");
    if (wrapped && wrapped.address.toLowerCase() === asset.token.toLowerCase()) {
      const held = BigInt(await wallet.node.call("eth_call", [{ to: asset.token,
        data: SELECTORS["balanceOf(address)"] + addressWord(wallet.account) }, "latest"]));
      if (held < units) {
        say("muted", "trade.wrapping", { amount: text });
        await wallet.sendTransaction({ to: asset.token, value: "0x" + (units - held).toString(16),
          data: SELECTORS["deposit()"] });
      }
    }
    say("muted", "trade.approving", { asset: asset.symbol });
    await wallet.sendTransaction({ to: asset.token, data: SELECTORS["approve(address,uint256)"] + addressWord(vault) +
      word(units) });
    say("muted", "trade.depositing", { amount: text, asset: asset.symbol });
    const receipt = await wallet.sendTransaction({ to: vault, data: SELECTORS["deposit(address,uint256)"] +
      addressWord(asset.token) + word(units) });
    say("ok", "trade.deposited", { amount: text, asset: asset.symbol });
    message.append(" ", h("a", { href: `${config.explorerUrl}#/tx/${receipt.transactionHash}`, target: "_blank",
      rel: "noopener", i18n: "trade.viewTx" }));
  });

  run(withdraw, async (asset, units, text) => {
    const nonce = freshNonce();
    const typed = exchangeTyped("Withdraw", { user: ctx.wallet.account, token: asset.token, amount: units, nonce },
      ctx.info.chainId, ctx.info.settlementVault);
    const signature = await ctx.wallet.signTypedData(typed);
    await api.post("/api/v3/withdraw", { address: ctx.wallet.account, asset: asset.symbol, amount: text,
      nonce: nonce.toString(), signature });
    say("ok", "trade.withdrawn", { amount: text, asset: asset.symbol });
    ctx.account.refresh();
  });

  ctx.account.onChange((account) => {
    body.replaceChildren(...account.balances.map((b) => h("tr", { dataset: { asset: b.asset } },
      h("td", {}, raw(b.asset, "span")), h("td", { class: "num" }, trim(b.free)), h("td", { class: "num" },
        trim(b.locked)))));
  });
}
