"use client";

import { useEffect, useRef } from "react";
import { socketUrl } from "@/lib/realtime";
import { usePlatform } from "./PlatformContext";

/**
 * One of the gateway's push views (`/ws/metrics`, …): every message parsed and handed to `onMessage`; reconnected a
 * second after it closes (a token that expired closes it with 1008: the next connect carries a fresh one).
 */
export function useLiveSocket<T>(path: string, onMessage: (message: T) => void): void {
  const { session, gateway } = usePlatform();
  const latest = useRef(onMessage);
  latest.current = onMessage;
  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const connect = async () => {
      const token = await session.accessToken().catch(() => null);
      if (stopped) return;
      if (!token) {
        retry = setTimeout(() => void connect(), 5000);
        return;
      }
      socket = new WebSocket(socketUrl(gateway, path, token));
      socket.onmessage = (m) => {
        try {
          latest.current(JSON.parse(String(m.data)) as T);
        } catch {
          // not JSON: ignored
        }
      };
      socket.onclose = () => {
        if (!stopped) retry = setTimeout(() => void connect(), 1000);
      };
    };
    void connect();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      socket?.close(1000);
    };
  }, [session, gateway, path]);
}
