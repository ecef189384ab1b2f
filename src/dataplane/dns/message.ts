/**
 * The few bits of the DNS wire format (RFC 1035) a cluster DNS needs: read one question,
 * answer it with A records, NODATA or NXDOMAIN. No compression is read in questions
 * (resolvers never compress a query's only name); answers point back at it.
 */

export const TYPE_A = 1;
const CLASS_IN = 1;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const OPCODE_MASK = 0x7800;

export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4 } as const;

export interface DnsQuestion {
  readonly id: number;
  readonly flags: number;
  /** Lower case, without the trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  /** The question section as received, echoed in the answer. */
  readonly raw: Buffer;
}

/** undefined: not a standard query with one question (answered FORMERR when an id is readable). */
export function parseQuery(message: Buffer): DnsQuestion | undefined {
  if (message.length < 12) return undefined;
  const flags = message.readUInt16BE(2);
  if ((flags & FLAG_QR) !== 0 || (flags & OPCODE_MASK) !== 0 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined;
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length).toLowerCase());
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  const type = message.readUInt16BE(offset);
  const klass = message.readUInt16BE(offset + 2);
  return { id: message.readUInt16BE(0), flags, name: labels.join('.'), type, class: klass, raw: message.subarray(12, offset + 4) };
}

/** An answer to `question`: A records for `addresses` (when the query asked for A), or just the rcode. */
export function buildAnswer(question: DnsQuestion, rcode: number, addresses: readonly string[], ttl: number): Buffer {
  const answers = rcode === RCODE.noError && question.type === TYPE_A && question.class === CLASS_IN ? addresses : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(question.id, 0);
  header.writeUInt16BE(FLAG_QR | FLAG_AA | (question.flags & FLAG_RD) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((address) => {
    const record = Buffer.alloc(16);
    // A pointer to the question's name at offset 12.
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(TYPE_A, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(ttl, 6);
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    return record;
  });
  return Buffer.concat([header, question.raw, ...records]);
}

/** FORMERR for a message whose id can be read, else nothing to answer. */
export function buildFormatError(message: Buffer): Buffer | undefined {
  if (message.length < 2) return undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.readUInt16BE(0), 0);
  header.writeUInt16BE(FLAG_QR | RCODE.formErr, 2);
  return header;
}
