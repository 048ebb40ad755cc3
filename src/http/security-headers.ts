import helmet from 'helmet';

/**
 * Security headers for the admin page (/admin): a strict Content-Security-Policy (own origin only, no
 * framing), nosniff, HSTS, no referrer leaks. The ingest and management APIs answer JSON to machines and
 * do not need them.
 */
export function adminSecurityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'same-origin' },
  });
}
