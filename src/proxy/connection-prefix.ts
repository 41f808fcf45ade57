import type { Socket } from 'node:net';
import { recordConnectionInfo } from './connection-info.ts';
import { parseProxyHeader } from './proxy-protocol.ts';
import { clientAddress } from './request-target.ts';

/**
 * What a listener reads on a new connection before any server sees it: the PROXY protocol header when
 * ENABLE_PROXY_PROTOCOL is on (its addresses are recorded with recordConnectionInfo), then just enough bytes to tell
 * HTTP/2 with prior knowledge (h2c: the 24-byte connection preface) from HTTP/1.x. The bytes read after the header
 * are put back (`unshift`) and the socket is left paused, ready for `server.emit('connection', socket)`.
 *
 * A connection without a valid PROXY header, or that sends nothing decisive within the timeout, is destroyed
 * without a response (nginx closes such connections the same way).
 */

/** RFC 9113 section 3.4: what an HTTP/2 client with prior knowledge sends first. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type ConnectionKind = 'http1' | 'http2';

export interface PrefixOptions {
  readonly proxyProtocol: boolean;
  /** Time allowed for the PROXY header and the first request bytes (client_header_timeout). */
  readonly timeoutMs: number;
  /** Why a connection was dropped (debug logs). */
  readonly onRejected?: (reason: string) => void;
}

/** The protocol to hand the socket to, or undefined when the connection was closed here. */
export function readConnectionPrefix(socket: Socket, options: PrefixOptions): Promise<ConnectionKind | undefined> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let headerRead = !options.proxyProtocol;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const reject = (reason: string): void => {
      cleanup();
      options.onRejected?.(reason);
      socket.destroy();
      resolve(undefined);
    };
    const handOff = (kind: ConnectionKind): void => {
      cleanup();
      socket.pause();
      if (buffered.length > 0) socket.unshift(buffered);
      resolve(kind);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!headerRead) {
        const header = parseProxyHeader(buffered);
        if (header.kind === 'incomplete') return;
        if (header.kind === 'invalid') return reject(header.reason);
        const a = header.addresses;
        if (a !== undefined) {
          recordConnectionInfo(socket, {
            clientAddress: clientAddress(a.sourceAddress),
            clientPort: a.sourcePort,
            localPort: socket.localPort ?? 0,
            proxyServerPort: a.destinationPort,
          });
        }
        buffered = buffered.subarray(header.length);
        headerRead = true;
      }
      if (buffered.length === 0) return;
      const n = Math.min(buffered.length, H2_PREFACE.length);
      if (!buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) handOff('http1');
      else if (n === H2_PREFACE.length) handOff('http2');
    };
    const onEnd = (): void => reject(headerRead ? 'closed before a request' : 'closed before a PROXY protocol header');
    const onError = (err: Error): void => reject(err.message);
    const timer = setTimeout(() => reject(headerRead ? 'no request in time' : 'no PROXY protocol header in time'), options.timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}
