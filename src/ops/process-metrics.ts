import { readdirSync, readFileSync } from "node:fs";
import type { MetricFamily } from "./exposition.ts";

/** Fixed once: the process started this long before the module loaded. */
const START_TIME_SECONDS = Date.now() / 1000 - process.uptime();

/**
 * The standard `process_*` metrics, as Prometheus's own client libraries name them. Read from
 * /proc on Linux at each scrape (a few small reads); elsewhere only what the runtime knows
 * (CPU, resident memory, start time) is reported, and the rest is left out rather than faked.
 */
export function processFamilies(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const status = readProc("/proc/self/status");
  const residentBytes = kilobytes(status, "VmRSS") ?? process.memoryUsage.rss();
  const virtualBytes = kilobytes(status, "VmSize");
  const openFds = countOpenFds();
  const maxFds = maxOpenFiles();
  const families: MetricFamily[] = [
    {
      name: "process_cpu_seconds",
      type: "counter",
      unit: "seconds",
      help: "Total user and system CPU time spent in seconds.",
      samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    { name: "process_resident_memory_bytes", type: "gauge", unit: "bytes", help: "Resident memory size in bytes.", samples: [{ value: residentBytes }] },
    {
      name: "process_start_time_seconds",
      type: "gauge",
      unit: "seconds",
      help: "Start time of the process since unix epoch in seconds.",
      samples: [{ value: Math.round(START_TIME_SECONDS * 1000) / 1000 }],
    },
  ];
  if (virtualBytes !== undefined) {
    families.push({
      name: "process_virtual_memory_bytes",
      type: "gauge",
      unit: "bytes",
      help: "Virtual memory size in bytes.",
      samples: [{ value: virtualBytes }],
    });
  }
  if (openFds !== undefined)
    families.push({ name: "process_open_fds", type: "gauge", help: "Number of open file descriptors.", samples: [{ value: openFds }] });
  if (maxFds !== undefined)
    families.push({ name: "process_max_fds", type: "gauge", help: "Maximum number of open file descriptors.", samples: [{ value: maxFds }] });
  return families;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // not Linux
  }
}

/** A `Name:   1234 kB` line of /proc/self/status, in bytes. */
function kilobytes(status: string | undefined, field: string): number | undefined {
  const match = status === undefined ? null : new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

function countOpenFds(): number | undefined {
  try {
    // The listing itself holds one descriptor open while it runs, as in every client library.
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/** The soft limit ("Max open files  1024  524288  files"); undefined when unlimited or unknown. */
function maxOpenFiles(): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(readProc("/proc/self/limits") ?? "");
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
