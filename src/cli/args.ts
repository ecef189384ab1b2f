import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ConfigInput } from '../config/load.js';
import { AksEmuError } from '../errors/index.js';
import { parseByteSize } from '../manifests/limits.js';
import { parseValidateFlag, type FieldValidation } from '../manifests/index.js';
import { isDNS1123Label } from '../manifests/validation/names.js';

type Options = NonNullable<ParseArgsConfig['options']>;

type WithHelp<O extends Options> = O & { help: { type: 'boolean'; short: 'h' } };
export type ParsedCommand<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<O>; allowPositionals: true; strict: true }>>;

/** node:util parseArgs with errors that name the command and the flag. */
export function parseCommand<O extends Options>(command: string, argv: string[], options: O, allowPositionals = true): ParsedCommand<O> {
  try {
    const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<O>;
    return parseArgs({ args: argv, options: withHelp, allowPositionals: allowPositionals as true, strict: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = e.message
      .replace(/^Unknown option '([^']+)'.*$/s, 'unknown flag: $1')
      .replace(/^Option '([^']+)' argument missing$/s, 'flag needs an argument: $1');
    throw new AksEmuError('AKS_EMU_USAGE', `aks-emu ${command}: ${message}\nRun 'aks-emu ${command} --help' for usage.`, { cause: err });
  }
}

export function usageError(command: string, message: string): AksEmuError {
  return new AksEmuError('AKS_EMU_USAGE', `aks-emu ${command}: ${message}\nRun 'aks-emu ${command} --help' for usage.`);
}

/** A whole number flag, with the flag named in the error. */
export function intFlag(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(command, `invalid value "${value}" for flag ${flag}: must be a whole number from ${min} to ${max}`);
  return n;
}

/** `--max-manifest-size 32Mi`: a byte count or a Kubernetes quantity, into the config input's limits. */
export function manifestSizeFlag(command: string, value: string | undefined, input: ConfigInput): void {
  if (value === undefined) return;
  if (parseByteSize(value) === undefined) {
    throw usageError(command, `invalid value "${value}" for flag --max-manifest-size: must be a number of bytes, such as 16777216 or 16Mi`);
  }
  input.limits = { ...input.limits, manifestFileBytes: value };
}

export const MANIFEST_SIZE_HELP = `      --max-manifest-size SIZE
                        refuse a manifest file larger than SIZE (bytes, or 16Mi, 500k; default 16Mi)`;

/** `--validate=strict|warn|ignore` (also true/false), as kubectl spells it; default strict. */
export function validateFlag(command: string, value: string | undefined): FieldValidation {
  if (value === undefined) return 'Strict';
  const mode = parseValidateFlag(value);
  if (mode === undefined) throw usageError(command, `invalid - validate option "${value}"; must be one of: strict (or true), warn, ignore (or false)`);
  return mode;
}

/** `-n NS`: a namespace name (a DNS-1123 label), as kubectl requires of it. */
export function namespaceFlag(command: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problems = isDNS1123Label(value);
  if (problems.length > 0) throw usageError(command, `invalid value "${value}" for flag --namespace: ${problems.join('; ')}`);
  return value;
}

export const VALIDATE_HELP = `      --validate MODE   fields a kind does not have (a misspelt spec.externalTraficPolicy): strict (default)
                        refuses them as kubectl does, warn prints a warning, ignore says nothing
  -n, --namespace NS    the namespace of objects that name none (as kubectl apply -n); an object
                        that names another namespace is an error`;
