import { defineConfig } from 'vitest/config';

// Unit tests run the compute core in Node on the tfjs wasm backend (no DOM).
export default defineConfig({
  test: {
    environment: 'node',
    include: ['tests/unit/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
