/**
 * The `process_*` families every Prometheus client library exports, so
 * standard dashboards work: memory, CPU time, start time and open files.
 * Open files come from /proc/self/fd, so that family is Linux-only. Next to
 * them the JavaScript heap of the main thread (the HTTP server, the engine
 * and its queues; the store's thread has its own), named as Node's client
 * names them, so memory growth can be told apart from native memory.
 */
import { cpuUsage } from "node:process";
import { Counter, Gauge, type MetricFamily } from "./metrics.ts";
import type { Collector } from "./metrics_registry.ts";

export function processMetrics(): { families: MetricFamily[]; collect: Collector } {
  const rss = new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
  });
  const cpu = new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
  });
  const start = new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
  });
  start.set(Math.round(performance.timeOrigin) / 1000);
  const fds = new Gauge({ name: "process_open_fds", help: "Number of open file descriptors." });
  const heapTotal = new Gauge({
    name: "nodejs_heap_size_total_bytes",
    help: "JavaScript heap reserved by the main thread, in bytes.",
  });
  const heapUsed = new Gauge({
    name: "nodejs_heap_size_used_bytes",
    help: "JavaScript heap in use by the main thread, in bytes.",
  });
  const external = new Gauge({
    name: "nodejs_external_memory_bytes",
    help: "Memory outside the JavaScript heap held by the main thread's objects, in bytes.",
  });
  const families: MetricFamily[] = [rss, cpu, start, heapTotal, heapUsed, external];
  const procFds = hasProcFds();
  if (procFds) families.push(fds);
  return {
    families,
    collect() {
      const memory = Deno.memoryUsage();
      rss.set(memory.rss);
      heapTotal.set(memory.heapTotal);
      heapUsed.set(memory.heapUsed);
      external.set(memory.external);
      const { user, system } = cpuUsage();
      cpu.set((user + system) / 1e6);
      if (procFds) {
        let open = 0;
        for (const _ of Deno.readDirSync("/proc/self/fd")) open++;
        fds.set(open);
      }
    },
  };
}

function hasProcFds(): boolean {
  try {
    Deno.statSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
}
