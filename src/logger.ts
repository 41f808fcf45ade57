import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * One pino root for the process. JSON lines by default (for log collectors); readable lines when stdout is a
 * terminal or BERTH_LOG_FORMAT=pretty (decided by the composition root and passed in); colours unless NO_COLOR.
 */
export function createLogger(level: LogLevel, pretty: boolean, color = true): Logger {
  if (pretty) {
    return pino({
      level,
      base: undefined,
      transport: { target: 'pino-pretty', options: { colorize: color, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
