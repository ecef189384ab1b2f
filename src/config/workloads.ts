/**
 * `workloads:` of aks-emu.yaml, `--workload IMAGE=COMMAND` and the library's `workloads`
 * option → WorkloadMapping. A missing command or a cwd that is not a directory is an error
 * naming the field, before anything starts.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { WorkloadMapping } from './types.js';

/** What users write: command as an argv list or one string split on spaces. */
export interface WorkloadInput {
  image?: unknown;
  command?: unknown;
  cwd?: unknown;
  env?: unknown;
}

/** `IMAGE-GLOB=COMMAND ARGS...` from the command line. */
export function parseWorkloadFlag(value: string): WorkloadInput | undefined {
  const eq = value.indexOf('=');
  if (eq <= 0) return undefined;
  return { image: value.slice(0, eq).trim(), command: value.slice(eq + 1) };
}

function splitCommand(command: string): string[] {
  return command
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

/**
 * Checks and normalises the list; `baseDir` is where a relative cwd starts (the config
 * file's folder, else the current directory). Problems go to `bad(field, message)`.
 */
export function buildWorkloads(input: unknown, baseDir: string, report: (field: string, message: string) => void): WorkloadMapping[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) {
    report('workloads', 'Invalid value: a list of {image, command, cwd, env}');
    return [];
  }
  const out: WorkloadMapping[] = [];
  input.forEach((raw: WorkloadInput, i) => {
    const at = `workloads[${i}]`;
    let failed = false;
    const bad = (field: string, message: string) => {
      failed = true;
      report(field, message);
    };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return bad(at, 'Invalid value: expected {image, command, cwd, env}');
    for (const key of Object.keys(raw))
      if (!['image', 'command', 'cwd', 'env'].includes(key)) bad(`${at}.${key}`, 'unknown field (known: image, command, cwd, env)');
    const image = typeof raw.image === 'string' ? raw.image.trim() : '';
    if (image === '') bad(`${at}.image`, 'Required value: a glob on the container image, e.g. "contoso/api*"');
    const command =
      typeof raw.command === 'string'
        ? splitCommand(raw.command)
        : Array.isArray(raw.command) && raw.command.every((a) => typeof a === 'string')
          ? [...raw.command]
          : undefined;
    if (command === undefined || command.length === 0) {
      bad(
        `${at}.command`,
        raw.command === undefined
          ? 'Required value: the command to run, e.g. ["node", "server.js"]'
          : 'Invalid value: a non-empty list of strings (or one string)',
      );
    }
    let cwd = baseDir;
    if (raw.cwd !== undefined) {
      if (typeof raw.cwd !== 'string' || raw.cwd === '') bad(`${at}.cwd`, 'Invalid value: a directory path');
      else {
        cwd = isAbsolute(raw.cwd) ? raw.cwd : resolve(baseDir, raw.cwd);
        const stat = statSync(cwd, { throwIfNoEntry: false });
        if (stat === undefined) bad(`${at}.cwd`, `Invalid value: ${JSON.stringify(raw.cwd)}: no such directory (${cwd})`);
        else if (!stat.isDirectory()) bad(`${at}.cwd`, `Invalid value: ${JSON.stringify(raw.cwd)}: not a directory (${cwd})`);
      }
    }
    const env: Record<string, string> = {};
    if (raw.env !== undefined) {
      if (raw.env === null || typeof raw.env !== 'object' || Array.isArray(raw.env)) bad(`${at}.env`, 'Invalid value: a mapping of NAME: value');
      else {
        for (const [name, value] of Object.entries(raw.env as Record<string, unknown>)) {
          if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name))
            bad(
              `${at}.env.${name}`,
              "Invalid value: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
            );
          else env[name] = String(value);
        }
      }
    }
    if (!failed && command !== undefined) out.push({ image, command, cwd, env });
  });
  return out;
}

/** `*` any run of characters (slashes too), `?` one; the whole image, or the image without its registry host. */
export function imageMatches(glob: string, image: string): boolean {
  const pattern = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  if (pattern.test(image)) return true;
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  return (first.includes('.') || first.includes(':') || first === 'localhost') && pattern.test(image.slice(slash + 1));
}
