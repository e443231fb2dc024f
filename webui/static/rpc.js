// A JSON-RPC client over HTTP POST and a WebSocket subscription helper: the same public API any wallet uses.

export class RpcError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.code;
    this.data = error.data;
  }
}

let nextId = 1;

export class Rpc {
  constructor(url) {
    this.url = url;
  }

  async call(method, params = []) {
    const response = await fetch(this.url, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
    });
    const reply = await response.json();
    if (reply.error) throw new RpcError(reply.error);
    return reply.result;
  }

  // Call `onEvent(result)` for each notification of eth_subscribe(kind); reconnects after a drop.
  subscribe(kind, onEvent, wsUrl = this.url.replace(/^http/, "ws")) {
    let socket;
    let closed = false;
    const open = () => {
      socket = new WebSocket(wsUrl);
      socket.addEventListener("open", () => {
        socket.send(JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "eth_subscribe", params: [kind] }));
      });
      socket.addEventListener("message", (message) => {
        const data = JSON.parse(message.data);
        if (data.method === "eth_subscription") onEvent(data.params.result);
      });
      socket.addEventListener("close", () => { if (!closed) setTimeout(open, 1000); });
    };
    open();
    return () => { closed = true; socket.close(); };
  }
}
