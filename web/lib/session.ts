// The signed-in user's tokens, kept in localStorage so every tab shares one session. Access tokens live 15 minutes;
// the refresh token rotates on every use and the gateway revokes the whole family when a rotated one is presented
// again (RFC 9700 §4.14) — so two tabs must never refresh with the same refresh token. A refresh therefore runs
// under a Web Lock held across tabs, and inside it a tab first looks whether another one already rotated the pair —
// in IndexedDB, whose committed writes every tab reads at once, because Chromium hands localStorage writes to other
// tabs' renderers asynchronously: a tab taking the lock just after another released it could still read the old pair.

export type Role = "viewer" | "operator" | "admin";
export type User = { username: string; role: Role };
export type Tokens = { accessToken: string; refreshToken: string; expiresAtMs: number; user: User };

const roleRank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` may do what `needed` may (viewer < operator < admin). */
export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && roleRank[role] >= roleRank[needed];
}

export interface TokenStorage {
  /** Fast and synchronous (localStorage), but another tab's write may reach it a moment late. */
  read(): string | null;
  write(value: string | null): void;
  /**
   * The pair as last written by any tab, read inside the refresh lock (IndexedDB); undefined when nothing was ever
   * written there, so `read` decides.
   */
  readLatest?(): Promise<string | null | undefined>;
  writeLatest?(value: string | null): Promise<void>;
}

export interface Locks {
  request<T>(name: string, critical: () => Promise<T>): Promise<T>;
}

export const storageKey = "platform.session";
const refreshLock = "platform.session.refresh";
/** Refresh this long before the access token expires, so a request never leaves with one about to lapse. */
const refreshMarginMs = 30_000;

type TokenResponse = { accessToken: string; refreshToken: string; expiresIn: number; user?: User };

export class SessionError extends Error {}

export class Session {
  private inFlight: Promise<Tokens | null> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly gateway: string,
    private readonly storage: TokenStorage,
    private readonly locks: Locks,
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = () => Date.now(),
  ) {}

  current(): Tokens | null {
    const stored = this.storage.read();
    if (!stored) return null;
    try {
      return JSON.parse(stored) as Tokens;
    } catch {
      return null;
    }
  }

  /** Called when the session changes here or in another tab (the caller wires the `storage` event to `changed`). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  async login(username: string, password: string): Promise<Tokens> {
    const response = await this.post("/api/auth/login", { username, password });
    if (response.status === 401) throw new SessionError("Wrong username or password.");
    if (response.status === 429) throw new SessionError("Too many attempts: wait a minute and try again.");
    if (!response.ok) throw new SessionError(`Sign-in failed (${response.status}).`);
    return await this.store((await response.json()) as TokenResponse, undefined);
  }

  /** Signs out here and in every tab; under the refresh lock, so a refresh in flight cannot bring the session back. */
  async logout(): Promise<void> {
    const tokens = await this.locks.request(refreshLock, async () => {
      const current = await this.latest();
      await this.save(null);
      return current;
    });
    if (tokens) await this.post("/api/auth/logout", { refreshToken: tokens.refreshToken }).catch(() => undefined);
  }

  /** A valid access token, refreshed first when it is about to expire; null when there is no session any more. */
  async accessToken(): Promise<string | null> {
    const tokens = this.current();
    if (!tokens) return null;
    if (tokens.expiresAtMs - refreshMarginMs > this.now()) return tokens.accessToken;
    return (await this.refresh(tokens.accessToken))?.accessToken ?? null;
  }

  /**
   * Replaces `staleAccessToken` with a new pair: one refresh at a time in this tab (callers share it) and across
   * tabs (a Web Lock); a tab that finds the stored pair already rotated uses it without calling the gateway.
   */
  refresh(staleAccessToken: string): Promise<Tokens | null> {
    this.inFlight ??= this.locks
      .request(refreshLock, async () => {
        const stored = await this.latest();
        if (!stored) return null;
        if (stored.accessToken !== staleAccessToken && stored.expiresAtMs - refreshMarginMs > this.now()) return stored;
        const response = await this.post("/api/auth/refresh", { refreshToken: stored.refreshToken });
        if (response.status === 400 || response.status === 401) {
          // Revoked, expired or reused: the session is over everywhere.
          await this.save(null);
          return null;
        }
        // The gateway is restarting or busy (5xx, 429): the session stays; this call fails and a later one retries.
        if (!response.ok) throw new SessionError(`The gateway did not renew the session (${response.status}); try again.`);
        const renewed = (await response.json()) as TokenResponse;
        // Signed out (or in as someone else) while the refresh was under way: this pair belongs to nobody now.
        const now = await this.latest();
        if (now?.refreshToken !== stored.refreshToken) return now;
        return await this.store(renewed, stored.user);
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /** The pair every tab agrees on (IndexedDB where there is one), copied to the fast store when that lags. */
  private async latest(): Promise<Tokens | null> {
    const latest = await this.storage.readLatest?.().catch(() => undefined);
    if (latest !== undefined && latest !== this.storage.read()) {
      this.storage.write(latest);
      this.changed();
    }
    return this.current();
  }

  private async store(response: TokenResponse, previousUser: User | undefined): Promise<Tokens> {
    const user = response.user ?? previousUser;
    if (!user) throw new SessionError("The gateway's answer named no user.");
    const tokens: Tokens = {
      accessToken: response.accessToken,
      refreshToken: response.refreshToken,
      expiresAtMs: this.now() + response.expiresIn * 1000,
      user,
    };
    await this.save(tokens);
    return tokens;
  }

  /** IndexedDB first (committed before the lock is let go), then localStorage, whose `storage` event tells other tabs. */
  private async save(tokens: Tokens | null): Promise<void> {
    const value = tokens ? JSON.stringify(tokens) : null;
    // Should IndexedDB fail here, reads of it fail too (they fall back to localStorage); sign-in must not.
    await this.storage.writeLatest?.(value).catch(() => undefined);
    this.storage.write(value);
    this.changed();
  }

  private post(path: string, body: unknown): Promise<Response> {
    return this.fetcher(`${this.gateway}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }
}

