import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests drive real daemons (Docker Engine, Kubernetes, registries) that are
    // shared per machine; running files one at a time keeps them from fighting over 2 cores.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
