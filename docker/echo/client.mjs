// A one-shot HTTP client inside the image, for tests that need a client somewhere other than the host (for
// example on a network whose addresses are not private, to be an "external" client of NETWORK_ACCESS=internal):
//   node /app/client.mjs <url> [host header]
// prints { status, headers, body } as JSON on stdout; a connection error prints { error } and exits 1.
import { request } from 'node:http';

const [url, host] = process.argv.slice(2);
if (!url) {
  console.error('usage: node /app/client.mjs <url> [host header]');
  process.exit(2);
}
const req = request(url, { headers: host ? { host } : {}, timeout: 10_000 }, (res) => {
  const chunks = [];
  res.on('data', (chunk) => chunks.push(chunk));
  res.on('end', () => {
    console.log(JSON.stringify({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
  });
});
req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
req.on('error', (err) => {
  console.log(JSON.stringify({ error: err.message }));
  process.exit(1);
});
req.end();
