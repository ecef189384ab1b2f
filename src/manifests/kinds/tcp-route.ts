/**
 * TCPRoute (gateway.networking.k8s.io/v1alpha2, the experimental channel), checked as its
 * CRD checks it: parentRefs as for every route, 1 to 16 rules, each with 1 to 16 backendRefs.
 */
import type { TCPRoute } from '../../model/gateway-types.js';
import { readObjList, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { readBackendRef, readParentRefs, routeSpec } from './http-route.js';
import type { Located } from './located.js';

export function readTCPRoute(r: Reporter, object: Obj, located: Located): TCPRoute {
  const s = routeSpec(r, object);
  const items = readObjList(r, s, 'rules', 'spec');
  if (items.length === 0) r.required('spec.rules');
  if (items.length > 16) r.invalid('spec.rules', items.length, 'spec.rules: Too many: must have at most 16 items');
  const rules = items.map(({ item, path }) => {
    const refs = readObjList(r, item, 'backendRefs', path);
    if (refs.length === 0) r.invalid(`${path}.backendRefs`, [], `${path}.backendRefs in body should have at least 1 items`);
    if (refs.length > 16) r.invalid(`${path}.backendRefs`, refs.length, `${path}.backendRefs: Too many: must have at most 16 items`);
    return { backendRefs: refs.map((ref) => readBackendRef(r, ref.item, ref.path)) };
  });
  return { kind: 'TCPRoute', ...located, parentRefs: readParentRefs(r, s), rules };
}
