import { NextResponse } from "next/server";
import { gatewayAddress } from "@/lib/gatewayAddress";

// Security headers for every page, made per request: the browser may load code from this server only and talk to the
// gateway only (its address comes from the environment the AppHost sets at start, not from the build), and no page
// may frame this one (its buttons drain nodes and revoke peers). Next.js inlines its hydration data as scripts, hence
// 'unsafe-inline' for scripts; React renders every API string as text.
export function proxy(): NextResponse {
  const gateway = gatewayAddress();
  const policy = [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${gateway} ${gateway.replace(/^http/, "ws")}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
  const response = NextResponse.next();
  response.headers.set("Content-Security-Policy", policy);
  response.headers.set("X-Frame-Options", "DENY");
  response.headers.set("Referrer-Policy", "no-referrer");
  response.headers.set("X-Content-Type-Options", "nosniff");
  return response;
}

export const config = { matcher: "/:path*" };
