// The proof-of-reserves page: the published root, and the user's inclusion proof - fetched for the connected
// account (an EIP-712 Read proves who asks) or loaded from a file - verified here in the browser.
import { initI18n, languagePicker, onLanguageChange, t } from "./common/i18n.js";
import { h, raw } from "./common/dom.js";
import { units } from "./common/format.js";
import { api } from "./exchange.js";
import { Wallet } from "./wallet.js";
import { walletBox } from "./wallet-box.js";
import { exchangeTyped } from "./signing.js";
import { assets } from "./assets.js";
import { ProofError, verifyProof } from "./por-verify.js";

async function main() {
  await initI18n("common/");
  document.getElementById("language").append(languagePicker());
  const [info, config] = await Promise.all([api.get("/api/v3/exchangeInfo"), api.get("/bourse/v1/web")]);
  const wallet = new Wallet(config.rpcUrl);
  const known = assets(info);
  const amount = (asset, value) => (known.has(asset)
    ? units(BigInt(value), known.get(asset).decimals, known.get(asset).decimals) : String(value));
  document.getElementById("wallet").append(await walletBox({ wallet }));
  const rootBox = document.getElementById("root-box");
  const result = document.getElementById("result");
  let root = null;
  let shown = null;
  const showRoot = () => {
    if (!root) { rootBox.replaceChildren(h("p", { class: "muted", i18n: "por.noRoot" })); return; }
    rootBox.replaceChildren(h("dl", { class: "fields", id: "root" },
      h("dt", { i18n: "por.rootHash" }), h("dd", {}, raw(root.root)),
      h("dt", { i18n: "por.users" }), h("dd", {}, String(root.users)),
      ...root.assets.flatMap((a) => [h("dt", {}, raw(a, "span")), h("dd", {}, amount(a, root.totals[a]))])));
  };
  const check = async (proof) => {
    if (!root) throw new Error(t("por.noRoot"));
    const balances = await verifyProof(proof, root);
    shown = () => result.replaceChildren(h("p", { class: "ok", id: "verified" }, t("por.verified",
      { account: proof.account })), h("dl", { class: "fields" }, ...Object.entries(balances).flatMap(([asset, value]) =>
      [h("dt", {}, raw(asset, "span")), h("dd", {}, amount(asset, value))])));
    shown();
  };
  const fail = (error) => {
    shown = () => result.replaceChildren(h("p", { class: "fail", id: "not-verified" }, t("por.failed",
      { reason: error.key ? t(error.key) : error.message })));
    shown();
  };
  try {
    root = await api.get("/bourse/v1/por/root");
  } catch (error) {
    root = null;
  }
  showRoot();
  onLanguageChange(() => { showRoot(); if (shown) shown(); });
  document.getElementById("load-mine").addEventListener("click", async () => {
    if (!wallet.account) { fail(new Error(t("trade.connectFirst"))); return; }
    try {
      const timestamp = await api.serverTime();
      const typed = exchangeTyped("Read", { account: wallet.account, method: "GET", path: "/bourse/v1/por/proof",
        timestamp }, info.chainId, info.settlementVault);
      const signature = await wallet.signTypedData(typed);
      await check(await api.get("/bourse/v1/por/proof", { address: wallet.account, timestamp, signature }));
    } catch (error) {
      fail(error);
    }
  });
  document.getElementById("proof-file").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    if (!file) return;
    try {
      let proof;
      try {
        proof = JSON.parse(await file.text());
      } catch (error) {
        throw new ProofError("malformed");
      }
      await check(proof);
    } catch (error) {
      fail(error);
    }
  });
  document.getElementById("por").dataset.ready = "1";
}

main();
