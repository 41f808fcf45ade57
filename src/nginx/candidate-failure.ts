import { explainNginxError, type NginxErrorCulprit } from './explain-nginx-error.ts';
import type { RenderResult } from './render-nginx-config.ts';
import type { SnippetSnapshot } from './snippet-snapshot.ts';

/** Why `nginx -t` refused a candidate, in the user's terms: their file names, the hosts and containers involved. */
export interface CandidateFailure {
  readonly culprit: NginxErrorCulprit;
  /** nginx's output, with berth's snippet copies replaced by the user's file names. */
  readonly nginxError: string;
  /** ` because of snippet <file>` / ` (host a, b)` / '' for the log message. */
  readonly where: string;
}

export interface FailureContext {
  readonly output: string;
  readonly candidateGenerated: string;
  readonly result: RenderResult;
  /** Directories and files whose errors are the user's snippets. */
  readonly snippetRoots: readonly string[];
  readonly snapshot: SnippetSnapshot | undefined;
}

export function explainCandidateFailure(ctx: FailureContext): CandidateFailure {
  const { result, snapshot } = ctx;
  const explained = explainNginxError(ctx.output, ctx.candidateGenerated, result.text, result.model, ctx.snippetRoots);
  // Name the user's file, not berth's copy of it.
  const toSource = (text: string): string => (snapshot === undefined ? text : snapshot.toSourcePaths(text));
  const culprit = { ...explained, file: explained.file === undefined ? undefined : toSource(explained.file) };
  const where =
    culprit.kind === 'snippet' ? ` because of snippet ${culprit.file ?? ''}` : culprit.hosts.length > 0 ? ` (host ${culprit.hosts.join(', ')})` : '';
  return { culprit, nginxError: toSource(ctx.output), where };
}
