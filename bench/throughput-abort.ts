/**
 * Aborting clients for the RSS-flatness run of bench/throughput: `concurrency` loops that each open a connection,
 * send a request with the bench Host header and cut the connection midway, alternately
 *   - right after writing the request (before the response head: the proxy's upstream request must be aborted), and
 *   - after a random 5-200 ms of a slow (rate-limited) 1 MB body (the http-proxy leak case).
 *
 *   node --import tsx bench/throughput-abort.ts <port> <seconds> [concurrency]
 *
 * Prints one JSON line { aborted, completed, errors } at the end.
 */
import { connect } from 'node:net';
import { BENCH_HOST } from './throughput-servers.ts';

const [portArg = '0', secondsArg = '10', concurrencyArg = '16'] = process.argv.slice(2);
const port = Number(portArg);
const until = Date.now() + Number(secondsArg) * 1000;
let aborted = 0;
let completed = 0;
let errors = 0;

function once(n: number): Promise<void> {
  return new Promise((resolve) => {
    const early = n % 2 === 0;
    const path = early ? '/' : '/big';
    const socket = connect({ host: '127.0.0.1', port });
    let timer: NodeJS.Timeout | undefined;
    socket.on('error', () => {
      errors++;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${BENCH_HOST}\r\n\r\n`);
      if (early) {
        setImmediate(() => {
          aborted++;
          socket.destroy();
        });
        return;
      }
      timer = setTimeout(() => {
        aborted++;
        socket.destroy();
      }, 5 + Math.floor(Math.random() * 195));
    });
    socket.on('end', () => {
      completed++;
      socket.destroy();
    });
    socket.resume();
  });
}

async function loop(id: number): Promise<void> {
  let n = id;
  while (Date.now() < until) await once(n++);
}

await Promise.all(Array.from({ length: Number(concurrencyArg) }, (_, i) => loop(i)));
console.log(JSON.stringify({ aborted, completed, errors }));
