// The signed-in user's tokens, kept in localStorage so every tab shares one session. Access tokens live 15 minutes;
// the refresh token rotates on every use and the gateway revokes the whole family when a rotated one is presented
// again (RFC 9700 §4.14) — so two tabs must never refresh with the same refresh token. A refresh therefore runs
// under a Web Lock held across tabs, and inside it a tab first looks whether another one already rotated the pair.
// Chromium hands localStorage writes to other tabs' renderers asynchronously, so a tab taking the lock just after
// another released it could still read the old pair there: every write under the lock therefore also goes to
// IndexedDB (whose committed writes every tab sees at once) and carries a generation, one higher each time, so a tab
// takes whichever store holds the newer record — a lagging localStorage, or an IndexedDB whose write failed, loses.

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
  /** The record as last written by any tab (IndexedDB), read under the refresh lock; undefined when there is none. */
  readLatest?(): Promise<string | undefined>;
  writeLatest?(value: string): Promise<void>;
}

export interface Locks {
  request<T>(name: string, critical: () => Promise<T>): Promise<T>;
}

export const storageKey = "platform.session";
const refreshLock = "platform.session.refresh";
/** An IndexedDB call that has not settled by then is given up (the browser's store is stuck): localStorage decides. */
export const sharedStoreTimeoutMs = 2_000;

/** What both stores hold: the pair (null once signed out) and the generation of the write that left it. */
type StoredSession = { generation?: number; tokens: Tokens | null };

function parseStored(value: string | null): StoredSession {
  if (!value) return { tokens: null };
  try {
    const parsed = JSON.parse(value) as { generation?: number; tokens?: Tokens | null } & Partial<Tokens>;
    if (typeof parsed.generation === "number") return { generation: parsed.generation, tokens: parsed.tokens ?? null };
    return { tokens: parsed.accessToken ? (parsed as Tokens) : null }; // written before generations existed
  } catch {
    return { tokens: null };
  }
}

/**
 * The newer of the two records. A localStorage record without a generation was written by a tab still running the
 * code from before them, which never writes IndexedDB: a pair there is newer than anything IndexedDB holds.
 */
function newer(local: StoredSession, shared: StoredSession | undefined): StoredSession {
  if (!shared) return local;
  if (local.generation === undefined) return local.tokens ? local : shared;
  return (shared.generation ?? 0) > local.generation ? shared : local;
}

function settleWithin<T>(promise: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!promise) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      () => (clearTimeout(timer), resolve(undefined)),
    );
  });
}
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
    return parseStored(this.storage.read()).tokens;
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
    const signedIn = (await response.json()) as TokenResponse;
    // Under the lock like every write, so a refresh in another tab cannot store the previous user's pair over it.
    return await this.locks.request(refreshLock, () => this.store(signedIn, undefined));
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

  /** Under the lock: the newest record of the two stores, copied to localStorage when that lags. */
  private async latestRecord(): Promise<StoredSession> {
    const local = parseStored(this.storage.read());
    const sharedValue = await settleWithin(this.storage.readLatest?.(), sharedStoreTimeoutMs);
    const newest = newer(local, sharedValue === undefined ? undefined : parseStored(sharedValue));
    if (newest !== local) {
      this.storage.write(JSON.stringify(newest));
      this.changed();
    }
    return newest;
  }

  private async latest(): Promise<Tokens | null> {
    return (await this.latestRecord()).tokens;
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

  /**
   * Under the lock: the next generation to IndexedDB first (committed before the lock is let go), then to
   * localStorage, whose `storage` event tells the other tabs. A failed or stuck IndexedDB write leaves an older
   * generation there, which loses to localStorage's; signed out is a record too, so nothing brings the pair back.
   */
  private async save(tokens: Tokens | null): Promise<void> {
    const previous = await this.latestRecord();
    const value = JSON.stringify({ generation: (previous.generation ?? 0) + 1, tokens } satisfies StoredSession);
    await settleWithin(this.storage.writeLatest?.(value), sharedStoreTimeoutMs);
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

/**
 * One IndexedDB record holding the session; each call is a transaction that has committed when its promise
 * resolves. A connection the browser closes, or asks to give up for a newer version, is dropped and opened again on
 * the next call; an open that is blocked fails (the caller then goes by localStorage).
 */
function indexedDbTokens(): Pick<TokenStorage, "readLatest" | "writeLatest"> {
  if (typeof indexedDB === "undefined") return {};
  let database: Promise<IDBDatabase> | undefined;
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open("platform.session", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("tokens");
      request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => {
          db.close();
          database = undefined;
        };
        db.onclose = () => (database = undefined);
        resolve(db);
      };
    });
  const transact = <T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>) => {
    const opened = (database ??= open());
    return opened
      .then(
        (db) =>
          new Promise<T>((resolve, reject) => {
            const transaction = db.transaction("tokens", mode);
            const request = act(transaction.objectStore("tokens"));
            transaction.oncomplete = () => resolve(request.result);
            transaction.onerror = transaction.onabort = () => reject(transaction.error);
          }),
      )
      .catch((error: unknown) => {
        if (database === opened) database = undefined; // open afresh next time
        throw error;
      });
  };
  return {
    readLatest: () => transact<string | undefined>("readonly", (store) => store.get(storageKey)),
    writeLatest: (value) => transact("readwrite", (store) => store.put(value, storageKey)).then(() => undefined),
  };
}
