// One WebSocket to the exchange's combined stream; widgets subscribe by stream name (SUBSCRIBE/UNSUBSCRIBE
// messages, as Binance's clients send them) and get each event's data. Reconnects and resubscribes after a drop.

export class Streams {
  constructor(url) {
    this.url = url;
    this.handlers = new Map();
    this.nextId = 1;
    this.queue = [];
    this.open();
  }

  open() {
    this.socket = new WebSocket(this.url);
    this.socket.addEventListener("open", () => {
      const names = [...this.handlers.keys()];
      if (names.length) this.send("SUBSCRIBE", names);
      for (const message of this.queue.splice(0)) this.socket.send(message);
    });
    this.socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (!message.stream) return;
      const handlers = this.handlers.get(message.stream);
      if (handlers) for (const handler of handlers) handler(message.data);
    });
    this.socket.addEventListener("close", () => setTimeout(() => this.open(), 1000));
  }

  send(method, params) {
    const message = JSON.stringify({ method, params, id: this.nextId++ });
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(message);
    else this.queue.push(message);
  }

  subscribe(name, handler) {
    if (!this.handlers.has(name)) {
      this.handlers.set(name, new Set());
      this.send("SUBSCRIBE", [name]);
    }
    this.handlers.get(name).add(handler);
    return () => {
      const handlers = this.handlers.get(name);
      handlers.delete(handler);
      if (!handlers.size) {
        this.handlers.delete(name);
        this.send("UNSUBSCRIBE", [name]);
      }
    };
  }
}
