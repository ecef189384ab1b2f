/**
 * Kubernetes-shaped lists (from the admin API) → the tables kubectl prints for them.
 * Only the fields kubectl's printers read are used, so the output matches `kubectl get`.
 */
import { age, formatTable } from './table.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- these read API JSON */
type Obj = any;

export type Wide = boolean;

export function withNamespace(allNamespaces: boolean, headers: string[], rows: string[][], items: Obj[]): string {
  if (!allNamespaces) return formatTable(headers, rows);
  return formatTable(
    ['NAMESPACE', ...headers],
    rows.map((r, i) => [items[i].metadata.namespace ?? '', ...r]),
  );
}

/** `80:31234/TCP,443:30443/TCP` */
export function servicePorts(svc: Obj): string {
  const ports: Obj[] = svc.spec.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
}

export function externalIP(svc: Obj): string {
  switch (svc.spec.type) {
    case 'LoadBalancer': {
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname);
      return ips.length ? ips.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName;
    default:
      return '<none>';
  }
}

function selectorText(sel: Record<string, string> | undefined): string {
  const entries = Object.entries(sel ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

export function printServices(list: Obj, all: boolean, wide: Wide): string {
  const items: Obj[] = list.items;
  if (items.length === 0) return 'No resources found';
  const headers = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', ...(wide ? ['SELECTOR'] : [])];
  const rows = items.map((s) => [
    s.metadata.name,
    s.spec.type,
    s.spec.type === 'ExternalName' ? '<none>' : s.spec.clusterIP,
    externalIP(s),
    servicePorts(s),
    age(s.metadata.creationTimestamp),
    ...(wide ? [selectorText(s.spec.selector)] : []),
  ]);
  return withNamespace(all, headers, rows, items);
}

/**
 * kubectl's STATUS column (printPod in pkg/printers/internalversion): the phase, replaced
 * by the reason of the first container (kubectl walks them backwards, the first one wins) that is waiting or terminated (CrashLoopBackOff,
 * ContainerCreating, Completed, Error), or Signal:N / ExitCode:N without one.
 */
function podStatusText(p: Obj): string {
  let reason: string = p.status.reason ?? p.status.phase;
  for (const c of (p.status.containerStatuses ?? []) as Obj[]) {
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated;
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated) reason = terminated.reason || (terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`);
    else continue;
    break;
  }
  return reason;
}

/** kubectl's RESTARTS: the sum, and `(Ns ago)` of the last restart when there was one. */
function restartsText(statuses: readonly Obj[]): string {
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const finished = statuses
    .map((c) => c.lastState?.terminated?.finishedAt)
    .filter((t): t is string => typeof t === 'string')
    .sort();
  const last = finished[finished.length - 1];
  return restarts > 0 && last ? `${restarts} (${age(last)} ago)` : String(restarts);
}

export function printPods(list: Obj, all: boolean, wide: Wide): string {
  const items: Obj[] = list.items;
  if (items.length === 0) return 'No resources found';
  const headers = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : []), 'KIND'];
  const rows = items.map((p) => {
    const statuses: Obj[] = p.status.containerStatuses ?? [];
    return [
      p.metadata.name,
      `${statuses.filter((c) => c.ready).length}/${statuses.length}`,
      podStatusText(p),
      restartsText(statuses),
      age(p.metadata.creationTimestamp),
      ...(wide ? [p.status.podIP ?? '<none>', p.spec.nodeName ?? '<none>', '<none>', '<none>'] : []),
      p.metadata.annotations?.['aks-emu.io/pod-kind'] ?? '<unknown>',
    ];
  });
  return withNamespace(all, headers, rows, items);
}

export function printNodes(list: Obj, wide: Wide): string {
  const items: Obj[] = list.items;
  const headers = [
    'NAME',
    'STATUS',
    'ROLES',
    'AGE',
    'VERSION',
    ...(wide ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'] : []),
  ];
  const rows = items.map((n) => {
    const ready = (n.status.conditions ?? []).find((c: Obj) => c.type === 'Ready');
    const internal = (n.status.addresses ?? []).find((a: Obj) => a.type === 'InternalIP');
    return [
      n.metadata.name,
      ready?.status === 'True' ? 'Ready' : 'NotReady',
      '<none>',
      age(n.metadata.creationTimestamp),
      n.status.nodeInfo.kubeletVersion,
      ...(wide ? [internal?.address ?? '<none>', '<none>', n.status.nodeInfo.osImage, 'aks-emu', n.status.nodeInfo.containerRuntimeVersion] : []),
    ];
  });
  return formatTable(headers, rows);
}

export function printEndpointSlices(list: Obj, all: boolean): string {
  const items: Obj[] = list.items;
  if (items.length === 0) return 'No resources found';
  const rows = items.map((s) => {
    const ports: Obj[] = s.ports ?? [];
    const addresses: string[] = (s.endpoints ?? []).flatMap((e: Obj) => e.addresses);
    const shown = addresses.slice(0, 3).join(',');
    return [
      s.metadata.name,
      s.addressType,
      ports.length ? ports.map((p) => String(p.port ?? '<unset>')).join(',') : '<unset>',
      addresses.length === 0 ? '<unset>' : addresses.length > 3 ? `${shown} + ${addresses.length - 3} more...` : shown,
      age(s.metadata.creationTimestamp),
    ];
  });
  return withNamespace(all, ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], rows, items);
}

/** kubectl's Ingress columns: CLASS, HOSTS (`*` for host-less rules), ADDRESS, PORTS (443 with TLS). */
export function printIngresses(list: Obj, all: boolean): string {
  const items: Obj[] = list.items;
  if (items.length === 0) return 'No resources found';
  const rows = items.map((i) => {
    const hosts = [...new Set((i.spec.rules ?? []).map((r: Obj) => r.host ?? '*'))] as string[];
    const address = (i.status?.loadBalancer?.ingress ?? []).map((x: Obj) => x.ip ?? x.hostname).join(',');
    return [
      i.metadata.name,
      i.spec.ingressClassName ?? '<none>',
      hosts.length ? hosts.join(',') : '*',
      address,
      i.spec.tls?.length ? '80, 443' : '80',
      age(i.metadata.creationTimestamp),
    ];
  });
  return withNamespace(all, ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'], rows, items);
}

/** aks-emu's own view: what `az network lb show` would tell, with live probe states. */
export function printLoadBalancers(list: Obj, wide: Wide): string {
  const rows: string[][] = [];
  for (const lb of list.items as Obj[]) {
    for (const rule of lb.loadBalancingRules as Obj[]) {
      const probe = (lb.probes as Obj[]).find((p) => p.name === rule.probe);
      const backends = probe
        ? (probe.backends as Obj[]).map((b) => `${shortNode(b.node)}:${b.settled === false ? 'unknown' : b.state}`).join(',')
        : (lb.backendAddressPools[0].nodes as string[]).map((n) => `${shortNode(n)}:no-probe`).join(',');
      rows.push([
        lb.name,
        rule.name,
        rule.frontend,
        rule.service,
        probe ? `${probe.protocol}:${probe.port}${probe.requestPath ? probe.requestPath : ''}` : '<none>',
        backends,
        ...(wide ? [rule.loadDistribution, `${rule.idleTimeoutInMinutes}m`, rule.enableTcpReset ? 'reset' : 'drop', rule.enableFloatingIP ? 'on' : 'off'] : []),
      ]);
    }
  }
  if (rows.length === 0) return 'No load balancer rules (no Service of type LoadBalancer)';
  return formatTable(
    ['LOADBALANCER', 'RULE', 'FRONTEND', 'SERVICE', 'PROBE', 'BACKENDS', ...(wide ? ['DISTRIBUTION', 'IDLE', 'ON-IDLE', 'FLOATING-IP'] : [])],
    rows,
  );
}

/** `aks-nodepool1-12345678-vmss000000` → `vmss000000`: the part that differs. */
function shortNode(name: string): string {
  const m = /-(vmss[0-9a-z]+)$/.exec(name);
  return m ? m[1]! : name;
}
