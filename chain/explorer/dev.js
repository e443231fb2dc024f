// The dev panel: the dev methods used most (mine, increase time, snapshot/revert, set balance, impersonate), each
// behind a confirmation, through the same JSON-RPC methods cast and hardhat call.
import { confirmAction, h, raw } from "./common/dom.js";
import { integer } from "./common/format.js";
import { t } from "./common/i18n.js";

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

// "1.5" ether -> wei as a 0x quantity, exactly (no floats)
function etherToWei(text) {
  const match = /^(\d+)(?:\.(\d{0,18}))?$/.exec(text.trim());
  if (!match) return null;
  const wei = BigInt(match[1]) * 10n ** 18n + BigInt((match[2] || "").padEnd(18, "0") || "0");
  return "0x" + wei.toString(16);
}

export async function devView(view, rpc) {
  const result = h("div", { class: "dev-result", id: "dev-result", role: "status" });
  const snapshots = h("ul", { id: "snapshots" });
  const done = (key, values = {}) => result.replaceChildren(h("p", { class: "ok" }, t(key, values)));
  const failed = (error) => result.replaceChildren(h("p", { class: "error" }, t("common.failed",
    { message: error.message })));
  const action = (id, titleKey, inputs, run) => {
    const form = h("form", { id }, ...inputs, h("button", { type: "submit", class: "primary", i18n: titleKey }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await run(form.elements);
      } catch (error) {
        failed(error);
      }
    });
    return h("section", { class: "panel" }, h("h2", { i18n: titleKey }), form);
  };
  const input = (name, placeholderKey, extra = {}) => h("input", { name, required: true, autocomplete: "off",
    "data-i18n-placeholder": placeholderKey, placeholder: t(placeholderKey), "aria-label": t(placeholderKey), ...extra });

  view.append(h("p", { class: "muted", i18n: "dev.intro" }), h("div", { class: "dev-actions" },
    action("dev-mine", "dev.mine", [], async () => {
      if (!(await confirmAction("dev.confirm.mine"))) return;
      await rpc.call("evm_mine");
      done("dev.mined", { number: integer(BigInt(await rpc.call("eth_blockNumber"))) });
    }),
    action("dev-time", "dev.increaseTime", [input("seconds", "dev.seconds", { inputmode: "numeric",
      pattern: "\\d+" })], async (fields) => {
      const seconds = fields.seconds.value.trim();
      if (!(await confirmAction("dev.confirm.increaseTime", { seconds }))) return;
      await rpc.call("evm_increaseTime", [Number(seconds)]);
      await rpc.call("evm_mine");
      done("dev.timeIncreased", { seconds });
    }),
    action("dev-snapshot", "dev.snapshot", [], async () => {
      if (!(await confirmAction("dev.confirm.snapshot"))) return;
      const id = await rpc.call("evm_snapshot");
      snapshots.append(h("li", {}, raw(id)));
      done("dev.snapshotTaken", { id });
    }),
    action("dev-revert", "dev.revert", [input("id", "dev.snapshotId")], async (fields) => {
      const id = fields.id.value.trim();
      if (!(await confirmAction("dev.confirm.revert", { id }))) return;
      const reverted = await rpc.call("evm_revert", [id]);
      done(reverted ? "dev.reverted" : "dev.notReverted", { id });
    }),
    action("dev-balance", "dev.setBalance", [input("address", "dev.address", { pattern: ADDRESS.source }),
      input("amount", "dev.amount", { inputmode: "decimal" })], async (fields) => {
      const address = fields.address.value.trim();
      const wei = etherToWei(fields.amount.value);
      if (!ADDRESS.test(address) || wei === null) throw new Error(t("dev.badInput"));
      if (!(await confirmAction("dev.confirm.setBalance", { address, amount: fields.amount.value.trim() }))) return;
      await rpc.call("anvil_setBalance", [address, wei]);
      done("dev.balanceSet", { address });
    }),
    action("dev-impersonate", "dev.impersonate", [input("address", "dev.address", { pattern: ADDRESS.source })],
      async (fields) => {
        const address = fields.address.value.trim();
        if (!ADDRESS.test(address)) throw new Error(t("dev.badInput"));
        if (!(await confirmAction("dev.confirm.impersonate", { address }))) return;
        await rpc.call("anvil_impersonateAccount", [address]);
        done("dev.impersonating", { address });
      })),
  h("section", { class: "panel" }, h("h2", { i18n: "dev.snapshots" }), snapshots), result);
  return null;
}
