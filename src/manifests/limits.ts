/**
 * How much manifest text one load may bring. Parsing costs far more memory than the
 * text (a YAML document tree, then the objects), so a size is refused before anything
 * is read or parsed. kubectl has no such limit; the API server refuses request bodies
 * over 3 MiB (413 Request Entity Too Large). aks-emu reads whole sets of manifests at
 * once, so its default is larger: 16 MiB per file, and four times the per-file limit in all.
 */
import { AksEmuError } from '../errors/index.js';

export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
/** The total allowed when only the per-file limit is given. */
const TOTAL_PER_FILE = 4;

export interface SizeLimits {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
}

export function sizeLimits(options: { readonly maxFileBytes?: number; readonly maxTotalBytes?: number }): SizeLimits {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return { maxFileBytes, maxTotalBytes: options.maxTotalBytes ?? maxFileBytes * TOTAL_PER_FILE };
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A byte count as Kubernetes quantities write it: `16Mi`, `500k`, `1048576`; undefined when it is not one. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(value.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2] ?? '']!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** `16Mi` when exact, else `52428801 bytes (50.0 MiB)`, or `3000 bytes` below a MiB. */
export function formatByteSize(bytes: number): string {
  for (const unit of ['Gi', 'Mi', 'Ki'] as const) if (bytes % UNITS[unit]! === 0) return `${bytes / UNITS[unit]!}${unit}`;
  return bytes < UNITS['Mi']! ? `${bytes} bytes` : `${bytes} bytes (${(bytes / UNITS['Mi']!).toFixed(1)} MiB)`;
}

export function fileTooLarge(file: string, size: number, limits: SizeLimits, atLeast = false): string {
  return (
    `${file}: the file is ${atLeast ? 'more than ' : ''}${formatByteSize(size)}, over the ${formatByteSize(limits.maxFileBytes)} limit for one manifest file ` +
    '(raise it with --max-manifest-size or limits.manifestFileBytes in aks-emu.yaml)'
  );
}

export function totalTooLarge(total: number, files: number, limits: SizeLimits): string {
  return (
    `the ${files} manifest files hold ${formatByteSize(total)} in all, over the ${formatByteSize(limits.maxTotalBytes)} limit for one load ` +
    '(raise it with limits.manifestTotalBytes in aks-emu.yaml)'
  );
}

/** One error for every size problem of a load, so that all are seen at once. */
export function tooLargeError(problems: readonly string[]): AksEmuError {
  return new AksEmuError('AKS_EMU_MANIFEST_TOO_LARGE', problems.join('\n'));
}

/** In-memory texts (library and API callers) obey the same limits as files. */
export function checkTextSizes(docs: readonly { file: string; text: string }[], limits: SizeLimits): void {
  const problems: string[] = [];
  let total = 0;
  for (const { file, text } of docs) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limits.maxFileBytes) problems.push(fileTooLarge(file, size, limits));
    total += size;
  }
  if (problems.length === 0 && total > limits.maxTotalBytes) problems.push(totalTooLarge(total, docs.length, limits));
  if (problems.length > 0) throw tooLargeError(problems);
}
