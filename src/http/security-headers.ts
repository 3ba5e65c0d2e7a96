import type { Context } from 'koa';

/**
 * The headers every HTML page this server sends carries (the phone page, the status page).
 * The page may load only what this server serves: a stray URL in the markup, or an injected
 * one, cannot reach outside the home network, and no other site may frame the page to trick
 * a tap. `data:` images are the generation previews.
 */
const POLICY: readonly (readonly [string, readonly string[]])[] = [
  ['default-src', ["'self'"]],
  ['img-src', ["'self'", 'data:', 'blob:']],
  ['script-src', ["'self'"]],
  ['style-src', ["'self'"]],
  ['connect-src', ["'self'"]],
  ['base-uri', ["'none'"]],
  ['form-action', ["'self'"]],
  ['frame-ancestors', ["'none'"]],
  ['object-src', ["'none'"]],
];

export interface PageSecurityOptions {
  /**
   * CSP hash sources (`sha256-<base64>`) of inline `<style>` elements the page carries: those
   * exact styles are allowed and nothing else inline is.
   */
  readonly inlineStyleHashes?: readonly string[];
}

/** The Content-Security-Policy header value for a page. */
export function contentSecurityPolicy(options: PageSecurityOptions = {}): string {
  const extraStyles = (options.inlineStyleHashes ?? []).map((hash) => `'${hash}'`);
  return POLICY.map(([directive, sources]) => [directive, ...sources, ...(directive === 'style-src' ? extraStyles : [])].join(' ')).join('; ');
}

/** Sets the page headers: the policy above, no MIME sniffing, no referrer leaving the page. */
export function setPageSecurityHeaders(ctx: Context, options: PageSecurityOptions = {}): void {
  ctx.set('Content-Security-Policy', contentSecurityPolicy(options));
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
}
