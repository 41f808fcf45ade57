import { existsSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

const VIRTUAL = /^(docker|br-|veth|virbr|cni|flannel|cali|weave|lo)/;

/**
 * The host address for nip.io names when BERTH_HOST_IP is not set: the first non-internal IPv4 address of a real
 * interface (Docker bridges and veths skipped). Inside a container the host's address cannot be seen, so 127.0.0.1
 * (names that work from the host itself) is the answer, and the caller says so.
 */
export function detectHostIp(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
  inContainer: boolean = existsSync('/.dockerenv'),
): { ip: string; detected: boolean } {
  if (inContainer) return { ip: '127.0.0.1', detected: false };
  for (const name of Object.keys(interfaces).sort()) {
    if (VIRTUAL.test(name)) continue;
    const v4 = (interfaces[name] ?? []).find((i) => i.family === 'IPv4' && !i.internal);
    if (v4) return { ip: v4.address, detected: true };
  }
  return { ip: '127.0.0.1', detected: false };
}
