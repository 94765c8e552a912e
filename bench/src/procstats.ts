// CPU seconds and memory of processes, read from /proc: utime+stime of a process and of its
// descendants (PostgreSQL works in one backend process per connection), VmRSS now and
// VmHWM (peak RSS; reset per scenario by writing 5 to /proc/<pid>/clear_refs).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux x86-64 (getconf CLK_TCK)

export interface ProcSample {
  cpuSeconds: number;
  rssMb: number;
  peakRssMb: number;
}

function statOf(pid: number): { ppid: number; cpuTicks: number; childTicks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces, start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

function memOf(pid: number): { rssKb: number; hwmKb: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return { rssKb: 0, hwmKb: 0 };
  }
}

/** pid and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = statOf(Number(entry));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(entry));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** One process (with its descendants when tree=true): CPU so far, RSS now and peak. */
export function sample(pid: number, tree = false): ProcSample {
  const pids = tree ? processTree(pid) : [pid];
  let ticks = 0;
  let rss = 0;
  let hwm = 0;
  for (const p of pids) {
    const s = statOf(p);
    // In a tree, children that exited (and were waited for) live on in their parent's cutime.
    ticks += (s?.cpuTicks ?? 0) + (tree ? (s?.childTicks ?? 0) : 0);
    const m = memOf(p);
    rss += m.rssKb;
    hwm += m.hwmKb;
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rss / 1024, peakRssMb: hwm / 1024 };
}

/** Starts a new peak-RSS window (needs to own the process or be root; ignored otherwise). */
export function resetPeak(pid: number, tree = false): void {
  for (const p of tree ? processTree(pid) : [pid]) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      // not ours: the peak then covers the process's whole life
    }
  }
}

export interface Watched {
  name: string;
  /** "parley" | "infra" | "baseline" | "loadgen" */
  kind: string;
  pid: number;
  tree: boolean;
}

export interface UsageRow {
  name: string;
  kind: string;
  cpuSeconds: number;
  peakRssMb: number;
  rssMb: number;
}

/** CPU used by each watched process between begin() and end(), and its peak RSS in that window. */
export class UsageWindow {
  private readonly start = new Map<string, number>();

  constructor(private readonly watched: Watched[]) {
    for (const w of watched) {
      resetPeak(w.pid, w.tree);
      this.start.set(`${w.name}:${w.pid}`, sample(w.pid, w.tree).cpuSeconds);
    }
  }

  end(): UsageRow[] {
    return this.watched.map((w) => {
      const s = sample(w.pid, w.tree);
      const before = this.start.get(`${w.name}:${w.pid}`) ?? 0;
      return { name: w.name, kind: w.kind, cpuSeconds: round(Math.max(0, s.cpuSeconds - before)), peakRssMb: round(s.peakRssMb), rssMb: round(s.rssMb) };
    });
  }
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
