import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf } from '../../../src/api/kube/protobuf.js';

/** A minimal protobuf writer: fields are [number, value], values a varint (bigint), a string or a nested message. */
type Value = bigint | string | Buffer | Field[];
type Field = readonly [number, Value];

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return Buffer.from(out);
}

function encode(fields: readonly Field[]): Buffer {
  return Buffer.concat(
    fields.map(([n, v]) => {
      if (typeof v === 'bigint') return Buffer.concat([varint(BigInt(n << 3)), varint(v)]);
      const bytes = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : encode(v);
      return Buffer.concat([varint(BigInt((n << 3) | 2)), varint(BigInt(bytes.length)), bytes]);
    }),
  );
}

function envelope(apiVersion: string, kind: string, raw: Field[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    encode([
      [
        1,
        [
          [1, apiVersion],
          [2, kind],
        ],
      ],
      [2, encode(raw)],
    ]),
  ]);
}

describe('decodeKubeProtobuf', () => {
  it('decodes a ConfigMap with maps, and leaves zero-valued fields out as JSON does', () => {
    const object = decodeKubeProtobuf(
      envelope('v1', 'ConfigMap', [
        [
          1,
          [
            [1, 'settings'],
            [3, 'team-a'],
            [5, ''],
            [7, 0n],
            [
              8,
              [
                [1, 0n],
                [2, 0n],
              ],
            ],
            [
              11,
              [
                [1, 'app'],
                [2, 'web'],
              ],
            ],
          ],
        ],
        [
          2,
          [
            [1, 'a'],
            [2, 'b'],
          ],
        ],
        [2, [[1, 'empty']]],
        [
          3,
          [
            [1, 'bin'],
            [2, Buffer.from([0, 1, 2])],
          ],
        ],
      ]),
    );
    expect(object).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'team-a', labels: { app: 'web' } },
      data: { a: 'b', empty: '' },
      binaryData: { bin: 'AAEC' },
    });
  });

  it('keeps a zero where Go has a pointer (replicas: 0) and decodes quantities and negative integers', () => {
    const container: Field[] = [
      [1, 'web'],
      [2, 'example/web:1'],
      [6, [[3, 8080n]]],
      [
        8,
        [
          [
            2,
            [
              [1, 'cpu'],
              [2, [[1, '100m']]],
            ],
          ],
        ],
      ],
    ];
    const object = decodeKubeProtobuf(
      envelope('apps/v1', 'Deployment', [
        [1, [[1, 'web']]],
        [
          2,
          [
            [1, 0n],
            [3, [[2, [[2, container]]]]],
            [6, -1n],
          ],
        ],
        [
          3,
          [
            [1, 0n],
            [2, 0n],
          ],
        ],
      ]),
    );
    expect(object['spec']).toEqual({
      replicas: 0,
      revisionHistoryLimit: -1,
      template: { spec: { containers: [{ name: 'web', image: 'example/web:1', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m' } } }] } },
    });
    expect(object['status']).toBeUndefined();
  });

  it('refuses a field it does not know when it carries a value, naming it', () => {
    const body = envelope('v1', 'Namespace', [
      [
        1,
        [
          [1, 'x'],
          [13, [[1, 'v1']]],
        ],
      ],
    ]);
    expect(() => decodeKubeProtobuf(body)).toThrow(/protobuf field 13 of ObjectMeta \(Namespace\.metadata\) is not decoded by aks-emu/);
  });

  it('refuses other kinds, bodies without the magic and truncated messages', () => {
    expect(() => decodeKubeProtobuf(envelope('networking.k8s.io/v1', 'Ingress', []))).toThrow(/reads protobuf only for .* not networking.k8s.io\/v1\/Ingress/);
    expect(() => decodeKubeProtobuf(Buffer.from('{"kind":"Namespace"}'))).toThrow(/magic/);
    const truncated = envelope('v1', 'Namespace', [[1, [[1, 'x']]]]).subarray(0, -1);
    expect(() => decodeKubeProtobuf(truncated)).toThrow(/longer than the message|truncated/);
  });
});
