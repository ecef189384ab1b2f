/**
 * TCPRoute and TLSRoute (gateway.networking.k8s.io/v1alpha2, the experimental channel),
 * checked as their CRDs check them: parentRefs as for every route, 1 to 16 rules, each
 * with 1 to 16 backendRefs; a TLSRoute's hostnames as an HTTPRoute's.
 */
import type { BackendRef, TCPRoute, TLSRoute } from '../../model/gateway-types.js';
import { readObjList, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { readBackendRef, readHostnames, readParentRefs, routeSpec } from './http-route.js';
import type { Located } from './located.js';

function readL4Rules(r: Reporter, s: Obj): { backendRefs: BackendRef[] }[] {
  const items = readObjList(r, s, 'rules', 'spec');
  if (items.length === 0) r.required('spec.rules');
  if (items.length > 16) r.invalid('spec.rules', items.length, 'spec.rules: Too many: must have at most 16 items');
  return items.map(({ item, path }) => {
    const refs = readObjList(r, item, 'backendRefs', path);
    if (refs.length === 0) r.invalid(`${path}.backendRefs`, [], `${path}.backendRefs in body should have at least 1 items`);
    if (refs.length > 16) r.invalid(`${path}.backendRefs`, refs.length, `${path}.backendRefs: Too many: must have at most 16 items`);
    return { backendRefs: refs.map((ref) => readBackendRef(r, ref.item, ref.path)) };
  });
}

export function readTCPRoute(r: Reporter, object: Obj, located: Located): TCPRoute {
  const s = routeSpec(r, object);
  return { kind: 'TCPRoute', ...located, parentRefs: readParentRefs(r, s), rules: readL4Rules(r, s) };
}

export function readTLSRoute(r: Reporter, object: Obj, located: Located): TLSRoute {
  const s = routeSpec(r, object);
  return { kind: 'TLSRoute', ...located, parentRefs: readParentRefs(r, s), hostnames: readHostnames(r, s), rules: readL4Rules(r, s) };
}
