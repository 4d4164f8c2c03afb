// The live event stream (GET /api/v1/events, Server-Sent Events) read with fetch rather than EventSource:
// EventSource cannot tell a refused credential (401: show sign-in) from a dropped network, and it only
// dispatches event names registered one by one, while screens subscribe by topic prefix ("alarm.").
// Reconnects send Last-Event-ID so the server replays what was missed; `event: reset` (the gap could not be
// replayed) makes the shell reload the current screen.

const PATH = "api/v1/events";
const MAX_RETRY_MS = 30000;

export class LiveStream {
  /** `onState(state)`: connecting | live | reconnecting | stopped; `onUnauthorized()` on a 401;
   * `onReset()` when the server says the gap cannot be replayed. */
  constructor({ onState = () => {}, onUnauthorized = () => {}, onReset = () => {} } = {}) {
    this.handlers = new Set();
    this.lastEventId = null;
    this.retryMs = 3000;
    this.failures = 0;
    this.callbacks = { onState, onUnauthorized, onReset };
    this.controller = null;
    this.timer = null;
  }

  /** Call `handler(data, topic, id)` for each event whose topic starts with `prefix`; returns unsubscribe. */
  on(prefix, handler) {
    const entry = [prefix, handler];
    this.handlers.add(entry);
    return () => this.handlers.delete(entry);
  }

  start() {
    this.stop();
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
    this.controller = null;
    this.callbacks.onState("stopped");
  }

  async connect() {
    this.callbacks.onState(this.failures ? "reconnecting" : "connecting");
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    try {
      const response = await fetch(PATH, { headers, credentials: "same-origin", signal: controller.signal,
                                           cache: "no-store" });
      if (response.status === 401) {
        this.stop();
        this.callbacks.onUnauthorized();
        return;
      }
      if (response.status === 403) { // this identity has no live stream (a resident): do not retry
        this.stop();
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      await this.read(response.body.getReader());
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    if (!this.stopped && this.controller === controller) this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.failures += 1;
    this.callbacks.onState("reconnecting");
    const delay = Math.min(MAX_RETRY_MS, this.retryMs * 2 ** Math.min(this.failures - 1, 4));
    this.timer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    let event = { type: "", data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          this.dispatch(event);
          event = { type: "", data: [], id: null };
        } else {
          this.field(event, line);
        }
      }
    }
  }

  field(event, line) {
    if (line.startsWith(":")) { // a comment: ": connected" once subscribed, ": ping" to keep it open
      if (line.slice(1).trim() === "connected") this.opened();
      return;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") event.type = value;
    else if (name === "data") event.data.push(value);
    else if (name === "id") event.id = value;
    else if (name === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  opened() {
    this.failures = 0;
    this.callbacks.onState("live");
  }

  dispatch(event) {
    if (event.id !== null) this.lastEventId = event.id;
    if (!event.type && !event.data.length) return;
    this.opened(); // an event is proof enough of a live stream (a server that sends no comment)
    if (event.type === "reset") {
      this.callbacks.onReset();
      return;
    }
    let data = event.data.join("\n");
    try {
      data = JSON.parse(data);
    } catch { /* not JSON: pass the text */ }
    const topic = event.type || "message";
    for (const [prefix, handler] of [...this.handlers]) {
      if (!topic.startsWith(prefix)) continue;
      try {
        handler(data, topic, event.id);
      } catch (error) {
        console.error("live event handler failed", topic, error);
      }
    }
  }
}
