import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The production build's Content-Security-Policy: scripts only from the app's own origin (no
 * inline script), WebAssembly compilation allowed for tfjs's wasm backend, workers from the
 * origin, and no connections anywhere else (models and data stay on the user's machine). The
 * dev server gets none: Vite injects inline scripts for hot reload.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/**
 * Cross-origin isolation (COOP/COEP): without it a browser offers no SharedArrayBuffer, and our
 * kernel threads (src/core/wasm/threads.ts: the Lanczos sweeps, large products) stay on one
 * thread. A static host serving dist/ should send the same two headers; the app works without them.
 * (The helpers are Blob-URL workers, hence `blob:` in worker-src above.)
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function cspPlugin(): Plugin {
  return {
    name: 'slt-csp',
    apply: 'build',
    transformIndexHtml: (html) => html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`),
  };
}

// The compute worker is an ES module worker (PLATFORM.md: `worker.format: 'es'`).
// tfjs's wasm binaries are imported with `?url` in src/core/backend-urls.ts, so Vite
// fingerprints and serves them from the app's own origin.
export default defineConfig({
  plugins: [react(), cspPlugin()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    sourcemap: true,
  },
  server: { port: 5173, headers: ISOLATION_HEADERS },
  preview: { port: 4173, headers: ISOLATION_HEADERS },
});
