import type { Request, Response, NextFunction } from 'express';
import type { z } from 'zod';
import { HttpError } from './errors.js';

export function issuesOf(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Parses with a zod schema or throws a 400 that names each bad field. */
export function parse<S extends z.ZodType>(schema: S, data: unknown, what = 'request'): z.infer<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = issuesOf(r.error);
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new HttpError(400, 'invalid', `Invalid ${what}: ${summary}`, issues);
}

/** Route step: replaces req.body with the parsed value. */
export function validate<S extends z.ZodType>(schema: S) {
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      req.body = parse(schema, req.body ?? {}, 'body');
      next();
    } catch (e) {
      next(e);
    }
  };
}

/** Query strings, parsed and typed (read with `res.locals.query`). */
export function validateQuery<S extends z.ZodType>(schema: S) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.query = parse(schema, req.query, 'query');
      next();
    } catch (e) {
      next(e);
    }
  };
}
