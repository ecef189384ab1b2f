import { ERROR_CODES, type ErrorCode } from './codes.js';

/** The one base class of aks-emu's errors: callers branch on `code`, never on the message. */
export class AksEmuError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AksEmuError';
    this.code = code;
    this.status = options?.status ?? ERROR_CODES[code].status;
  }
}
