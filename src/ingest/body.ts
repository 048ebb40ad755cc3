import type { Request, Response, NextFunction } from 'express';
import zlib from 'node:zlib';
import { HttpError, jsonSyntaxMessage } from '../http/errors.js';

declare module 'express-serve-static-core' {
  interface Request { rawBody?: Buffer }
}

const JSON_TYPES = /^(application\/(.+\+)?json|text\/plain)\b/i;

/**
 * A lean JSON body reader for the ingest hot path: enforces the size limit on the bytes we actually
 * parse (after gzip/deflate, so a small compressed bomb is stopped early) and keeps the raw bytes
 * for signature checks.
 */
export function readJson(limitBytes: number) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const type = req.headers['content-type'];
    if (type && !JSON_TYPES.test(type)) return next(new HttpError(415, 'unsupported_media_type', `Send JSON (Content-Type: application/json), not ${type}`));
    const declared = Number(req.headers['content-length'] ?? 0);
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity' && declared > limitBytes) return next(tooLarge(limitBytes));

    let source: NodeJS.ReadableStream = req;
    if (encoding === 'gzip' || encoding === 'x-gzip') source = req.pipe(zlib.createGunzip());
    else if (encoding === 'deflate') source = req.pipe(zlib.createInflate());
    else if (encoding !== 'identity') return next(new HttpError(415, 'unsupported_encoding', `Content-Encoding ${encoding} is not supported`));

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      if (err) {
        req.unpipe?.();
        req.resume(); // discard the rest so the connection can answer
        return next(err);
      }
      const raw = Buffer.concat(chunks, size);
      req.rawBody = raw;
      if (!raw.length) return next(new HttpError(400, 'invalid', 'The request body is empty; send a JSON object'));
      try {
        // PostgreSQL text and jsonb cannot hold U+0000: such characters become U+FFFD (the message is kept).
        req.body = raw.includes('\\u0000') ? JSON.parse(raw.toString('utf8'), withoutNul) : JSON.parse(raw.toString('utf8'));
      } catch (e) {
        return next(new HttpError(400, 'invalid', jsonSyntaxMessage(e)));
      }
      next();
    };
    source.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limitBytes) return finish(tooLarge(limitBytes));
      chunks.push(c);
    });
    source.on('end', () => finish());
    source.on('error', (e: Error) => finish(new HttpError(400, 'invalid', `Could not read the body: ${e.message}`)));
  };
}

const NUL = /\u0000/g;
function withoutNul(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replace(NUL, '\uFFFD') : value;
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k.includes('\u0000'))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(NUL, '\uFFFD'), v]));
  }
  return value;
}

function tooLarge(limit: number) {
  return new HttpError(413, 'too_large', `The body is over the ${Math.round(limit / 1024)} KB limit`);
}
