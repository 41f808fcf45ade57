/** The blank line that ends a head (both HTTP/1 parsers search for it). */
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** RFC 9110 section 5.6.2 tchar, by byte (header names and methods of both HTTP/1 parsers). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** A non-empty string of tchar only (a header name or method). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}
