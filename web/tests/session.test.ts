import { describe, expect, it, vi } from "vitest";
import { Api } from "@/lib/api";
import { type Locks, Session, sharedStoreTimeoutMs, type TokenStorage } from "@/lib/session";

/** localStorage shared by "tabs", and a Web Lock that runs one critical section at a time across them. */
function sharedBrowser() {
  let value: string | null = null;
  const storage: TokenStorage = { read: () => value, write: (v) => void (value = v) };
  let queue = Promise.resolve();
  const locks: Locks = {
    request<T>(_name: string, critical: () => Promise<T>) {
      const run = queue.then(critical);
      queue = run.then(() => undefined, () => undefined);
      return run;
    },
  };
  return { storage, locks };
}

/**
 * Two tabs' localStorage, which reach each other only when the test says so (propagate), over one IndexedDB whose
 * writes can be made to fail.
 */
function twoTabs() {
  let shared: string | undefined;
  const local = { a: null as string | null, b: null as string | null };
  let lastWritten: string | null = null;
  const state = { failWrites: false };
  const tab = (own: "a" | "b"): TokenStorage => ({
    read: () => local[own],
    write: (v) => void (local[own] = lastWritten = v),
    readLatest: async () => shared,
    writeLatest: async (v) => {
      if (state.failWrites) throw new Error("QuotaExceededError");
      shared = v;
    },
  });
  return { state, tabA: tab("a"), tabB: tab("b"), propagate: () => void (local.a = local.b = lastWritten) };
}

/** A gateway that rotates refresh tokens and revokes the family when a rotated one comes back (RFC 9700 §4.14). */
function fakeGateway() {
  let generation = 0;
  let revoked = false;
  const calls: string[] = [];
  const pair = () => ({ accessToken: `access-${generation}`, refreshToken: `refresh-${generation}`, expiresIn: 900, user: { username: "ada", role: "operator" } });
  const fetcher = (async (url: string, init?: RequestInit) => {
    const path = new URL(url).pathname;
    calls.push(path);
    const body = init?.body ? JSON.parse(String(init.body)) : {};
    if (path === "/api/auth/login") return Response.json(pair());
    if (path === "/api/auth/refresh") {
      if (revoked || body.refreshToken !== `refresh-${generation}`) {
        revoked = true;
        return new Response("{}", { status: 401 });
      }
      await new Promise((r) => setTimeout(r, 5));
      generation++;
      return Response.json(pair());
    }
    const bearer = new Headers(init?.headers).get("authorization");
    if (bearer !== `Bearer access-${generation}`) return new Response("{}", { status: 401 });
    return Response.json({ ok: true });
  }) as typeof fetch;
  return { fetcher, calls, rotate: () => void generation++, get revoked() { return revoked; } };
}

