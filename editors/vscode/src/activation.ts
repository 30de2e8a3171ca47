// activation.ts: decides whether the extension starts the language server on its own. It does
// in a Go workspace that contains a trace file, or tests when the capture lenses are on (the
// server gives the "goblock: trace" lenses); elsewhere it waits for a goblock command. Pure.

export interface WorkspaceFacts {
  /** A go.mod, go.work or *.go file was found. */
  hasGo: boolean;
  /** Trace files matching goblock.traces. */
  traceCount: number;
  /** A *_test.go file was found. */
  hasTests?: boolean;
  /** goblock.capture.codeLens. */
  lenses?: boolean;
}

export function shouldAutoStart(facts: WorkspaceFacts): boolean {
  return facts.hasGo && (facts.traceCount > 0 || (facts.hasTests === true && facts.lenses !== false));
}

/** Glob that matches any of the patterns, for vscode.workspace.findFiles. */
export function unionGlob(patterns: string[]): string | undefined {
  const ps = patterns.filter((p) => p.trim() !== '');
  if (ps.length === 0) return undefined;
  return ps.length === 1 ? ps[0] : `{${ps.join(',')}}`;
}

/** Folders never searched for traces or Go files. */
export const EXCLUDE_GLOB = '**/{node_modules,.git,vendor}/**';
