/**
 * Host matching as ingress-nginx configures nginx: the host is nginx's `$host` (Host header,
 * lower case, without the port); exact server names first, then wildcards, which
 * ingress-nginx's buildServerName turns into `~^(?<subdomain>[\w-]+)\.foo\.com$`, so
 * `*.foo.com` covers exactly one label; anything else goes to the `_` default server.
 */

const WILDCARD_LABEL = /^[\w-]+$/;

/** nginx's `$host` from a Host header: lower case, no port, no trailing dot, IPv6 brackets kept. */
export function hostFromHeader(header: string | undefined): string {
  if (header === undefined || header === '') return '';
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    end = close < 0 ? end : close + 1;
  } else {
    const colon = header.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && header.charCodeAt(end - 1) === 46 /* . */) end -= 1;
  return header.slice(0, end).toLowerCase();
}

/** The key a one-label wildcard is stored under (`*.foo.com` → `foo.com`), for a server name. */
export function wildcardServerKey(serverName: string): string | undefined {
  return serverName.startsWith('*.') ? serverName.slice(2) : undefined;
}

/** The wildcard key a request host could match (`bar.foo.com` → `foo.com`), if its first label qualifies. */
export function wildcardRequestKey(host: string): string | undefined {
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return undefined;
  return WILDCARD_LABEL.test(host.slice(0, dot)) ? host.slice(dot + 1) : undefined;
}

export interface HostTable<T> {
  readonly exact: ReadonlyMap<string, T>;
  readonly wildcard: ReadonlyMap<string, T>;
}

export function buildHostTable<T>(entries: Iterable<readonly [string, T]>): HostTable<T> {
  const exact = new Map<string, T>();
  const wildcard = new Map<string, T>();
  for (const [name, value] of entries) {
    const key = wildcardServerKey(name);
    if (key === undefined) {
      if (!exact.has(name)) exact.set(name, value);
    } else if (!wildcard.has(key)) {
      wildcard.set(key, value);
    }
  }
  return { exact, wildcard };
}

export type HostMatchKind = 'exact' | 'wildcard' | 'none';

export function lookupHost<T>(table: HostTable<T>, host: string): { value: T; kind: HostMatchKind } | undefined {
  const exact = table.exact.get(host);
  if (exact !== undefined) return { value: exact, kind: 'exact' };
  const key = wildcardRequestKey(host);
  const wild = key === undefined ? undefined : table.wildcard.get(key);
  return wild === undefined ? undefined : { value: wild, kind: 'wildcard' };
}

/**
 * Gateway API wildcards cover one or more labels (`*.foo.com` matches `a.b.foo.com`), and
 * the longest matching suffix wins, as Envoy picks a virtual host.
 */
export function lookupWildcardAnyDepth<T>(table: HostTable<T>, host: string): T | undefined {
  let dot = host.indexOf('.');
  while (dot > 0 && dot < host.length - 1) {
    const found = table.wildcard.get(host.slice(dot + 1));
    if (found !== undefined) return found;
    dot = host.indexOf('.', dot + 1);
  }
  return undefined;
}