describe("Session", () => {
  it("refreshes once for many concurrent callers in one tab", async () => {
    const { storage, locks } = sharedBrowser();
    const gateway = fakeGateway();
    let now = 0;
    const session = new Session("http://gw", storage, locks, gateway.fetcher, () => now);
    await session.login("ada", "pw");
    now = 900_000; // expired
    const tokens = await Promise.all([session.accessToken(), session.accessToken(), session.accessToken()]);
    expect(tokens).toEqual(["access-1", "access-1", "access-1"]);
    expect(gateway.calls.filter((c) => c === "/api/auth/refresh")).toHaveLength(1);
    expect(gateway.revoked).toBe(false);
  });

  it("lets a second tab use the pair the first one rotated instead of reusing the old refresh token", async () => {
    const { storage, locks } = sharedBrowser();
    const gateway = fakeGateway();
    let now = 0;
    const tabA = new Session("http://gw", storage, locks, gateway.fetcher, () => now);
    const tabB = new Session("http://gw", storage, locks, gateway.fetcher, () => now);
    await tabA.login("ada", "pw");
    now = 900_000;
    const [a, b] = await Promise.all([tabA.accessToken(), tabB.accessToken()]);
    expect([a, b]).toEqual(["access-1", "access-1"]);
    expect(gateway.calls.filter((c) => c === "/api/auth/refresh")).toHaveLength(1);
    expect(gateway.revoked).toBe(false);
  });

  it("reads the pair inside the lock from the store every tab agrees on, even while the second tab's localStorage lags", async () => {
    // Chromium hands localStorage writes to other tabs asynchronously; IndexedDB's committed writes are seen at once.
    const { locks } = sharedBrowser();
    const browser = twoTabs();
    const gateway = fakeGateway();
    let now = 0;
    const tabA = new Session("http://gw", browser.tabA, locks, gateway.fetcher, () => now);
    const tabB = new Session("http://gw", browser.tabB, locks, gateway.fetcher, () => now);
    await tabA.login("ada", "pw");
    browser.propagate(); // B saw the sign-in
    now = 900_000;
    expect(await tabA.accessToken()).toBe("access-1");
    expect(tabB.current()?.refreshToken).toBe("refresh-0"); // stale here: the rotation has not reached B's localStorage
    expect(await tabB.accessToken()).toBe("access-1");
    expect(gateway.calls.filter((c) => c === "/api/auth/refresh")).toHaveLength(1);
    expect(gateway.revoked).toBe(false);
    expect(tabB.current()?.refreshToken).toBe("refresh-1"); // copied over
  });

  it("never lets an IndexedDB record left stale by a failed write override a newer localStorage", async () => {
    const { locks } = sharedBrowser();
    const browser = twoTabs();
    const gateway = fakeGateway();
    let now = 0;
    const tabA = new Session("http://gw", browser.tabA, locks, gateway.fetcher, () => now);
    const tabB = new Session("http://gw", browser.tabB, locks, gateway.fetcher, () => now);
    await tabA.login("ada", "pw");
    browser.propagate();
    browser.state.failWrites = true; // the rotation reaches localStorage only
    now = 900_000;
    expect(await tabA.accessToken()).toBe("access-1");
    browser.propagate();
    now = 1_800_000; // B must refresh: IndexedDB's generation-1 record (refresh-0) loses to localStorage's generation 2
    expect(await tabB.accessToken()).toBe("access-2");
    expect(gateway.revoked).toBe(false);

    // Signed out while IndexedDB still fails: the other tab stays signed out, the old pair does not come back.
    await tabA.logout();
    browser.propagate();
    now = 2_700_000;
    expect(await tabB.accessToken()).toBeNull();
    expect(tabB.current()).toBeNull();
  });

  it("goes by localStorage when IndexedDB does not answer, and reads a pair stored before generations existed", async () => {
    vi.useFakeTimers();
    try {
      let stored: string | null = JSON.stringify({ accessToken: "access-0", refreshToken: "refresh-0", expiresAtMs: 0, user: { username: "ada", role: "operator" } });
      const stuck: TokenStorage = {
        read: () => stored,
        write: (v) => void (stored = v),
        readLatest: () => new Promise(() => undefined), // never settles
        writeLatest: () => new Promise(() => undefined),
      };
      const { locks } = sharedBrowser();
      const gateway = fakeGateway();
      const session = new Session("http://gw", stuck, locks, gateway.fetcher, () => 900_000);
      expect(session.current()?.user.username).toBe("ada");
      const token = session.accessToken();
      for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(sharedStoreTimeoutMs);
      expect(await token).toBe("access-1");
      expect(JSON.parse(stored!).generation).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("retries a call refused with 401 once after refreshing, and signs out when the refresh is refused", async () => {
    const { storage, locks } = sharedBrowser();
    const gateway = fakeGateway();
    const session = new Session("http://gw", storage, locks, gateway.fetcher, () => 0);
    const api = new Api("http://gw", session, gateway.fetcher);
    await session.login("ada", "pw");
    gateway.rotate(); // the server moved on (another device refreshed): our access token is refused
    await expect(api.get("/api/x")).rejects.toMatchObject({ status: 401 });
    expect(session.current()).toBeNull();
  });

  it("keeps the user from the login when a refresh answer carries none", async () => {
    const { storage, locks } = sharedBrowser();
    let now = 0;
    const fetcher = (async (url: string) =>
      new URL(url).pathname === "/api/auth/login"
        ? Response.json({ accessToken: "a0", refreshToken: "r0", expiresIn: 900, user: { username: "bo", role: "viewer" } })
        : Response.json({ accessToken: "a1", refreshToken: "r1", expiresIn: 900 })) as typeof fetch;
    const session = new Session("http://gw", storage, locks, fetcher, () => now);
    await session.login("bo", "pw");
    now = 900_000;
    expect(await session.accessToken()).toBe("a1");
    expect(session.current()?.user).toEqual({ username: "bo", role: "viewer" });
  });

  it("keeps the session when the gateway cannot renew it for now (503), and a sign-out during a refresh stays signed out", async () => {
    const { storage, locks } = sharedBrowser();
    let now = 0;
    let refreshStatus = 503;
    let release: () => void = () => undefined;
    const fetcher = (async (url: string) => {
      const path = new URL(url).pathname;
      if (path === "/api/auth/login") return Response.json({ accessToken: "a0", refreshToken: "r0", expiresIn: 900, user: { username: "cy", role: "viewer" } });
      if (path === "/api/auth/logout") return new Response(null, { status: 204 });
      if (refreshStatus !== 200) return new Response("{}", { status: refreshStatus });
      await new Promise<void>((resolve) => (release = resolve));
      return Response.json({ accessToken: "a1", refreshToken: "r1", expiresIn: 900 });
    }) as typeof fetch;
    const session = new Session("http://gw", storage, locks, fetcher, () => now);
    await session.login("cy", "pw");
    now = 900_000;
    await expect(session.accessToken()).rejects.toThrow(/did not renew/);
    expect(session.current()?.refreshToken).toBe("r0");

    refreshStatus = 200;
    const refreshing = session.accessToken();
    const signingOut = session.logout();   // waits for the lock the refresh holds
    await new Promise((r) => setTimeout(r, 10));
    release();
    await refreshing;
    await signingOut;
    expect(session.current()).toBeNull();
  });
});
