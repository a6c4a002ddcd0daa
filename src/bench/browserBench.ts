/**
 * Moved: the in-browser bench task lives in src/core/bench/browserBench.ts (the Node runner and
 * the PyTorch peer in bench/). This type re-export only keeps the two remaining importers
 * (src/ui/components/BenchPanel.tsx, src/state/compute.ts) compiling until their owners point
 * them at src/core/bench/browserBench; then delete this file and src/bench/.
 */
export type { BrowserBenchResult } from '../core/bench/browserBench';
