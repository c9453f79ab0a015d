/**
 * Describes the machine a benchmark ran on (CPU model, cores, memory, Node, platform), so a
 * result file can be read without knowing where it came from. Load average is included
 * because benches often share a machine and the numbers are only as quiet as it was.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** Logical cores Node may use (`os.availableParallelism`). */
  cores: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  nodeVersion: string;
  v8Version: string;
  platform: string;
  arch: string;
  osRelease: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    loadAverage: [round(l1, 2), round(l5, 2), round(l15, 2)],
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * CPU time the whole machine spent busy (every process, user + system + interrupts), in ms, from
 * /proc/stat; undefined where that file does not exist. Differences between two readings show
 * what a phase cost beside this process (e.g. the S3 server on the same cores).
 */
export function machineBusyCpuMs(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal ...; USER_HZ is 100 on Linux.
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 10;
}
