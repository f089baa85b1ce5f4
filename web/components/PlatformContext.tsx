"use client";

// The tab's one session, API client and realtime socket, shared by every page through React context.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Api } from "@/lib/api";
import { RealtimeClient, type SocketLike, socketUrl, type TopicMessage } from "@/lib/realtime";
import { browserSession, type Session, type Tokens } from "@/lib/session";

export type Platform = { gateway: string; session: Session; api: Api; realtime: RealtimeClient };

const PlatformContext = createContext<Platform | null>(null);

export function PlatformProvider({ gateway, children }: { gateway: string; children: React.ReactNode }) {
  const [platform, setPlatform] = useState<Platform | null>(null);
  useEffect(() => {
    const session = browserSession(gateway);
    const realtime = new RealtimeClient(
      async () => {
        const token = await session.accessToken();
        return token ? socketUrl(gateway, "/ws/realtime", token) : null;
      },
      // The browser's WebSocket types its handlers with `this` and full events; the client uses only what SocketLike names.
      (url) => new WebSocket(url) as unknown as SocketLike,
    );
    // The socket speaks for whoever signed in: another user (or none) gets a new one, with nothing of the old stream.
    let user = session.current()?.user.username;
    const stopWatching = session.subscribe(() => {
      const now = session.current()?.user.username;
      if (now === user) return;
      user = now;
      realtime.restart();
    });
    setPlatform({ gateway, session, api: new Api(gateway, session), realtime });
    return () => {
      stopWatching();
      realtime.close();
    };
  }, [gateway]);
  if (!platform) return null;
  return <PlatformContext.Provider value={platform}>{children}</PlatformContext.Provider>;
}

/** The pages' hooks over a given session, API client and realtime client: what the component tests render in. */
export function ProvidePlatform({ platform, children }: { platform: Platform; children: React.ReactNode }) {
  return <PlatformContext.Provider value={platform}>{children}</PlatformContext.Provider>;
}

export function usePlatform(): Platform {
  const platform = useContext(PlatformContext);
  if (!platform) throw new Error("usePlatform outside PlatformProvider");
  return platform;
}

/** The signed-in user's tokens (null when signed out), following changes in this tab and the others. */
export function useTokens(): Tokens | null {
  const { session } = usePlatform();
  const snapshot = useSyncExternalStore(
    (changed) => session.subscribe(changed),
    () => JSON.stringify(session.current()),
    () => "null",
  );
  return useMemo(() => JSON.parse(snapshot) as Tokens | null, [snapshot]);
}

/** Calls `listener` for each event of every topic in `topics`, and with `resync` when the page should reload by REST. */
export function useTopics(topics: string[], listener: (message: TopicMessage) => void): void {
  const { realtime } = usePlatform();
  const latest = useRef(listener);
  latest.current = listener;
  const key = topics.join(",");
  useEffect(() => {
    const stops = (key ? key.split(",") : []).map((topic) => realtime.subscribe(topic, (m) => latest.current(m)));
    return () => stops.forEach((stop) => stop());
  }, [realtime, key]);
}

export type Resource<T> = { data: T | undefined; error: string | undefined; reload: () => void };

/**
 * GET `path` now and again whenever one of `topics` has an event (at most every 300 ms) or asks for a resync: the page
 * stays live without polling. `path` null waits.
 */
export function useResource<T>(path: string | null, topics: string[] = []): Resource<T> {
  const { api } = usePlatform();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, [path]);
  useEffect(() => {
    if (!path) return;
    let current = true;
    api.get<T>(path).then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(undefined);
      },
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [api, path, version]);
  useReloadOn(topics, reload);
  return { data, error, reload };
}

/** Calls `reload` after events of `topics` (and resyncs): at most every 300 ms, however many arrive. */
export function useReloadOn(topics: string[], reload: () => void): void {
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => () => clearTimeout(pending.current ?? undefined), []);
  useTopics(topics, () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      latest.current();
    }, 300);
  });
}
