// The signed-in user's tokens, kept in localStorage so every tab shares one session. Access tokens live 15 minutes;
// the refresh token rotates on every use and the gateway revokes the whole family when a rotated one is presented
// again (RFC 9700 §4.14) — so two tabs must never refresh with the same refresh token. A refresh therefore runs
// under a Web Lock held across tabs, and inside it a tab first looks whether another one already rotated the pair.

export type Role = "viewer" | "operator" | "admin";
export type User = { username: string; role: Role };
export type Tokens = { accessToken: string; refreshToken: string; expiresAtMs: number; user: User };

const roleRank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` may do what `needed` may (viewer < operator < admin). */
export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && roleRank[role] >= roleRank[needed];
}

export interface TokenStorage {
  read(): string | null;
  write(value: string | null): void;
}

export interface Locks {
  request<T>(name: string, critical: () => Promise<T>): Promise<T>;
}

export const storageKey = "platform.session";
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
    return this.store((await response.json()) as TokenResponse, undefined);
  }

  async logout(): Promise<void> {
    const tokens = this.current();
    this.save(null);
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
      .request("platform.session.refresh", async () => {
        const stored = this.current();
        if (!stored) return null;
        if (stored.accessToken !== staleAccessToken && stored.expiresAtMs - refreshMarginMs > this.now()) return stored;
        const response = await this.post("/api/auth/refresh", { refreshToken: stored.refreshToken });
        if (!response.ok) {
          // Revoked, expired or reused: the session is over everywhere.
          this.save(null);
          return null;
        }
        return this.store((await response.json()) as TokenResponse, stored.user);
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private store(response: TokenResponse, previousUser: User | undefined): Tokens {
    const user = response.user ?? previousUser;
    if (!user) throw new SessionError("The gateway's answer named no user.");
    const tokens: Tokens = {
      accessToken: response.accessToken,
      refreshToken: response.refreshToken,
      expiresAtMs: this.now() + response.expiresIn * 1000,
      user,
    };
    this.save(tokens);
    return tokens;
  }

  private save(tokens: Tokens | null): void {
    this.storage.write(tokens ? JSON.stringify(tokens) : null);
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
  };
  const locks: Locks =
    typeof navigator !== "undefined" && navigator.locks
      ? { request: <T>(name: string, critical: () => Promise<T>) => navigator.locks.request(name, critical) as Promise<T> }
      : { request: (_name, critical) => critical() };
  const session = new Session(gateway, storage, locks);
  window.addEventListener("storage", (event) => {
    if (event.key === storageKey) session.changed();
  });
  return session;
}
