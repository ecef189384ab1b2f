import type { FieldError } from '../errors/index.js';
import type { Source } from '../model/types.js';

/**
 * Collects the field errors of one object, with the object's identity filled in, the way
 * the API server builds one field.ErrorList per object. Every check reports and carries on,
 * so the user sees all that is wrong at once.
 */
export class Reporter {
  readonly #sink: FieldError[];
  readonly #start: number;

  constructor(
    sink: FieldError[],
    readonly source: Source,
    readonly kind: string,
    readonly name: string,
    readonly namespace?: string,
  ) {
    this.#sink = sink;
    this.#start = sink.length;
  }

  /** Whether this object has reported anything yet. */
  get failed(): boolean {
    return this.#sink.length > this.#start;
  }

  #push(e: Omit<FieldError, 'source' | 'kind' | 'name' | 'namespace'>): void {
    this.#sink.push({ source: this.source, kind: this.kind, name: this.name, namespace: this.namespace, ...e });
  }

  required(field: string, detail?: string): void {
    this.#push({ field, type: 'Required', detail });
  }

  invalid(field: string, value: unknown, detail: string): void {
    this.#push({ field, type: 'Invalid', value, detail });
  }

  /** One Invalid error per message, as the validators of apimachinery return them. */
  invalidEach(field: string, value: unknown, messages: readonly string[]): void {
    for (const m of messages) this.invalid(field, value, m);
  }

  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.#push({ field, type: 'NotSupported', value, supported });
  }

  duplicate(field: string, value: unknown): void {
    this.#push({ field, type: 'Duplicate', value });
  }

  /** A field the kind's schema does not have (strict decoding). */
  unknownField(field: string): void {
    this.#push({ field, type: 'UnknownField' });
  }

  forbidden(field: string, detail: string): void {
    this.#push({ field, type: 'Forbidden', detail });
  }
}
