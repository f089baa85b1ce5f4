"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { atLeast, type Role } from "@/lib/session";
import type { ConnectionState } from "@/lib/realtime";
import { usePlatform, useResource, useTokens } from "./PlatformContext";

const pages: { href: string; title: string; role: Role }[] = [
  { href: "/", title: "Dashboard", role: "viewer" },
  { href: "/nodes", title: "Nodes", role: "viewer" },
  { href: "/workloads", title: "Workloads", role: "viewer" },
  { href: "/sessions", title: "Sessions", role: "viewer" },
  { href: "/monitoring", title: "Monitoring", role: "viewer" },
  { href: "/scheduler", title: "Scheduler", role: "viewer" },
  { href: "/tokenomics", title: "Tokenomics", role: "viewer" },
  { href: "/privacy", title: "Privacy", role: "viewer" },
  { href: "/admin", title: "Administration", role: "admin" },
];

export function Shell({ children }: { children: React.ReactNode }) {
  const tokens = useTokens();
  const path = usePathname();
  const router = useRouter();
  const { session, realtime } = usePlatform();
  const [live, setLive] = useState<ConnectionState>(realtime.state);
  useEffect(() => realtime.onState(setLive), [realtime]);
  useEffect(() => {
    if (!tokens && path !== "/login") router.replace("/login");
  }, [tokens, path, router]);

  if (path === "/login") return <main>{children}</main>;
  if (!tokens) return null;
  const role = tokens.user.role;
  const active = (href: string) => (href === "/" ? path === "/" : path.startsWith(href));
  return (
    <>
      <header className="top">
        <strong>Fog platform</strong>
        <nav aria-label="Pages">
          {pages
            .filter((p) => atLeast(role, p.role))
            .map((p) => (
              <Link key={p.href} href={p.href} aria-current={active(p.href) ? "page" : undefined}>
                {p.title}
              </Link>
            ))}
        </nav>
        <span className={`live ${live}`} aria-label={`live updates ${live}`}>
          {live === "open" ? "live" : live}
        </span>
        <FiringAlerts />
        <ThemeToggle />
        <span>
          {tokens.user.username} <span className="muted">({role})</span>
        </span>
        <button onClick={() => void session.logout()}>Sign out</button>
      </header>
      <main>{children}</main>
    </>
  );
}

/** Firing alerts on every page, kept live by the alerts topic (which also keeps the realtime socket open). */
function FiringAlerts() {
  const alerts = useResource<{ alerts?: unknown[] }>("/api/monitoring/alerts?state=firing", ["alerts"]);
  const count = alerts.data?.alerts?.length ?? 0;
  return (
    <Link href="/monitoring" className={count ? "error" : "muted"}>
      {count} firing {count === 1 ? "alert" : "alerts"}
    </Link>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState<string>("light");
  useEffect(() => setTheme(document.documentElement.dataset.theme ?? "light"), []);
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button
      aria-label={`Switch to ${next} theme`}
      onClick={() => {
        document.documentElement.dataset.theme = next;
        localStorage.setItem("platform.theme", next);
        setTheme(next);
      }}
    >
      {next === "dark" ? "Dark" : "Light"} theme
    </button>
  );
}
