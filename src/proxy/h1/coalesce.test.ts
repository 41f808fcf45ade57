import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { coalesce, MAX_BATCH } from './coalesce.ts';

/** Real loopback sockets: what the peer receives, and when. */
describe('coalesce (write coalescing per event-loop turn)', () => {
  let server: Server;
  const received = new Map<number, string>();
  let next = 0;

  before(async () => {
    server = createServer((socket) => {
      // The first byte the client sends is its id.
      let id: number | undefined;
      socket.on('data', (chunk: Buffer) => {
        let data = chunk.toString('latin1');
        if (id === undefined) {
          id = data.charCodeAt(0);
          data = data.slice(1);
        }
        received.set(id, (received.get(id) ?? '') + data);
      });
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(() => {
    server.close();
  });

  async function client(): Promise<{ socket: Socket; id: number; got: () => string }> {
    const id = next++;
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    socket.write(String.fromCharCode(id));
    await waitFor(() => received.has(id));
    return { socket, id, got: () => received.get(id) ?? '' };
  }

  async function waitFor(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
    assert.ok(condition(), 'timed out');
  }

  it('holds a write to the end of the turn, then sends it in order with later writes', async () => {
    const { socket, got } = await client();
    coalesce(socket).write('one ');
    socket.write('two');
    assert.equal(socket.writableCorked, 1);
    assert.equal(socket.writableLength, 7, 'held, and counted for backpressure');
    await nextTurn();
    assert.equal(socket.writableCorked, 0);
    await waitFor(() => got() === 'one two');
    socket.destroy();
  });

  it('corks a socket once per turn however often it is asked', async () => {
    const { socket, got } = await client();
    coalesce(socket).write('a');
    coalesce(socket).write('b');
    assert.equal(socket.writableCorked, 1);
    await nextTurn();
    assert.equal(socket.writableCorked, 0);
    await waitFor(() => got() === 'ab');
    socket.destroy();
  });

  it("leaves a caller's own cork alone: its uncork sends", async () => {
    const { socket, got } = await client();
    socket.cork();
    coalesce(socket).write('x');
    socket.uncork();
    assert.equal(socket.writableLength, 0, 'sent by the caller, not held for the turn');
    await waitFor(() => got() === 'x');
    socket.destroy();
  });

  it('end() sends what is held at once; a socket destroyed while held is skipped', async () => {
    const a = await client();
    const b = await client();
    coalesce(a.socket).write('bye');
    a.socket.end();
    coalesce(b.socket).write('lost');
    b.socket.destroy();
    await nextTurn();
    await waitFor(() => a.got() === 'bye');
    assert.equal(b.got(), '');
  });

  it(`sends the first sockets early when ${MAX_BATCH} are waiting`, async () => {
    const clients = await Promise.all(Array.from({ length: MAX_BATCH + 1 }, () => client()));
    for (const c of clients) coalesce(c.socket).write('z');
    assert.equal(clients[0]?.socket.writableCorked, 0, 'the full batch went out when the next socket came');
    assert.equal(clients[MAX_BATCH]?.socket.writableCorked, 1);
    await nextTurn();
    assert.ok(clients.every((c) => c.socket.writableCorked === 0));
    await waitFor(() => clients.every((c) => c.got() === 'z'));
    for (const c of clients) c.socket.destroy();
  });
});
