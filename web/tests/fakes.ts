// Stand-ins for the browser's and the gateway's side, shared by the tests.

import { Api } from "@/lib/api";
import { RealtimeClient, type SocketLike } from "@/lib/realtime";
import { type Locks, Session, type TokenStorage } from "@/lib/session";
import type { Platform } from "@/components/PlatformContext";

/** A WebSocket the test drives: open it, send the hub's messages, drop it. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; this.onclose?.(); }
  open() { this.readyState = 1; this.onopen?.(); }
  hub(message: unknown) { this.onmessage?.({ data: JSON.stringify(message) }); }
  drop() { this.readyState = 3; this.onclose?.(); }
}

export type Call = { method: string; path: string; body: unknown };

/**
 * A platform for rendering pages' components: a signed-in session, an API whose answers `answer` gives (JSON, or a
 * Response for errors), every call kept in `calls`, and a realtime client over FakeSockets kept in `sockets`.
 */
export function fakePlatform(answer: (call: Call) => unknown) {
  const calls: Call[] = [];
  const sockets: FakeSocket[] = [];
  let stored: string | null = JSON.stringify({ accessToken: "t", refreshToken: "r", expiresAtMs: Date.now() + 900_000, user: { username: "ada", role: "admin" } });
  const storage: TokenStorage = { read: () => stored, write: (v) => void (stored = v) };
  const locks: Locks = { request: (_name, critical) => critical() };
  const fetcher = (async (url: string, init?: RequestInit) => {
    const call = { method: init?.method ?? "GET", path: new URL(url).pathname + new URL(url).search, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const answered = answer(call);
    return answered instanceof Response ? answered : Response.json(answered ?? {});
  }) as typeof fetch;
  const session = new Session("http://gw", storage, locks, fetcher);
  const realtime = new RealtimeClient(async () => "ws://gw/ws/realtime?access_token=t", (url) => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    return socket;
  });
  const platform: Platform = { gateway: "http://gw", session, api: new Api("http://gw", session, fetcher), realtime };
  return { platform, calls, sockets };
}

/** The gateway's 400 with google.rpc.BadRequest's field violations. */
export function badRequest(field: string, description: string): Response {
  return Response.json({ code: 3, message: `${field}: ${description}`, details: [{ fieldViolations: [{ field, description }] }] }, { status: 400 });
}
