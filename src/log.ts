// JSON logs (winston), one line per record, with the fields a reconcile adds (key, generation,
// reconcileId) on every line it writes.
import winston from 'winston';

export type Logger = winston.Logger;

export function makeLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    defaultMeta: { component: 'irsa-operator' },
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
