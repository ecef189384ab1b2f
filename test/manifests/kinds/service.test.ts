import { describe, expect, it } from 'vitest';
import { fieldErrors, load, located, service } from '../helpers.js';

const onlyService = (spec: object, metadata?: object) => {
  const [svc] = load([service(spec, metadata)]).manifests.services;
  if (svc === undefined) throw new Error('no service');
  return svc;
};

describe('Service defaults', () => {
  it('applies the defaults the API server applies', () => {
    const svc = onlyService({ selector: { app: 'web' }, ports: [{ port: 80 }] });
    expect(svc.metadata).toMatchObject({ name: 'web', namespace: 'default', labels: {}, annotations: {} });
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 80 }],
      selector: { app: 'web' },
      sessionAffinity: 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      loadBalancerSourceRanges: [],
      allocateLoadBalancerNodePorts: true,
      publishNotReadyAddresses: false,
    });
  });

  it('keeps requested values for LoadBalancer Services', () => {
    const svc = onlyService({
      type: 'LoadBalancer',
      selector: { app: 'web' },
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      loadBalancerSourceRanges: [' 10.0.0.0/8 '],
      allocateLoadBalancerNodePorts: false,
      loadBalancerIP: '127.20.0.9',
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30080, appProtocol: 'http' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    });
    expect(svc.spec).toMatchObject({
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      sessionAffinity: 'ClientIP',
      sessionAffinityTimeoutSeconds: 60,
      loadBalancerSourceRanges: ['10.0.0.0/8'],
      allocateLoadBalancerNodePorts: false,
      loadBalancerIP: '127.20.0.9',
    });
    expect(svc.spec.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080, appProtocol: 'http' },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
    ]);
  });

  it('treats an empty selector as no selector and keeps headless and ExternalName Services without ports', () => {
    expect(onlyService({ selector: {}, ports: [{ port: 80 }] }).spec.selector).toBeUndefined();
    expect(onlyService({ clusterIP: 'None', selector: { app: 'db' } }).spec).toMatchObject({ clusterIP: 'None', ports: [] });
    expect(onlyService({ type: 'ExternalName', externalName: 'db.example.com.' }).spec.externalName).toBe('db.example.com.');
  });

  it('reads source ranges from the older annotation when the field is empty', () => {
    const svc = onlyService(
      { type: 'LoadBalancer', ports: [{ port: 80 }] },
      { annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8, 192.168.0.0/16' } },
    );
    expect(svc.spec.loadBalancerSourceRanges).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
  });

  it('gives every object a stable UUID-shaped uid unless the manifest has one', () => {
    const a = onlyService({ ports: [{ port: 80 }] });
    const b = onlyService({ ports: [{ port: 80 }] });
    expect(a.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.metadata.uid).toBe(b.metadata.uid);
    expect(onlyService({ ports: [{ port: 80 }] }, { namespace: 'shop' }).metadata.uid).not.toBe(a.metadata.uid);
    expect(onlyService({ ports: [{ port: 80 }] }, { uid: 'given' }).metadata.uid).toBe('given');
  });
});

