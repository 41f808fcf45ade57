/**
 * nginx regular expressions (regex `VIRTUAL_HOST` items, `~`/`~*` `VIRTUAL_PATH`s) are PCRE; the Node data plane
 * runs them as JavaScript RegExps. Both planes must agree, so a regex is accepted only when JavaScript compiles it
 * AND it uses nothing that PCRE and JavaScript read differently. JavaScript (without the `u` flag) silently reads an
 * unknown escape such as `\A` as the letter `A`, and `[[:digit:]]` as a plain character class: those are rejected
 * by name instead of being matched differently by the two planes.
 */

/** Escapes PCRE gives a meaning that JavaScript lacks or reads differently (or that PCRE refuses, such as `\u`). */
const PCRE_ONLY_ESCAPES: Readonly<Record<string, string>> = {
  A: 'start of subject', Z: 'end of subject', z: 'end of subject', G: 'first match position', h: 'horizontal space',
  H: 'non-horizontal space', R: 'any newline', K: 'match reset', Q: 'quoting', E: 'end of quoting', X: 'extended grapheme',
  C: 'one code unit', e: 'escape character', a: 'bell character', N: 'non-newline', o: 'octal code', p: 'Unicode property',
  P: 'Unicode property', g: 'back reference', l: 'lower-case next', L: 'lower-case', u: 'upper-case next', U: 'upper-case',
  v: 'vertical space', V: 'non-vertical space',
};

/** Why `source` cannot be used as an nginx regex in both data planes, or undefined when it can. */
export function unsupportedRegex(source: string, caseInsensitive: boolean): string | undefined {
  if (source === '') return 'the regular expression is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(source)) return 'it contains a control character (a newline?)';
  try {
    new RegExp(source, caseInsensitive ? 'i' : '');
  } catch (err) {
    return `it does not compile as a regular expression berth's Node data plane can run: ${(err as Error).message}`;
  }
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      const meaning = PCRE_ONLY_ESCAPES[next];
      if (meaning !== undefined) return `it uses \\${next} (PCRE: ${meaning}), which JavaScript reads differently`;
      if (next === 'x' && source[i + 2] === '{') return 'it uses \\x{...}, which JavaScript reads differently';
      i++;
    } else if (ch === '[' && /^\[:\^?[a-z]+:\]/.test(source.slice(i))) {
      return 'it uses a POSIX class such as [[:digit:]], which JavaScript does not know (use \\d, [a-z], ...)';
    } else if (ch === '[' && !inClass) {
      if (/^\[\^?\]/.test(source.slice(i))) {
        return 'it starts a character class with ], which PCRE reads as a literal ] and JavaScript as the end of the class';
      }
      inClass = true;
    } else if (ch === ']') {
      inClass = false;
    }
  }
  return undefined;
}
