/**
 * Listener checks as Istio's gateway controller makes them, with the Gateway API's
 * condition reasons: protocols this controller serves (HTTP, HTTPS with TLS terminate),
 * port conflicts, route kinds, and certificate references (a Secret of type
 * kubernetes.io/tls, in another namespace only with a ReferenceGrant).
 */
import type { Gateway, Listener } from '../../model/gateway-types.js';
import type { Secret } from '../../model/types.js';
import type { TlsCertificate } from '../ingress/types.js';
import { readTlsSecret } from '../ingress/tls-secret.js';
import { kindAllowed, protocolRouteKinds, referencePermitted } from './attachment.js';
import type { ReferenceGrant } from '../../model/gateway-types.js';

const GROUP = 'gateway.networking.k8s.io';

export type ListenerProblem = { readonly type: string; readonly reason: string; readonly message: string };

export interface CheckedListener {
  readonly listener: Listener;
  /** Serves traffic: accepted, no conflict, references resolved. */
  readonly usable: boolean;
  /** A problem that makes the listener not Accepted / Conflicted / not ResolvedRefs. */
  readonly problems: readonly ListenerProblem[];
  readonly certificate?: TlsCertificate;
  readonly supportedKinds: readonly { group: string; kind: string }[];
}

export interface ListenerContext {
  readonly secrets: readonly Secret[];
  readonly grants: readonly ReferenceGrant[];
}

function supportedKinds(listener: Listener): { group: string; kind: string }[] {
  const all = protocolRouteKinds(listener.protocol).map((kind) => ({ group: GROUP, kind }));
  return all.filter((k) => kindAllowed(listener, k.kind));
}

function certificateFor(gateway: Gateway, listener: Listener, ctx: ListenerContext): { cert?: TlsCertificate; problem?: ListenerProblem } {
  const ref = listener.tls?.certificateRefs[0];
  if (!ref) return { problem: { type: 'ResolvedRefs', reason: 'InvalidCertificateRef', message: 'no certificateRefs' } };
  const ns = ref.namespace ?? gateway.metadata.namespace;
  if (ref.group !== '' || ref.kind !== 'Secret') {
    return {
      problem: {
        type: 'ResolvedRefs',
        reason: 'InvalidCertificateRef',
        message: `unsupported certificate kind ${ref.group === '' ? 'core' : ref.group}/${ref.kind}`,
      },
    };
  }
  const from = { group: GROUP, kind: 'Gateway', namespace: gateway.metadata.namespace };
  if (!referencePermitted(ctx.grants, from, { group: '', kind: 'Secret', namespace: ns, name: ref.name })) {
    return {
      problem: {
        type: 'ResolvedRefs',
        reason: 'RefNotPermitted',
        message: `certificateRef ${ns}/${ref.name} not accessible to a Gateway in namespace "${gateway.metadata.namespace}" (missing a ReferenceGrant?)`,
      },
    };
  }
  const read = readTlsSecret(ctx.secrets, ns, ref.name);
  if (!read.ok)
    return { problem: { type: 'ResolvedRefs', reason: 'InvalidCertificateRef', message: `invalid certificate reference ${ns}/${ref.name}: ${read.problem}` } };
  const id = `${ns}/${ref.name}`;
  return { cert: { id, certPem: read.certPem, keyPem: read.keyPem } };
}

export function checkListeners(gateway: Gateway, ctx: ListenerContext): CheckedListener[] {
  const protocolsByPort = new Map<number, Set<string>>();
  for (const l of gateway.listeners) {
    const set = protocolsByPort.get(l.port) ?? new Set<string>();
    set.add(l.protocol);
    protocolsByPort.set(l.port, set);
  }
  return gateway.listeners.map((listener) => {
    const problems: ListenerProblem[] = [];
    let certificate: TlsCertificate | undefined;
    if (listener.protocol === 'TLS' && listener.tls?.mode !== 'Passthrough') {
      problems.push({ type: 'Accepted', reason: 'UnsupportedValue', message: "protocol TLS is supported by aks-emu's gateway only with tls.mode Passthrough" });
    } else if (listener.protocol === 'UDP') {
      problems.push({
        type: 'Accepted',
        reason: 'UnsupportedProtocol',
        message: `protocol ${listener.protocol} is not supported by aks-emu's gateway (only HTTP, HTTPS, TCP and TLS Passthrough)`,
      });
    } else if (listener.protocol === 'HTTPS' && listener.tls?.mode === 'Passthrough') {
      problems.push({ type: 'Accepted', reason: 'UnsupportedValue', message: 'TLS mode Passthrough is not supported for protocol HTTPS' });
    }
    if ((protocolsByPort.get(listener.port)?.size ?? 0) > 1) {
      problems.push({ type: 'Conflicted', reason: 'ProtocolConflict', message: `port ${listener.port} is used by listeners of different protocols` });
    }
    const kinds = supportedKinds(listener);
    const declared = listener.allowedRoutes.kinds;
    if (declared && declared.some((k) => !kinds.some((s) => s.kind === k.kind && s.group === k.group))) {
      problems.push({
        type: 'ResolvedRefs',
        reason: 'InvalidRouteKinds',
        message: `route kinds ${declared.map((k) => k.kind).join(', ')}: only ${protocolRouteKinds(listener.protocol).join(' and ')} on a ${listener.protocol} listener`,
      });
    }
    if (listener.protocol === 'HTTPS' && problems.length === 0) {
      const c = certificateFor(gateway, listener, ctx);
      if (c.problem) problems.push(c.problem);
      certificate = c.cert;
    }
    return { listener, usable: problems.length === 0, problems, supportedKinds: kinds, ...(certificate ? { certificate } : {}) };
  });
}
