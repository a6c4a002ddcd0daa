/**
 * What a long computation sees of its job: progress reports, partial results, and cooperative
 * cancellation. The same context is built by the worker shell (messages), the CLI (stderr) and
 * tests (plain callbacks), so core routines never know where they run.
 */

export class CancelledError extends Error {
  constructor(message = 'Cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isCancelled(e: unknown): boolean {
  return e instanceof Error && e.name === 'CancelledError';
}

export interface JobContext<P = unknown> {
  /** Progress as a fraction in [0, 1] and a short phase label ("forward pass", "Lanczos step 40/200"). */
  progress(fraction: number, phase: string): void;
  /** Stream an intermediate result (e.g. SGLD draws so far, a training curve point). */
  partial(data: P): void;
  /**
   * Call often inside loops. Every `yieldEveryMs` it yields to the event loop so a cancel
   * message can arrive, and it throws CancelledError once the job is cancelled. Cheap otherwise.
   */
  checkpoint(): Promise<void>;
  /**
   * For pausable jobs (training): resolves at once unless the job is paused, in which case it
   * waits for resume, or lets exactly one unit of work through per single-step request.
   */
  waitIfPaused(): Promise<void>;
  readonly signal: AbortSignal;
}

export interface JobContextOptions<P> {
  onProgress?: (fraction: number, phase: string) => void;
  onPartial?: (data: P) => void;
  signal?: AbortSignal;
  /** How long work may run between yields (default 15 ms, well inside the 200 ms cancel budget). */
  yieldEveryMs?: number;
  gate?: PauseGate;
}

/** Pause / resume / single-step control of a pausable job. */
export class PauseGate {
  private paused = false;
  private credits = 0;
  private waiters: (() => void)[] = [];

  get isPaused(): boolean {
    return this.paused;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake();
  }
  /** While paused, let one more unit of work through. */
  step(): void {
    this.paused = true;
    this.credits++;
    this.wake();
  }
  async wait(signal: AbortSignal): Promise<void> {
    while (this.paused) {
      if (signal.aborted) throw new CancelledError();
      if (this.credits > 0) { this.credits--; return; }
      await new Promise<void>((resolve) => {
        const done = (): void => { signal.removeEventListener('abort', done); resolve(); };
        this.waiters.push(done);
        signal.addEventListener('abort', done);
      });
    }
    if (signal.aborted) throw new CancelledError();
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Yield to the macrotask queue (so queued messages, such as a cancel, get delivered). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function createJobContext<P = unknown>(opts: JobContextOptions<P> = {}): JobContext<P> {
  const signal = opts.signal ?? new AbortController().signal;
  const every = opts.yieldEveryMs ?? 15;
  let last = now();
  const throwIfCancelled = (): void => {
    if (signal.aborted) throw new CancelledError();
  };
  return {
    signal,
    progress(fraction, phase) {
      opts.onProgress?.(Math.min(1, Math.max(0, fraction)), phase);
    },
    partial(data) {
      opts.onPartial?.(data);
    },
    async checkpoint() {
      throwIfCancelled();
      if (now() - last >= every) {
        await yieldToEventLoop();
        last = now();
        throwIfCancelled();
      }
    },
    waitIfPaused() {
      return opts.gate ? opts.gate.wait(signal) : Promise.resolve(throwIfCancelled());
    },
  };
}

/**
 * A view of a job context for one phase of a longer job: its progress maps into [a, b] of the
 * parent's, labelled "label: phase"; cancellation and pausing are the parent's; partial results
 * are dropped (a phase's own partials mean nothing to the parent's listeners).
 */
export function subContext(ctx: JobContext, a: number, b: number, label: string): JobContext {
  return {
    signal: ctx.signal,
    checkpoint: () => ctx.checkpoint(),
    waitIfPaused: () => ctx.waitIfPaused(),
    partial: () => undefined,
    progress: (f, phase) => ctx.progress(a + (b - a) * f, `${label}: ${phase}`),
  };
}
