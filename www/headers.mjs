// The HTTP headers the site is served with: by www/serve.mjs, in the `_headers` file the build
// writes for hosts that read one (Netlify, Cloudflare Pages), and in README's "Deploying".

/**
 * The Content-Security-Policy of every page of the site. Scripts and workers only from the
 * site itself (no inline script, no eval; 'wasm-unsafe-eval' only lets the engine compile
 * its WebAssembly); pictures also from `blob:` and `data:` (the results the page shows and
 * offers), videos also from `blob:` (a chosen video file and its painted copy); nothing may
 * frame the page; no plugins, no <base>, no form posts.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Every response's headers, besides the content type:
 * - the CSP above, `nosniff` (a file is only ever what its content type says) and a referrer
 *   policy that sends other sites nothing but the origin;
 * - cross-origin isolation (COOP, COEP), which shared memory between workers needs: the CPU
 *   engine's thread pool;
 * - the widget's: any site may load the script and what it fetches (CORS), also from a host
 *   page that is cross-origin isolated itself (CORP). A CSP on a script or a weight file is
 *   ignored by the host page that loads it: the widget's host sets its own (README, "The
 *   widget").
 */
export const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'cross-origin',
  'access-control-allow-origin': '*',
};

/** The `_headers` file (Netlify's and Cloudflare Pages' format): HEADERS for every path. */
export function headersFile() {
  const lines = Object.entries(HEADERS).map(([name, value]) => `  ${name}: ${value}`);
  return `/*\n${lines.join('\n')}\n`;
}