describe('Service validation', () => {
  it('requires a name for each port when there is more than one, with the full located message', () => {
    const errors = located([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      service({ ports: [{ name: 'http', port: 80 }, { port: 443 }] }),
    ]);
    expect(errors).toEqual(['bad.yaml (document 2): The Service "web" is invalid: spec.ports[1].name: Required value']);
  });

  it('names the namespace when it is not default', () => {
    expect(located([service({}, { namespace: 'shop' })])).toEqual([
      'bad.yaml (document 1): The Service "web" in namespace "shop" is invalid: spec.ports: Required value',
    ]);
  });

  it('requires a DNS-1035 name', () => {
    expect(fieldErrors([service({ ports: [{ port: 80 }] }, { name: '1web' })])).toEqual([
      `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(fieldErrors([{ apiVersion: 'v1', kind: 'Service', metadata: {}, spec: { ports: [{ port: 80 }] } }])).toEqual([
      'metadata.name: Required value: name or generateName is required',
    ]);
  });

  it('checks ports: range, names, protocol, duplicates and targetPort', () => {
    expect(
      fieldErrors([
        service({
          ports: [
            { name: 'http', port: 70000 },
            { name: 'http', port: 80, protocol: 'ICMP' },
            { name: 'Bad_Name', port: 80, targetPort: 'no--way' },
            { name: 'alt', port: 80 },
          ],
        }),
      ]),
    ).toEqual([
      'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.ports[1].name: Duplicate value: "http"',
      'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      `spec.ports[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.ports[2].targetPort: Invalid value: "no--way": must not contain consecutive hyphens',
      'spec.ports[2]: Duplicate value: {"port":80,"protocol":"TCP"}',
      'spec.ports[3]: Duplicate value: {"port":80,"protocol":"TCP"}',
    ]);
  });

  it('requires ports except for headless and ExternalName Services', () => {
    expect(fieldErrors([service({ selector: { app: 'web' } })])).toEqual(['spec.ports: Required value']);
  });

  it('reports a value of the wrong YAML type against its field', () => {
    expect(fieldErrors([service({ ports: [{ port: 'eighty' }] })])).toEqual(['spec.ports[0].port: Invalid value: "eighty": must be an integer']);
    expect(fieldErrors([service({ ports: [{ port: 80 }], selector: ['app=web'] })])).toEqual(['spec.selector: Invalid value: ["app=web"]: must be an object']);
    expect(fieldErrors([service({ ports: [{ port: 80 }], selector: { app: 5 } })])).toEqual(['spec.selector[app]: Invalid value: 5: must be a string']);
  });

  it('rejects unknown types and policies', () => {
    expect(
      fieldErrors([
        service({ type: 'Internal', ports: [{ port: 80 }], sessionAffinity: 'Cookie', internalTrafficPolicy: 'Node' }),
        service({ type: 'NodePort', ports: [{ port: 80 }], externalTrafficPolicy: 'Global' }, { name: 'np' }),
      ]),
    ).toEqual([
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"',
      'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"',
      'spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"',
    ]);
  });

  it('forbids a nodePort on a ClusterIP Service but leaves the NodePort range to the allocator', () => {
    expect(fieldErrors([service({ ports: [{ port: 80, nodePort: 30080 }] })])).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
    expect(load([service({ type: 'NodePort', ports: [{ port: 80, nodePort: 29999 }] })]).manifests.services[0]?.spec.ports[0]?.nodePort).toBe(29999);
    expect(
      fieldErrors([
        service({
          type: 'NodePort',
          ports: [
            { name: 'a', port: 80, nodePort: 70000 },
            { name: 'b', port: 81, nodePort: 70000 },
          ],
        }),
      ]),
    ).toEqual([
      'spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.ports[1].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.ports[1].nodePort: Duplicate value: 70000',
    ]);
  });

  it('checks clusterIP', () => {
    expect(fieldErrors([service({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] })])).toEqual([
      'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    expect(fieldErrors([service({ type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 80 }] })])).toEqual([
      `spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services`,
    ]);
    expect(fieldErrors([service({ type: 'ExternalName', clusterIP: '10.0.0.5' })])).toEqual([
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
      'spec.externalName: Required value',
    ]);
  });

  it('checks the session affinity timeout range', () => {
    const withTimeout = (timeoutSeconds: number) =>
      service({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds } } });
    expect(fieldErrors([withTimeout(0)])).toEqual([
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    ]);
    expect(fieldErrors([withTimeout(86401)])).toHaveLength(1);
    expect(load([withTimeout(86400)]).manifests.services[0]?.spec.sessionAffinityTimeoutSeconds).toBe(86400);
    expect(fieldErrors([service({ ports: [{ port: 80 }], sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } })])).toEqual([
      'spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None',
    ]);
  });

  it('allows externalTrafficPolicy and healthCheckNodePort only where they mean something', () => {
    expect(fieldErrors([service({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' })])).toEqual([
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]);
    expect(fieldErrors([service({ type: 'LoadBalancer', ports: [{ port: 80 }], healthCheckNodePort: 32000 })])).toEqual([
      "spec.healthCheckNodePort: Invalid value: 32000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ]);
    expect(fieldErrors([service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }], healthCheckNodePort: 70000 })])).toEqual([
      'spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
  });

  it('keeps LoadBalancer-only fields on LoadBalancer Services', () => {
    expect(
      fieldErrors([
        service({
          type: 'NodePort',
          ports: [{ port: 80 }],
          allocateLoadBalancerNodePorts: false,
          loadBalancerSourceRanges: ['10.0.0.0/8'],
          loadBalancerClass: 'x.io/lb',
        }),
      ]),
    ).toEqual([
      "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
      "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'",
      "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
  });

  it('requires loadBalancerSourceRanges to be CIDRs', () => {
    expect(fieldErrors([service({ type: 'LoadBalancer', ports: [{ port: 80 }], loadBalancerSourceRanges: ['10.0.0.0/8', '1.2.3.4'] })])).toEqual([
      'spec.LoadBalancerSourceRanges[1]: Invalid value: "1.2.3.4": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
  });

  it('checks selector labels and ExternalName hosts', () => {
    expect(fieldErrors([service({ ports: [{ port: 80 }], selector: { app: 'web server' } })])[0]).toMatch(
      /^spec\.selector: Invalid value: "web server": a valid label must be an empty string/,
    );
    expect(fieldErrors([service({ type: 'ExternalName', externalName: 'Bad_Host' })])[0]).toMatch(
      /^spec\.externalName: Invalid value: "Bad_Host": a lowercase RFC 1123 subdomain/,
    );
  });
});