/** The browser's pieces: localStorage and the Web Locks API (a lock local to the tab where it is missing). */
export function browserSession(gateway: string): Session {
  const storage: TokenStorage = {
    read: () => window.localStorage.getItem(storageKey),
    write: (value) =>
      value === null ? window.localStorage.removeItem(storageKey) : window.localStorage.setItem(storageKey, value),
    ...indexedDbTokens(),
  };
  // Web Locks exist only in secure contexts (https, or loopback as here); without them two tabs could reuse one
  // refresh token and the gateway would end the session — so refuse to run rather than risk it quietly.
  if (!navigator.locks) throw new Error("This browser offers no Web Locks here: open the control panel over https or on localhost.");
  const locks: Locks = { request: <T>(name: string, critical: () => Promise<T>) => navigator.locks.request(name, critical) as Promise<T> };
  const session = new Session(gateway, storage, locks);
  window.addEventListener("storage", (event) => {
    if (event.key === storageKey) session.changed();
  });
  return session;
}

/** One IndexedDB record holding the pair; each call is a transaction that has committed when its promise resolves. */
function indexedDbTokens(): Pick<TokenStorage, "readLatest" | "writeLatest"> {
  if (typeof indexedDB === "undefined") return {};
  let database: Promise<IDBDatabase> | undefined;
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open("platform.session", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("tokens");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  const transact = <T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>) =>
    (database ??= open()).then(
      (db) =>
        new Promise<T>((resolve, reject) => {
          const transaction = db.transaction("tokens", mode);
          const request = act(transaction.objectStore("tokens"));
          transaction.oncomplete = () => resolve(request.result);
          transaction.onerror = transaction.onabort = () => reject(transaction.error);
        }),
    );
  return {
    readLatest: () => transact<string | null | undefined>("readonly", (store) => store.get(storageKey)),
    writeLatest: (value) => transact("readwrite", (store) => store.put(value, storageKey)).then(() => undefined),
  };
}
