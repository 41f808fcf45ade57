import type { ContainerInfo, ContainerNetwork, ProxyPlacement } from './container-info.ts';

/**
 * The one address berth reaches a container on, following nginx-proxy's walk (reference 1.5 "Network
 * reachability"): networks in name order, `ingress` (Swarm's routing mesh) skipped, the first network berth shares
 * with the container wins and later ones are ignored, so a container on several networks is one backend, not
 * several. Pure.
 */
export interface Address {
  readonly address: string;
  readonly network: string;
}

export interface AddressOptions {
  /** PREFER_IPV6_NETWORK: on a dual-stack network use the IPv6 address; never both. */
  readonly preferIpv6?: boolean;
}

/** A host-network backend listens on the host itself. */
function hostNetworkAddress(placement: ProxyPlacement | null): Address | string {
  if (placement === null || placement.hostNetwork) return { address: '127.0.0.1', network: 'host' };
  // From a container, the host is reached through the gateway of berth's first non-internal network that has one
  // (an --internal network has a gateway address, but no route out of it).
  const gw = placement.networks.find((n) => n.gateway !== '' && n.internal !== true);
  return gw ? { address: gw.gateway, network: 'host' } : 'it uses the host network and berth has no non-internal network whose gateway reaches the host';
}

export function selectAddress(container: ContainerInfo, placement: ProxyPlacement | null, options: AddressOptions = {}): Address | string {
  if (container.networkMode === 'host') return hostNetworkAddress(placement);
  const candidates = container.networks.filter((n) => n.name !== 'ingress' && (n.ipAddress !== '' || n.ipv6Address !== ''));
  const reachable = (n: ContainerNetwork): boolean =>
    placement === null || placement.hostNetwork || placement.networks.some((p) => p.name === n.name);
  const chosen = candidates.find(reachable);
  if (chosen) {
    const v6First = options.preferIpv6 === true && chosen.ipv6Address !== '';
    return { address: v6First || chosen.ipAddress === '' ? chosen.ipv6Address : chosen.ipAddress, network: chosen.name };
  }
  if (candidates.length === 0) {
    return `it has no address on any network (network mode ${container.networkMode}; a stopping container loses its addresses)`;
  }
  const names = candidates.map((n) => n.name).join(', ');
  const mine = placement?.networks.map((n) => n.name).join(', ') || 'none';
  return `it shares no network with berth (container networks: ${names}; berth's networks: ${mine}); connect them with docker network connect`;
}
