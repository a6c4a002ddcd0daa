import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The compute worker is an ES module worker (PLATFORM.md: `worker.format: 'es'`).
// tfjs's wasm binaries are imported with `?url` in src/core/backend-urls.ts, so Vite
// fingerprints and serves them from the app's own origin.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    sourcemap: true,
  },
  server: { port: 5173 },
  preview: { port: 4173 },
});
