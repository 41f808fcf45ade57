/** Errors are values with stable codes; only the composition root decides to exit. Codes are listed in the README. */
export type BerthErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_DOCKER_SOCKET_MISSING'
  | 'ERR_DOCKER_UNAVAILABLE'
  | 'ERR_LISTEN_FAILED'
  | 'ERR_ADMIN_UNREACHABLE'
  | 'ERR_NGINX_CONFIG_INVALID'
  | 'ERR_NGINX_FAILED'
  | 'ERR_TEMPLATE_INVALID';

export class BerthError extends Error {
  readonly code: BerthErrorCode;
  constructor(code: BerthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Exit status for an error that ends a command: 2 for invalid settings (usage), 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  return err instanceof BerthError && err.code === 'ERR_CONFIG_INVALID' ? 2 : 1;
}
