/**
 * CPU time per thread of a process, from /proc (Linux only; elsewhere the
 * snapshot is empty). On two cores shared by the daemon and the load
 * generator, who burns the CPU says more than any single throughput figure.
 */

export type CpuSnapshot = Map<string, number>;

/** Clock ticks per second of /proc's utime/stime; 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by each thread of `pid`, keyed `tid:name`. */
export function cpuSnapshot(pid: number): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return snapshot;
  }
  for (const task of tasks) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      // The name sits in parentheses and may contain spaces; fields follow the last ")".
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(open + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      snapshot.set(`${task.name}:${name}`, ticks / TICKS_PER_SECOND);
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return snapshot;
}

export interface CpuUse {
  /** CPU seconds per wall second for the whole process (2.0 = both cores). */
  readonly total: number;
  /** The busiest threads, CPU seconds per wall second, by name. */
  readonly threads: { readonly name: string; readonly cores: number }[];
}

/** CPU use between two snapshots taken `seconds` apart. */
export function cpuUse(before: CpuSnapshot, after: CpuSnapshot, seconds: number): CpuUse {
  const byName = new Map<string, number>();
  let total = 0;
  for (const [key, value] of after) {
    const used = value - (before.get(key) ?? 0);
    total += used;
    const name = key.slice(key.indexOf(":") + 1);
    byName.set(name, (byName.get(name) ?? 0) + used);
  }
  const threads = [...byName].map(([name, used]) => ({ name, cores: used / seconds }))
    .filter((t) => t.cores >= 0.01)
    .sort((a, b) => b.cores - a.cores);
  return { total: total / seconds, threads };
}

/** CPU seconds all processes on the machine have used so far (busy time, not idle or iowait). */
export function systemBusySeconds(): number {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/)
      .slice(1).map(Number) as number[];
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) +
      (steal ?? 0)) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
