import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const slice = (fields: object, labels: object = { 'kubernetes.io/service-name': 'ext' }) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'ext-1', labels },
  addressType: 'IPv4',
  ...fields,
});

const endpoints = (subsets: object[]) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext' }, subsets });

describe('EndpointSlices', () => {
  it('links a slice to its Service by label and defaults the endpoint conditions', () => {
    const { endpointSlices } = load([
      slice({
        endpoints: [
          { addresses: ['127.244.0.9'], nodeName: 'n1' },
          { addresses: ['127.244.0.10'], conditions: { ready: false, terminating: true } },
        ],
        ports: [{ name: 'http', port: 8080, appProtocol: 'http' }],
      }),
    ]).manifests;
    expect(endpointSlices).toHaveLength(1);
    expect(endpointSlices[0]).toMatchObject({
      kind: 'EndpointSlice',
      serviceName: 'ext',
      addressType: 'IPv4',
      writtenAs: 'EndpointSlice',
      endpoints: [
        { addresses: ['127.244.0.9'], ready: true, serving: true, terminating: false, nodeName: 'n1' },
        { addresses: ['127.244.0.10'], ready: false, serving: false, terminating: true },
      ],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
    });
  });

  it('rejects addresses the embedded runtime cannot dial', () => {
    expect(fieldErrors([slice({ endpoints: [{ addresses: ['10.1.2.3', '127.244.0.9'] }], ports: [{ port: 80 }] })])).toEqual([
      `endpoints[0].addresses[0]: Invalid value: "10.1.2.3": aks-emu's embedded runtime only dials 127.0.0.0/8`,
    ]);
  });

  it('lets the runtime widen the dialable ranges', () => {
    const options = { allowedEndpointCIDRs: ['10.244.0.0/16'] };
    expect(load([slice({ endpoints: [{ addresses: ['10.244.1.7'] }], ports: [{ port: 80 }] })], options).manifests.endpointSlices).toHaveLength(1);
    expect(fieldErrors([slice({ endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ port: 80 }] })], options)).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": aks-emu only dials 10.244.0.0/16',
    ]);
  });

  it('checks address type, addresses and ports', () => {
    expect(
      fieldErrors([
        slice({
          addressType: 'IPX',
          endpoints: [{ addresses: [] }, { addresses: ['not-an-ip'] }],
          ports: [
            { name: 'http', port: 70000 },
            { name: 'http', protocol: 'TCP' },
          ],
        }),
      ]),
    ).toEqual([
      'addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"',
      'endpoints[0].addresses: Required value: must contain at least 1 address',
      'endpoints[1].addresses[0]: Invalid value: "not-an-ip": must be a valid IPv4 address',
      'ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'ports[1].name: Duplicate value: "http"',
      'ports[1].port: Required value: aks-emu needs the port number to dial',
    ]);
  });

  it('skips a slice that names no Service, with a notice', () => {
    const result = load([slice({ endpoints: [], ports: [] }, {})]);
    expect(result.manifests.endpointSlices).toEqual([]);
    expect(result.manifests.skipped).toMatchObject([{ kind: 'EndpointSlice', name: 'ext-1', namespace: 'default' }]);
    expect(result.notices).toEqual(['bad.yaml (document 1): skipping EndpointSlice "ext-1": no kubernetes.io/service-name label, so no Service uses it']);
  });
});

describe('legacy Endpoints', () => {
  it('becomes one EndpointSlice per subset, written as Endpoints', () => {
    const { endpointSlices } = load([
      endpoints([
        { addresses: [{ ip: '127.244.0.5', nodeName: 'n1' }], notReadyAddresses: [{ ip: '127.244.0.6' }], ports: [{ port: 8080 }] },
        {
          addresses: [{ ip: '127.244.0.7' }],
          ports: [
            { name: 'a', port: 81 },
            { name: 'b', port: 82, protocol: 'UDP' },
          ],
        },
      ]),
    ]).manifests;
    expect(endpointSlices.map((s) => [s.metadata.name, s.serviceName, s.writtenAs])).toEqual([
      ['ext-0', 'ext', 'Endpoints'],
      ['ext-1', 'ext', 'Endpoints'],
    ]);
    expect(endpointSlices[0]?.endpoints).toEqual([
      { addresses: ['127.244.0.5'], ready: true, serving: true, terminating: false, nodeName: 'n1' },
      { addresses: ['127.244.0.6'], ready: false, serving: false, terminating: false },
    ]);
    expect(endpointSlices[1]?.ports).toEqual([
      { name: 'a', port: 81, protocol: 'TCP' },
      { name: 'b', port: 82, protocol: 'UDP' },
    ]);
  });

  it('keeps an Endpoints object without subsets as an empty slice', () => {
    const [s] = load([endpoints([])]).manifests.endpointSlices;
    expect(s).toMatchObject({ serviceName: 'ext', endpoints: [], ports: [], metadata: { name: 'ext' } });
  });

  it('checks addresses and port names', () => {
    expect(fieldErrors([endpoints([{ addresses: [{ ip: '10.0.0.1' }, { ip: 'x' }, {}], ports: [{ port: 80 }, { port: 81 }] }])])).toEqual([
      `subsets[0].addresses[0].ip: Invalid value: "10.0.0.1": aks-emu's embedded runtime only dials 127.0.0.0/8`,
      'subsets[0].addresses[1].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].addresses[2].ip: Required value',
      'subsets[0].ports[0].name: Required value',
      'subsets[0].ports[1].name: Required value',
    ]);
  });
});
