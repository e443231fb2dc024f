// The header's wallet: an injected provider when the browser has one, else a picker of the node's dev accounts.
import { h } from "./common/dom.js";
import { short } from "./common/format.js";
import { onLanguageChange, t } from "./common/i18n.js";

export async function walletBox(ctx) {
  const { wallet } = ctx;
  const box = h("span", { class: "wallet-box" });
  const accounts = await wallet.devAccounts();
  const picker = h("select", { id: "account-select", "aria-label": t("trade.wallet.pick"),
    "data-i18n-aria-label": "trade.wallet.pick" },
    h("option", { value: "", i18n: "trade.wallet.none" }),
    wallet.injected ? h("option", { value: "injected", i18n: "trade.wallet.injected" }) : null,
    accounts.map((account, i) => h("option", { value: account, dataset: { n: i } })));
  const name = () => {
    for (const option of picker.querySelectorAll("option[data-n]")) {
      option.textContent = t("trade.wallet.dev", { n: option.dataset.n, address: short(option.value, 4) });
    }
  };
  name();
  onLanguageChange(name);
  picker.addEventListener("change", async () => {
    if (picker.value === "injected") await wallet.connectInjected();
    else if (picker.value) wallet.use(picker.value, "dev");
  });
  box.append(picker);
  return box;
}
