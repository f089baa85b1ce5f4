import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RealtimeClient, type TopicMessage } from "@/lib/realtime";
import { FakeSocket } from "./fakes";

const event = (topic: string, id: string) => ({ type: "event", topic, id, event: { id: `e${id}`, type: "node.ready", source: "compute", time: "", data: {} } });

describe("RealtimeClient", () => {
  let sockets: FakeSocket[];
  let client: RealtimeClient;
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    client = new RealtimeClient(async () => "ws://gw/ws/realtime?access_token=t", (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    });
  });
  afterEach(() => vi.useRealTimers());

  it("resumes after a dropped connection from the last id it saw, per topic", async () => {
    const nodes: TopicMessage[] = [];
    client.subscribe("nodes", (m) => nodes.push(m));
    client.subscribe("workloads", () => undefined);
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([{ type: "subscribe", topics: ["nodes", "workloads"] }]);
    sockets[0]!.hub(event("nodes", "41"));
    sockets[0]!.hub(event("nodes", "42"));
    sockets[0]!.drop();

    await vi.advanceTimersByTimeAsync(600);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(sockets[1]!.sent).toEqual([{ type: "subscribe", topics: ["nodes", "workloads"], after: { nodes: "42" } }]);
    sockets[1]!.hub(event("nodes", "43"));
    expect(nodes.map((m) => (m.kind === "event" ? m.id : m.kind))).toEqual(["41", "42", "43"]);
  });

  it("tells the page to reload on resync and forgets the topic's position, and on dropped tells every topic", async () => {
    const nodes: TopicMessage[] = [];
    const alerts: TopicMessage[] = [];
    client.subscribe("nodes", (m) => nodes.push(m));
    client.subscribe("alerts", (m) => alerts.push(m));
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.open();
    sockets[0]!.hub(event("nodes", "7"));
    sockets[0]!.hub({ type: "resync", topic: "nodes" });
    expect(nodes.at(-1)).toEqual({ kind: "resync" });
    expect(client.resumePoint()).toEqual({});
    sockets[0]!.hub({ type: "dropped", count: 40 });
    expect(nodes.at(-1)).toEqual({ kind: "resync" });
    expect(alerts).toEqual([{ kind: "resync" }]);
  });

  it("subscribes a topic added while open, unsubscribes the last listener's, and backs off while the gateway is down", async () => {
    client.subscribe("nodes", () => undefined);
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.open();
    const stop = client.subscribe("jobs", () => undefined);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: "subscribe", topics: ["jobs"] });
    stop();
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: "unsubscribe", topics: ["jobs"] });

    sockets[0]!.drop();
    await vi.advanceTimersByTimeAsync(600);
    sockets[1]!.drop(); // never opened: the gateway is down
    await vi.advanceTimersByTimeAsync(600);
    expect(sockets).toHaveLength(2); // the second wait is longer
    await vi.advanceTimersByTimeAsync(600);
    expect(sockets).toHaveLength(3);
  });

  it("starts over for a new user: the old socket closes, nothing is resumed and every page reloads", async () => {
    const nodes: TopicMessage[] = [];
    client.subscribe("nodes", (m) => nodes.push(m));
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.open();
    sockets[0]!.hub(event("nodes", "9"));
    client.restart();
    expect(sockets[0]!.readyState).toBe(3);
    expect(nodes.at(-1)).toEqual({ kind: "resync" });
    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    sockets[1]!.open();
    expect(sockets[1]!.sent).toEqual([{ type: "subscribe", topics: ["nodes"] }]);
  });
});
