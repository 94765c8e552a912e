// Bounds the calls one process makes to one upstream service at once. Without it, a reconnect
// storm turns into tens of thousands of gRPC streams open on one HTTP/2 connection: the upstream
// sheds most of them, the rest time out, and destroying that many streams costs the caller more
// CPU than the calls themselves (a connector spent 99 % of a 6 s profile in stream destroy, its
// heap at 1 GB, its sockets' heartbeats starved). Here at most `maxInflight` calls run; the next
// `maxQueued` wait in order, each giving up at its own deadline without ever opening a stream;
// past that a call is refused at once, retryable, with a suggested wait: the client backs off
// instead of piling on.
import { ParleyError } from './errors';

export interface CallQueueOptions {
  /** Calls running at once. */
  maxInflight: number;
  /** Calls waiting for a slot; past it the next is refused at once (UNAVAILABLE, retryable). */
  maxQueued: number;
  /** The wait suggested to a refused caller (retryAfterMs). */
  retryAfterMs: number;
  /** What the refusal says is busy, e.g. "storage". */
  name: string;
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
  /** Gave up at its deadline: skipped when its turn comes. */
  expired: boolean;
}

export class CallQueue {
  private inflight = 0;
  private readonly waiting: Waiter[] = [];
  private head = 0;

  constructor(private readonly options: CallQueueOptions) {}

  /** Calls running and waiting now (for metrics and tests; expired waiters not yet skipped count). */
  get depth(): { inflight: number; queued: number } {
    return { inflight: this.inflight, queued: this.waiting.length - this.head };
  }

  /**
   * Runs `call` when a slot is free, giving it what is left of `deadlineMs` (counted from now).
   * A call still waiting at its deadline fails with DEADLINE_EXCEEDED and is never made.
   */
  run<T>(deadlineMs: number, call: (remainingMs: number) => Promise<T>): Promise<T> {
    if (this.inflight < this.options.maxInflight) return this.start(call, deadlineMs);
    if (this.waiting.length - this.head >= this.options.maxQueued) {
      return Promise.reject(
        new ParleyError('UNAVAILABLE', `${this.options.name} is busy: too many calls waiting; retry later`, { retryable: true, retryAfterMs: this.options.retryAfterMs }),
      );
    }
    const queuedAt = Date.now();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        expired: false,
        start: () => {
          clearTimeout(waiter.timer);
          this.start(call, Math.max(1, deadlineMs - (Date.now() - queuedAt))).then(resolve, reject);
        },
        timer: setTimeout(() => {
          // Left in the array, cheap to skip when its turn comes.
          waiter.expired = true;
          reject(new ParleyError('DEADLINE_EXCEEDED', `waited ${deadlineMs} ms for a free ${this.options.name} call slot`, { retryable: true }));
        }, deadlineMs),
      };
      waiter.timer.unref?.();
      this.waiting.push(waiter);
    });
  }

  private start<T>(call: (remainingMs: number) => Promise<T>, remainingMs: number): Promise<T> {
    this.inflight++;
    let promise: Promise<T>;
    try {
      promise = call(remainingMs);
    } catch (err) {
      promise = Promise.reject(err);
    }
    return promise.finally(() => {
      this.inflight--;
      this.next();
    });
  }

  /** Hands the free slot to the first waiter still waiting. */
  private next(): void {
    while (this.inflight < this.options.maxInflight && this.head < this.waiting.length) {
      const waiter = this.waiting[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      if (!waiter.expired) waiter.start();
    }
  }
}
