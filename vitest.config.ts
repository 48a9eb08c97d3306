import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // multi-peer tests are CPU-bound on small machines: a few files at a time
    maxWorkers: 2,
    fileParallelism: true
  }
})
