import { parentPort } from 'node:worker_threads';
import { verifyPasswordSync } from './password-hash.ts';

/** The thread side of hash-worker.ts: one password check per message, answered in order. */

interface Job {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

parentPort?.on('message', (job: Job) => {
  parentPort?.postMessage({ id: job.id, ok: verifyPasswordSync(job.password, job.hash) });
});
