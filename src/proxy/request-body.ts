import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/**
 * The client's request body as undici sees it for ONE attempt. Handing `req` itself to undici would let a failed
 * attempt destroy it (undici destroys the body on error, and destroying an unfinished IncomingMessage destroys the
 * client socket), which rules out retrying and even answering 502. This wrapper reads `req` only when undici pulls
 * (after the connection is up), records whether it did (`touched`: then the body cannot be replayed), and detaches
 * without harming `req` when destroyed. Backpressure is kept: `req` is paused whenever undici's buffer is full.
 */
export class RequestBody extends Readable {
  readonly #req: IncomingMessage;
  #touched = false;

  constructor(req: IncomingMessage) {
    super();
    this.#req = req;
  }

  /** Whether any part of the body was read for this attempt. */
  get touched(): boolean {
    return this.#touched;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.#req.pause();
  };

  readonly #onEnd = (): void => {
    this.push(null);
  };

  readonly #onClose = (): void => {
    if (!this.#req.complete) this.destroy(new Error('client closed the connection before its request body was complete'));
  };

  override _read(): void {
    if (!this.#touched) {
      this.#touched = true;
      this.#req.on('data', this.#onData);
      this.#req.once('end', this.#onEnd);
      this.#req.once('close', this.#onClose);
      this.#req.on('error', this.#onClose);
    }
    this.#req.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#req.off('data', this.#onData);
    this.#req.off('end', this.#onEnd);
    this.#req.off('close', this.#onClose);
    this.#req.off('error', this.#onClose);
    // A body read in part and abandoned (early response, failed attempt): let node:http discard the rest, as nginx does.
    if (this.#touched && !this.#req.complete) this.#req.resume();
    callback(err);
  }
}
