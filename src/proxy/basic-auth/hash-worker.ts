import { Worker } from 'node:worker_threads';

/**
 * Password checks off the event loop: MD5-crypt/apr1 (~2 ms here), SHA-crypt (~10 ms at its default 5000 rounds,
 * more with `rounds=`) and bcrypt (~70 ms at cost 10) run in one worker thread, so a login, or a stream of wrong
 * passwords, never stalls the requests in flight. (bcryptjs's own "async" compare yields through process.nextTick,
 * which lets no I/O run: measured, it held the event loop for its whole ~70 ms.) The thread starts on the first
 * check, keeps the process alive only while a check is under way, and is started again if it dies; checks it had
 * not answered are refused.
 */

interface Pending {
  readonly resolve: (ok: boolean) => void;
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();

/**
 * The thread: hash-worker-main beside this module. Run from tsc's output (the image) it is a .js file; run through
 * tsx (`npm start`, the tests) it is a .ts file, and a worker does not get the --import tsx hooks on Node 20
 * (ERR_UNKNOWN_FILE_EXTENSION): a two-line bootstrap registers them in the thread first.
 */
function startThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./hash-worker-main.js', import.meta.url));
  const main = JSON.stringify(new URL('./hash-worker-main.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${main}); });`, { eval: true });
}

function refuseAll(): void {
  for (const p of pending.values()) p.resolve(false);
  pending.clear();
}

function thread(): Worker {
  if (worker !== undefined) return worker;
  const w = startThread();
  w.on('message', (answer: { id: number; ok: boolean }) => {
    const p = pending.get(answer.id);
    pending.delete(answer.id);
    if (pending.size === 0) w.unref();
    p?.resolve(answer.ok === true);
  });
  const gone = (): void => {
    if (worker === w) worker = undefined;
    refuseAll();
  };
  w.on('error', gone);
  w.on('exit', gone);
  w.unref(); // held (ref) only while a check is under way: an idle thread never keeps the process alive
  worker = w;
  return w;
}

/** Checks `password` against `hash` in the worker thread; false for any failure (never rejects). */
export function verifyInWorker(password: string, hash: string): Promise<boolean> {
  return new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, { resolve });
    try {
      const w = thread();
      w.ref();
      w.postMessage({ id, password, hash });
    } catch {
      pending.delete(id);
      resolve(false);
    }
  });
}

/** Stops the thread (tests; the process exits without it anyway). */
export async function stopHashWorker(): Promise<void> {
  const w = worker;
  worker = undefined;
  refuseAll();
  await w?.terminate();
}
