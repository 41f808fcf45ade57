import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Bytes } from './nginx-variables.ts';

/**
 * NETWORK_ACCESS=internal: nginx-proxy's network_internal.conf allows 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12,
 * 192.168.0.0/16, ::1 and fc00::/7, and denies everything else (403). `address` is the client address as
 * connectionInfo gives it (IPv4-mapped IPv6 already unwrapped; the PROXY protocol's source when enabled).
 */
export function isInternalAddress(address: string): boolean {
  if (isIPv4(address)) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (!isIPv6(address)) return false;
  const bytes = ipv6Bytes(address);
  if (((bytes[0] ?? 0) & 0xfe) === 0xfc) return true;
  return bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1;
}
