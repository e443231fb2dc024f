// The wallet: an injected EIP-1193 provider (window.ethereum, as MetaMask injects) when there is one, or one of the
// node's unlocked dev accounts (on a dev chain), signing through the node's eth_signTypedData_v4 and sending
// through eth_sendTransaction. Either way the page only asks for signatures and transactions.
import { Rpc } from "./common/rpc.js";

export class Wallet {
  constructor(rpcUrl) {
    this.node = new Rpc(rpcUrl);
    this.injected = window.ethereum || null;
    this.account = null;
    this.listeners = [];
  }

  async devAccounts() {
    try {
      return await this.node.call("eth_accounts");
    } catch (error) {
      return [];
    }
  }

  async connectInjected() {
    const [account] = await this.injected.request({ method: "eth_requestAccounts" });
    this.use(account, "injected");
  }

  use(account, kind = "dev") {
    this.account = account;
    this.kind = kind;
    for (const listener of this.listeners) listener(account);
  }

  onChange(listener) {
    this.listeners.push(listener);
  }

  async request(method, params) {
    if (this.kind === "injected") return this.injected.request({ method, params });
    return this.node.call(method, params);
  }

  signTypedData(typed) {
    const json = JSON.stringify(typed, (_, value) => (typeof value === "bigint" ? value.toString() : value));
    return this.request("eth_signTypedData_v4", [this.account, json]);
  }

  async sendTransaction(tx) {
    const hash = await this.request("eth_sendTransaction", [{ from: this.account, ...tx }]);
    for (let i = 0; i < 600; i++) {
      const receipt = await this.node.call("eth_getTransactionReceipt", [hash]);
      if (receipt) {
        if (receipt.status !== "0x1") throw new Error(`transaction ${hash} reverted`);
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`transaction ${hash} was not mined`);
  }
}
