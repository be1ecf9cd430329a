import { EventEmitter } from "node:events";

export const MAX_ATTEMPTS = 5;

/**
 * Options for {@link retryWithBackoff}.
 */
export interface RetryOptions {
  /**
   * Base delay before the first retry, in milliseconds.
   * Doubles after every failed attempt.
   * @default 100
   */
  baseDelayMs?: number;
  /** Upper bound for a single delay. */
  maxDelayMs?: number;
  onRetry?: (attempt: number, error: unknown) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `fn` until it resolves or `MAX_ATTEMPTS` is reached,
 * waiting longer after each failure.
 */
export async function retryWithBackoff<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const base = opts.baseDelayMs ?? 100;
  let lastError: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      return await fn();
    } catch (error) {
      lastError = error;
      opts.onRetry?.(attempt, error);
      const delay = Math.min(base * 2 ** (attempt - 1), opts.maxDelayMs ?? Infinity);
      await sleep(delay);
    }
  }
  throw lastError;
}

export class CircuitBreaker extends EventEmitter {
  private failures = 0;

  constructor(private readonly threshold: number) {
    super();
  }

  record(ok: boolean): void {
    if (ok) {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    if (this.failures >= this.threshold) {
      this.emit("open");
    }
  }
}
