// Builds the dashboard into dist/, which the Worker serves as static assets (wrangler.toml `[assets]`).
// `npm run dev` serves it with hot reload and forwards /api and /ws to a hub on 127.0.0.1:8787 (scripts/dev).

import { defineConfig } from "vitest/config";

const hub = process.env.HUB_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      "/api": { target: hub, changeOrigin: true },
      "/ws": { target: hub.replace(/^http/, "ws"), ws: true, changeOrigin: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
