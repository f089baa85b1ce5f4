// One WebSocket to the gateway's /ws/realtime for the whole tab. Pages subscribe to topics; the client remembers the
// last event id of each topic, and after a dropped connection it reconnects (backing off) and subscribes again with
// `after`, so the hub sends exactly what was missed, in order. When the hub says `resync` (the gap is older than it
// keeps) or `dropped` (this tab read too slowly), the page is told to reload what it shows by REST.

export type RealtimeEvent = { id: string; type: string; source: string; time: string; data: unknown };
export type TopicMessage = { kind: "event"; id: string; event: RealtimeEvent } | { kind: "resync" };
export type TopicListener = (message: TopicMessage) => void;
export type ConnectionState = "connecting" | "open" | "closed";

/** What the client needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: (() => void) | null;
  onmessage: ((message: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
}

type HubMessage =
  | { type: "event"; topic: string; id: string; event: RealtimeEvent }
  | { type: "resync"; topic: string }
  | { type: "dropped"; count: number }
  | { type: "subscribed"; topics: string[] }
  | { type: "ping" }
  | { type: "error"; code: string; topic?: string; message: string };

const open = 1;
const backoffMs = [500, 1000, 2000, 5000, 10000];
/** How long a connection must have lasted for its drop to start the back-off again from the shortest wait. */
const stableMs = 10_000;

export class RealtimeClient {
  private socket: SocketLike | null = null;
  private readonly listeners = new Map<string, Set<TopicListener>>();
  private readonly lastIds = new Map<string, string>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private attempts = 0;
  private reconnect: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Between deciding to connect and having a socket (the URL waits for a token): a second connect would open a twin. */
  private connecting = false;
  private everConnected = false;
  state: ConnectionState = "closed";

  constructor(
    /** The socket's URL with a fresh token (`?access_token=`), or null when signed out. */
    private readonly url: () => Promise<string | null>,
    private readonly createSocket: (url: string) => SocketLike,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  subscribe(topic: string, listener: TopicListener): () => void {
    let set = this.listeners.get(topic);
    const fresh = !set;
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    if (fresh && this.socket?.readyState === open) this.sendSubscribe([topic]);
    if (!this.socket && !this.reconnect && !this.connecting) void this.connect();
    return () => {
      set.delete(listener);
      if (set.size > 0) return;
      this.listeners.delete(topic);
      // Coming back to the topic later starts from then, after a REST load: nothing old is replayed.
      this.lastIds.delete(topic);
      if (this.socket?.readyState === open) this.socket.send(JSON.stringify({ type: "unsubscribe", topics: [topic] }));
    };
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** The last event id seen per topic: what a reconnect resumes after. */
  resumePoint(): Record<string, string> {
    return Object.fromEntries(this.lastIds);
  }

  close(): void {
    this.stopped = true;
    this.dropSocket();
  }

  /**
   * Another user signed in, or nobody is: the socket (opened with the previous user's token) closes and the resume
   * points are forgotten; the pages still subscribed connect again as the new user and reload what they show.
   */
  restart(): void {
    this.dropSocket();
    this.lastIds.clear();
    this.attempts = 0;
    // The pages are told here; the new socket's first subscribe is not a reconnect that would tell them again.
    this.everConnected = false;
    if (this.listeners.size > 0) {
      for (const topic of this.listeners.keys()) this.emit(topic, { kind: "resync" });
      void this.connect();
    }
  }

  private dropSocket(): void {
    if (this.reconnect) clearTimeout(this.reconnect);
    this.reconnect = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.setState("closed");
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.connecting = true;
    this.setState("connecting");
    let url: string | null;
    try {
      url = await this.url();
    } catch {
      // No token now (the gateway did not answer a refresh, say): try again later, as after a dropped socket.
      url = null;
      this.connecting = false;
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (!url || this.stopped) {
      this.setState("closed");
      return;
    }
    const socket = this.createSocket(url);
    this.socket = socket;
    let opened = 0;
    socket.onopen = () => {
      opened = Date.now();
      this.setState("open");
      if (this.listeners.size > 0) this.sendSubscribe([...this.listeners.keys()], this.everConnected);
      this.everConnected = true;
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("closed");
      // Only a connection that stayed up a while counts as recovered: a hub that accepts and closes at once (an
      // expired token, a limit) keeps backing off.
      if (opened && Date.now() - opened > stableMs) this.attempts = 0;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.listeners.size === 0 || this.reconnect) return;
    const delay = backoffMs[Math.min(this.attempts++, backoffMs.length - 1)]!;
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      void this.connect();
    }, delay);
  }

  /**
   * Subscribes with `after` where an id is known. After a reconnect, a topic without one (nothing arrived before the
   * drop) may have missed events that cannot be asked for: its page reloads by REST.
   */
  private sendSubscribe(topics: string[], reconnected = false): void {
    if (reconnected) for (const topic of topics.filter((t) => !this.lastIds.has(t))) this.emit(topic, { kind: "resync" });
    const after = Object.fromEntries(topics.filter((t) => this.lastIds.has(t)).map((t) => [t, this.lastIds.get(t)!]));
    this.socket!.send(JSON.stringify({ type: "subscribe", topics, ...(Object.keys(after).length ? { after } : {}) }));
  }

  private receive(text: string): void {
    let message: HubMessage;
    try {
      message = JSON.parse(text) as HubMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case "event":
        this.lastIds.set(message.topic, message.id);
        this.emit(message.topic, { kind: "event", id: message.id, event: message.event });
        break;
      case "resync":
        // What was missed is gone: start again from now, after the page reloads by REST.
        this.lastIds.delete(message.topic);
        this.emit(message.topic, { kind: "resync" });
        break;
      case "dropped":
        for (const topic of this.listeners.keys()) this.emit(topic, { kind: "resync" });
        break;
      case "error":
        this.onError(message.message);
        break;
    }
  }

  private emit(topic: string, message: TopicMessage): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(message);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}

/** The WebSocket URL of a gateway path: ws(s) on the gateway's origin, the token as `access_token`. */
export function socketUrl(gateway: string, path: string, token: string): string {
  const url = new URL(path, gateway);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("access_token", token);
  return url.toString();
}
