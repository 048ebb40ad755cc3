export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** JSON.parse's message without the snippet of the body V8 quotes in it (it may hold a key or a token). */
export function jsonSyntaxMessage(err: unknown): string {
  const m = String((err as { message?: unknown } | undefined)?.message ?? err);
  return `Malformed JSON: ${m.replace(/,? "[\s\S]*"(\.\.\.)? is not valid JSON$/, ' (not valid JSON)')}`;
}
