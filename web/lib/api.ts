// Calls to the gateway with the session's bearer token. A 401 refreshes the session once and retries; errors come
// back as ApiError with the gateway's message and, for a 400, each bad field (google.rpc.BadRequest's violations).

import type { Session } from "./session";

type Violation = { field: string; description: string };
type ErrorBody = { code?: number; message?: string; details?: { fieldViolations?: Violation[] }[] };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Field (as the API names it, e.g. `memory_bytes`) → why it was refused. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }

  static async from(response: Response): Promise<ApiError> {
    const text = await response.text();
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // not JSON: a proxy's page, say
    }
    const fields: Record<string, string> = {};
    for (const detail of body.details ?? [])
      for (const violation of detail.fieldViolations ?? []) fields[violation.field] = violation.description;
    const message = body.message || text.slice(0, 200) || response.statusText || `HTTP ${response.status}`;
    return new ApiError(response.status, message, fields);
  }
}

export class Api {
  constructor(
    readonly gateway: string,
    private readonly session: Session,
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>("POST", path, body, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** The raw response body, for files (a WireGuard config, a CSV export). */
  async text(path: string): Promise<string> {
    return (await this.send("GET", path)).text();
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.send(method, path, body, headers);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const token = await this.session.accessToken();
    if (!token) throw new ApiError(401, "You are signed out.");
    const call = (bearer: string) =>
      this.fetcher(`${this.gateway}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let response = await call(token);
    if (response.status === 401) {
      const renewed = await this.session.refresh(token);
      if (!renewed) throw new ApiError(401, "Your session ended: sign in again.");
      response = await call(renewed.accessToken);
    }
    if (!response.ok) throw await ApiError.from(response);
    return response;
  }
}

/** A new idempotency key for one user action: a retry of the same action reuses it, a new action gets a new one. */
export function newKey(): string {
  return globalThis.crypto.randomUUID();
}
