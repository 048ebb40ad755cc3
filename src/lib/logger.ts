import pino from 'pino';

interface LineSink { write(line: string): unknown }
let target: LineSink = pino.destination({ fd: 1, sync: true });

export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  redact: {
    paths: ['req.headers.authorization', 'headers.authorization', 'writeKey', '*.writeKey', 'secret', '*.secret', 'webhookUrl', '*.webhookUrl', 'ingestKey', '*.ingestKey'],
    censor: '[redacted]',
  },
}, { write: (line: string) => target.write(line) });

/**
 * Sends log lines somewhere else (tests capture them to check that no secret is ever logged) and sets the
 * level; returns a function that restores stdout and the previous level.
 */
export function redirectLogs(sink: LineSink, level: pino.LevelWithSilent = 'debug'): () => void {
  const previous = { target, level: logger.level };
  target = sink;
  logger.level = level;
  return () => {
    target = previous.target;
    logger.level = previous.level;
  };
}
export type Logger = typeof logger;
