/**
 * The library's view of one Gateway: its status as the built-in controller wrote it, the
 * LB frontend address, and a URL per listener that reaches it from the host.
 */
import type { GatewayStatus } from './cluster/gateway/types.js';
import type { Snapshot } from './cluster/snapshot.js';
import { AksEmuError } from './errors/index.js';
import type { Gateway } from './model/gateway-types.js';
import type { Manifests } from './model/types.js';

export interface GatewayHandle {
  readonly gateway: Gateway;
  readonly status: GatewayStatus;
  /** status.addresses[0]: the frontend IP of the Gateway's LoadBalancer Service; undefined while pending. */
  readonly address: string | undefined;
  /** `http://IP[:port]/path` (https for an HTTPS listener) for a listener given by name or port; the first by default. */
  url(listener?: string | number, path?: string): string;
}

export function gatewayHandle(snapshot: Snapshot, manifests: Manifests, name: string, namespace: string): GatewayHandle {
  const gateway = manifests.gatewayApi?.gateways.find((g) => g.metadata.name === name && g.metadata.namespace === namespace);
  if (!gateway) throw new AksEmuError('AKS_EMU_NOT_FOUND', `gateways.gateway.networking.k8s.io "${name}" not found in namespace "${namespace}"`);
  const status = snapshot.gateway?.gatewayStatuses[`${namespace}/${name}`];
  if (!status) {
    throw new AksEmuError(
      'AKS_EMU_NOT_FOUND',
      `gateway "${namespace}/${name}" has no status: GatewayClass "${gateway.gatewayClassName}" is not served by aks-emu`,
    );
  }
  const address = status.addresses[0]?.value;
  return {
    gateway,
    status,
    address,
    url(listener, path = '/') {
      const l = listener === undefined ? gateway.listeners[0] : gateway.listeners.find((x) => x.name === listener || x.port === listener);
      if (!l) throw new AksEmuError('AKS_EMU_NOT_FOUND', `gateway "${namespace}/${name}" has no listener ${String(listener)}`);
      if (address === undefined)
        throw new AksEmuError('AKS_EMU_NOT_FOUND', `gateway "${namespace}/${name}" has no address yet (its LoadBalancer Service is pending)`);
      const scheme = l.protocol === 'HTTPS' ? 'https' : 'http';
      const port = (scheme === 'http' && l.port === 80) || (scheme === 'https' && l.port === 443) ? '' : `:${l.port}`;
      return `${scheme}://${address}${port}${path}`;
    },
  };
}
