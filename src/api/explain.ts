/**
 * `explain ingress`: which Ingress rule a request would take, and why, without sending it.
 * Query: host, path, scheme (http|https), method, header=K:V (repeatable), cookie=k=v
 * (repeatable), client (the client IP for whitelist-source-range).
 */
import { explainRequest, formatExplanation, type Router } from '../dataplane/ingress/index.js';
import { AksEmuError } from '../errors/index.js';

export function explainIngress(router: Router | undefined, q: URLSearchParams) {
  if (!router) throw new AksEmuError('AKS_EMU_NOT_FOUND', 'the built-in ingress controller is off (ingress.enabled: false / --no-ingress)');
  const host = q.get('host');
  const path = q.get('path') ?? '/';
  if (!host) throw new AksEmuError('AKS_EMU_USAGE', 'explain ingress needs a host (?host=...)');
  if (!path.startsWith('/')) throw new AksEmuError('AKS_EMU_USAGE', `path "${path}" must start with /`);
  const scheme = q.get('scheme') ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') throw new AksEmuError('AKS_EMU_USAGE', `scheme "${scheme}" must be http or https`);
  const headers: Record<string, string> = {};
  for (const h of q.getAll('header')) {
    const i = h.indexOf(':');
    if (i <= 0) throw new AksEmuError('AKS_EMU_USAGE', `header "${h}" must look like Name:value`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const cookies: Record<string, string> = {};
  for (const c of q.getAll('cookie')) {
    const i = c.indexOf('=');
    if (i <= 0) throw new AksEmuError('AKS_EMU_USAGE', `cookie "${c}" must look like name=value`);
    cookies[c.slice(0, i)] = c.slice(i + 1);
  }
  const explanation = explainRequest(router, {
    host,
    path,
    scheme,
    method: q.get('method') ?? 'GET',
    headers,
    cookies,
    ...(q.get('client') ? { clientIp: q.get('client')! } : {}),
  });
  return { explanation, text: formatExplanation(explanation) };
}
