/** Where the numbers were taken: they mean little without the machine and the settings. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly autocannon: string;
  /** 1-minute load average when the run started: other work on the machine skews results. */
  readonly loadAverage: number;
  readonly anchors: Readonly<Record<string, string>>;
}

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? os.type();
}

export async function describeMachine(anchors: Readonly<Record<string, string>>, loadAverage: number): Promise<Machine> {
  const require = createRequire(import.meta.url);
  const autocannon = (require('autocannon/package.json') as { version: string }).version;
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: await osName(),
    kernel: os.release(),
    node: process.version,
    autocannon,
    loadAverage: Math.round(loadAverage * 100) / 100,
    anchors,
  };
}
