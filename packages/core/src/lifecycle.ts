// Owns a process's lifecycle: one state, and an ordered shutdown on SIGTERM/SIGINT
// (stop taking work, finish what is in flight, commit, close, exit).
import type { Logger } from './log';

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

type ShutdownStep = { name: string; run: () => Promise<void> };

export class Lifecycle {
  private current: LifecycleState = 'starting';
  private readonly steps: ShutdownStep[] = [];
  private shuttingDown: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  get state(): LifecycleState {
    return this.current;
  }

  ready(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  /** Steps run in the order added: add "stop accepting" first, "close connections" last. */
  onShutdown(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const handler = (signal: NodeJS.Signals): void => {
      this.log.info({ signal }, 'shutdown requested');
      void this.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }

  shutdown(): Promise<void> {
    this.shuttingDown ??= this.runSteps();
    return this.shuttingDown;
  }

  private async runSteps(): Promise<void> {
    this.current = 'draining';
    const deadline = setTimeout(() => {
      this.log.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, this.timeoutMs);
    deadline.unref();
    let failed = false;
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        failed = true;
        this.log.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
    this.current = 'stopped';
    this.log.info('stopped');
    if (failed) throw new Error('shutdown had failures');
  }
}
