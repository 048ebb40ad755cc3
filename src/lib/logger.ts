import pino from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  redact: {
    paths: ['req.headers.authorization', 'headers.authorization', 'writeKey', '*.writeKey', 'secret', '*.secret', 'webhookUrl', '*.webhookUrl', 'ingestKey', '*.ingestKey'],
    censor: '[redacted]',
  },
});
export type Logger = typeof logger;
