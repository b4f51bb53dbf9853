import { defineConfig } from "vite";

// Built with esbuild's JSX (no babel): Preact's automatic runtime.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Every browser we support has <link rel=modulepreload>; the polyfill
    // would only add bytes.
    modulePreload: { polyfill: false },
    sourcemap: false,
    // Keep every asset a file: the CSP has no data: for scripts or styles.
    assetsInlineLimit: 0,
  },
});
