// Owns every timer the client starts, so close() can clear them all at once and a Node
// process using the SDK exits (a leaked timer keeps the event loop alive).

export type TimerId = ReturnType<typeof setTimeout>;

/** setTimeout's ceiling: a longer delay would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class Timers {
  private readonly live = new Set<TimerId>();

  set(ms: number, fn: () => void): TimerId {
    const id: TimerId = setTimeout(
      () => {
        this.live.delete(id);
        fn();
      },
      Math.min(Math.max(ms, 0), MAX_TIMER_MS),
    );
    this.live.add(id);
    return id;
  }

  clear(id: TimerId | undefined): undefined {
    if (id !== undefined && this.live.delete(id)) clearTimeout(id);
    return undefined;
  }

  clearAll(): void {
    for (const id of this.live) clearTimeout(id);
    this.live.clear();
  }

  get size(): number {
    return this.live.size;
  }
}
