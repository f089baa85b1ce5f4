import { defineConfig } from "vitest/config";

export default defineConfig({
  // Plain modules run in Node; component tests (.tsx) in happy-dom.
  test: { include: ["tests/**/*.test.{ts,tsx}"], environment: "node", testTimeout: 30_000 },
  resolve: { alias: { "@": new URL(".", import.meta.url).pathname } },
});
