import type { NextConfig } from "next";

// The control panel is a client of the gateway: every page renders on the server with the gateway's address from the
// environment (lib/gatewayAddress.ts), then the browser talks to the gateway alone. The security headers are set per
// request in proxy.ts, because they name the gateway, whose address is known only when the server starts.
const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Lint and type errors fail `next build` (strict TypeScript); no telemetry leaves the machine.
  typescript: { ignoreBuildErrors: false },
};

export default config;
