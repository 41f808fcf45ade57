import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv6, parseProxyHeader, proxyHeaderV1, proxyHeaderV2, V1_MAX_LENGTH } from './proxy-protocol.ts';

const V4 = { sourceAddress: '203.0.113.7', sourcePort: 51000, destinationAddress: '198.51.100.1', destinationPort: 443 };
const V6 = { sourceAddress: '2001:db8::7', sourcePort: 51000, destinationAddress: '2001:db8::1', destinationPort: 80 };

function parse(text: string | Buffer): ReturnType<typeof parseProxyHeader> {
  return parseProxyHeader(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
}

describe('parseProxyHeader v1', () => {
  it('reads TCP4 and TCP6 lines, and the header length', () => {
    const line = 'PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\r\n';
    assert.deepEqual(parse(`${line}GET / HTTP/1.1\r\n`), { kind: 'header', version: 1, length: line.length, addresses: V4 });
    const h = parse('PROXY TCP6 2001:db8::7 2001:db8::1 51000 80\r\n');
    assert.equal(h.kind === 'header' && h.addresses?.sourceAddress, '2001:db8::7');
  });

  it('keeps the connection addresses for PROXY UNKNOWN (with or without the rest of the line)', () => {
    assert.deepEqual(parse('PROXY UNKNOWN\r\n'), { kind: 'header', version: 1, length: 15, addresses: undefined });
    assert.equal(parse('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n').kind, 'header');
  });

  it('is incomplete until the CRLF, on any prefix of a valid line', () => {
    const line = 'PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\r\n';
    for (let n = 1; n < line.length; n++) assert.equal(parse(line.slice(0, n)).kind, 'incomplete', `prefix of ${n} bytes`);
  });

  it('rejects malformed lines', () => {
    for (const bad of [
      'PROXY TCP4 203.0.113.7 198.51.100.1 51000\r\n',
      'PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n',
      'PROXY TCP6 203.0.113.7 198.51.100.1 1 2\r\n',
      'PROXY TCP4 203.0.113.7 198.51.100.1 65536 2\r\n',
      'PROXY TCP4 203.0.113.7 198.51.100.1 01 2\r\n',
      'PROXY UDP4 203.0.113.7 198.51.100.1 1 2\r\n',
      'PROXY  TCP4 203.0.113.7 198.51.100.1 1 2\r\n',
    ]) {
      assert.equal(parse(bad).kind, 'invalid', bad);
    }
  });

  it('rejects a line longer than 107 bytes without waiting for more', () => {
    assert.equal(parse(`PROXY TCP4 ${'1'.repeat(V1_MAX_LENGTH)}`).kind, 'invalid');
  });

  it('rejects plain HTTP at once', () => {
    assert.equal(parse('GET / HTTP/1.1\r\n').kind, 'invalid');
    assert.equal(parse('G').kind, 'invalid');
    assert.equal(parse('PRI * HTTP/2.0').kind, 'invalid');
  });
});

describe('parseProxyHeader v2', () => {
  it('reads IPv4 and IPv6 addresses', () => {
    const v4 = proxyHeaderV2(V4);
    assert.deepEqual(parse(Buffer.concat([v4, Buffer.from('GET')])), { kind: 'header', version: 2, length: 28, addresses: V4 });
    assert.deepEqual(parse(proxyHeaderV2(V6)), { kind: 'header', version: 2, length: 52, addresses: V6 });
  });

  it('skips TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP
    const h = parse(proxyHeaderV2(V4, tlv));
    assert.equal(h.kind === 'header' && h.length, 28 + tlv.length);
    assert.deepEqual(h.kind === 'header' && h.addresses, V4);
  });

  it('keeps the connection addresses for LOCAL and for unsupported families', () => {
    assert.deepEqual(parse(proxyHeaderV2(undefined)), { kind: 'header', version: 2, length: 16, addresses: undefined });
    const unix = proxyHeaderV2(V4);
    unix[13] = 0x31; // AF_UNIX stream: the block is not an address berth can use
    const h = parse(unix);
    assert.equal(h.kind, 'header');
    assert.equal(h.kind === 'header' ? h.addresses : 'not a header', undefined);
  });

  it('is incomplete on every prefix', () => {
    const full = proxyHeaderV2(V6);
    for (let n = 1; n < full.length; n++) assert.equal(parse(full.subarray(0, n)).kind, 'incomplete', `prefix of ${n} bytes`);
  });

  it('rejects other versions, unknown commands, short address blocks and oversized headers', () => {
    const version = proxyHeaderV2(V4);
    version[12] = 0x11;
    assert.equal(parse(version).kind, 'invalid');
    const command = proxyHeaderV2(V4);
    command[12] = 0x22;
    assert.equal(parse(command).kind, 'invalid');
    const short = proxyHeaderV2(V4);
    short.writeUInt16BE(4, 14);
    assert.equal(parse(short.subarray(0, 20)).kind, 'invalid');
    const huge = proxyHeaderV2(V4);
    huge.writeUInt16BE(60000, 14);
    assert.equal(parse(huge).kind, 'invalid');
  });
});

describe('ipv6 text form', () => {
  const text = (groups: number[]): string => {
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
    return ipv6(b, 0);
  };
  it('compresses the longest zero run, not single zero groups', () => {
    assert.equal(text([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
    assert.equal(text([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1');
    assert.equal(text([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
    assert.equal(text([0, 0, 0, 0, 0, 0, 0, 0]), '::');
    assert.equal(text([0xfe80, 0, 0, 0, 0, 0, 0, 0]), 'fe80::');
  });
  it('writes IPv4-mapped addresses with a dotted quad', () => {
    assert.equal(text([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]), '::ffff:192.0.2.1');
  });
  it('round-trips through the v1 builder', () => {
    assert.equal(proxyHeaderV1(V6).toString(), 'PROXY TCP6 2001:db8::7 2001:db8::1 51000 80\r\n');
    assert.equal(proxyHeaderV1(undefined).toString(), 'PROXY UNKNOWN\r\n');
  });
});
