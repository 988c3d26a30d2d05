/** closed: calls go; open: none go until the cool-down ends; half-open: one probe decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitOptions {
  /** Failures in a row that open the circuit. */
  readonly failures: number;
  /** How long it stays open before one probe is let through. */
  readonly coolDownMs: number;
}

/**
 * A per-upstream circuit breaker of the delivery worker: after `failures` failed attempts in a row it
 * opens, and the worker claims nothing for that upstream (the store's `upstreamIds` filter) until the
 * cool-down ends; then one delivery probes it. A success closes it, a failure opens it again.
 */
export class Circuit {
  readonly #options: CircuitOptions;
  #failures = 0;
  #openedAt = 0;
  #state: CircuitState = 'closed';
  #probing = false;

  constructor(options: CircuitOptions) {
    this.#options = options;
  }

  /** The state at `now` (an open circuit whose cool-down ended is half-open). */
  state(now: number): CircuitState {
    if (this.#state === 'open' && now - this.#openedAt >= this.#options.coolDownMs) this.#state = 'half-open';
    return this.#state;
  }

  /** How many attempts may start now: any (closed), none (open, or a probe already out), one (the probe). */
  allowance(now: number): number {
    const state = this.state(now);
    if (state === 'closed') return Infinity;
    if (state === 'half-open' && !this.#probing) return 1;
    return 0;
  }

  /** An attempt starts (in half-open: the probe). */
  started(now: number): void {
    if (this.state(now) === 'half-open') this.#probing = true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = 'closed';
  }

  /** True when this failure opened the circuit. */
  failed(now: number): boolean {
    this.#failures++;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || (this.#state === 'closed' && this.#failures >= this.#options.failures)) {
      this.#state = 'open';
      this.#openedAt = now;
      return true;
    }
    return false;
  }

  /** When an open circuit lets its probe through, or undefined when it is not open. */
  reopensAt(): number | undefined {
    return this.#state === 'open' ? this.#openedAt + this.#options.coolDownMs : undefined;
  }
}
