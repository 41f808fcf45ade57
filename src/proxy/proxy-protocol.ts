import { isIPv4, isIPv6 } from 'node:net';

/**
 * PROXY protocol headers (HAProxy's spec, versions 1 and 2), as nginx's `listen ... proxy_protocol` reads them:
 * the header is the first thing on the connection, before any HTTP byte. Pure parsing of a prefix of the
 * connection's bytes: `incomplete` until the whole header is there, `invalid` as soon as it cannot become a valid one.
 *
 * `PROXY UNKNOWN` (v1), the LOCAL command and address families other than TCP/UDP over IPv4/IPv6 (v2) are valid
 * headers without addresses: the connection keeps its own (nginx does the same). v2 TLVs are skipped.
 */

export interface ProxyAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `length`: bytes of the header; `addresses` undefined when the connection keeps its own. */
  | { readonly kind: 'header'; readonly version: 1 | 2; readonly length: number; readonly addresses: ProxyAddresses | undefined };

/** The v1 spec's longest line, CRLF included. */
export const V1_MAX_LENGTH = 107;
/** Bytes of v2 address data + TLVs accepted (nginx reads the header into a small buffer too). */
export const V2_MAX_PAYLOAD = 2048;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const INCOMPLETE: ProxyHeader = Object.freeze({ kind: 'incomplete' });

function invalid(reason: string): ProxyHeader {
  return { kind: 'invalid', reason };
}

/** True while `data` is a prefix of `expected` (or starts with it). */
function startsLike(data: Buffer, expected: Buffer): boolean {
  const n = Math.min(data.length, expected.length);
  return data.subarray(0, n).equals(expected.subarray(0, n));
}

/** Reads a PROXY header at the start of `data`. */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  if (data.length === 0) return INCOMPLETE;
  if (startsLike(data, V1_PREFIX)) return parseV1(data);
  if (startsLike(data, V2_SIGNATURE)) return parseV2(data);
  return invalid('no PROXY protocol header');
}

const PORT = /^(0|[1-9]\d{0,4})$/;

function port(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.subarray(0, V1_MAX_LENGTH).indexOf('\r\n', 0, 'latin1');
  if (end === -1) return data.length >= V1_MAX_LENGTH ? invalid('PROXY v1 line too long') : INCOMPLETE;
  const line = data.toString('latin1', 0, end);
  const length = end + 2;
  const fields = line.split(' ');
  const family = fields[1];
  if (family === 'UNKNOWN') return { kind: 'header', version: 1, length, addresses: undefined };
  if (fields.length !== 6 || (family !== 'TCP4' && family !== 'TCP6')) return invalid(`malformed PROXY v1 line ${JSON.stringify(line)}`);
  const [, , source = '', destination = '', sourcePortText = '', destinationPortText = ''] = fields;
  const isFamily = family === 'TCP4' ? isIPv4 : isIPv6;
  const sourcePort = port(sourcePortText);
  const destinationPort = port(destinationPortText);
  if (!isFamily(source) || !isFamily(destination) || sourcePort === undefined || destinationPort === undefined) {
    return invalid(`malformed PROXY v1 line ${JSON.stringify(line)}`);
  }
  return { kind: 'header', version: 1, length, addresses: { sourceAddress: source, sourcePort, destinationAddress: destination, destinationPort } };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.length < 16) return INCOMPLETE;
  const versionCommand = data[12] ?? 0;
  if (versionCommand >> 4 !== 2) return invalid('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('unknown PROXY v2 command');
  const payload = data.readUInt16BE(14);
  if (payload > V2_MAX_PAYLOAD) return invalid('PROXY v2 header too long');
  const length = 16 + payload;
  if (data.length < length) return INCOMPLETE;
  // LOCAL: health checks of the load balancer itself; the connection's own addresses are the real ones.
  if (command === 0) return { kind: 'header', version: 2, length, addresses: undefined };
  const family = (data[13] ?? 0) >> 4;
  const body = data.subarray(16, length);
  if (family === 1) {
    if (body.length < 12) return invalid('PROXY v2 IPv4 address block too short');
    return { kind: 'header', version: 2, length, addresses: addresses(ipv4(body, 0), ipv4(body, 4), body.readUInt16BE(8), body.readUInt16BE(10)) };
  }
  if (family === 2) {
    if (body.length < 36) return invalid('PROXY v2 IPv6 address block too short');
    return { kind: 'header', version: 2, length, addresses: addresses(ipv6(body, 0), ipv6(body, 16), body.readUInt16BE(32), body.readUInt16BE(34)) };
  }
  // AF_UNSPEC, AF_UNIX: nothing usable as a client address.
  return { kind: 'header', version: 2, length, addresses: undefined };
}

function addresses(sourceAddress: string, destinationAddress: string, sourcePort: number, destinationPort: number): ProxyAddresses {
  return { sourceAddress, sourcePort, destinationAddress, destinationPort };
}

function ipv4(data: Buffer, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

/** RFC 5952 text form (lower case, longest run of two or more zero groups as `::`); IPv4-mapped as `::ffff:a.b.c.d`. */
export function ipv6(data: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4(data, at + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Builds a v1 header (tests, and anyone who needs to speak it). */
export function proxyHeaderV1(a: ProxyAddresses | undefined): Buffer {
  if (a === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const family = isIPv4(a.sourceAddress) ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${a.sourceAddress} ${a.destinationAddress} ${a.sourcePort} ${a.destinationPort}\r\n`, 'latin1');
}

/** Builds a v2 header: PROXY over TCP with addresses, LOCAL without; `tlvs` appended as given. */
export function proxyHeaderV2(a: ProxyAddresses | undefined, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  if (a === undefined) {
    const head = Buffer.alloc(16);
    V2_SIGNATURE.copy(head);
    head[12] = 0x20;
    head.writeUInt16BE(tlvs.length, 14);
    return Buffer.concat([head, tlvs]);
  }
  const v4 = isIPv4(a.sourceAddress);
  const block = Buffer.alloc(v4 ? 12 : 36);
  const addressBytes = v4 ? 4 : 16;
  writeAddress(block, 0, a.sourceAddress, v4);
  writeAddress(block, addressBytes, a.destinationAddress, v4);
  block.writeUInt16BE(a.sourcePort, 2 * addressBytes);
  block.writeUInt16BE(a.destinationPort, 2 * addressBytes + 2);
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head);
  head[12] = 0x21;
  head[13] = v4 ? 0x11 : 0x21;
  head.writeUInt16BE(block.length + tlvs.length, 14);
  return Buffer.concat([head, block, tlvs]);
}

function writeAddress(target: Buffer, at: number, address: string, v4: boolean): void {
  if (v4) {
    address.split('.').forEach((part, i) => (target[at + i] = Number(part)));
    return;
  }
  const [left = '', right] = address.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  groups.forEach((g, i) => target.writeUInt16BE(parseInt(g, 16), at + 2 * i));
}
