// protocol.ts: the names and arguments of the server's workspace/executeCommand commands
// (lsp/server), and its goblock/status notification, in one place so a change on the server
// side is a one-line change here (docs/lsp.md, "Protocol extensions"). Pure.

export const SERVER = {
  loadTrace: 'goblock.loadTrace',
  reload: 'goblock.reload',
  clear: 'goblock.clear',
  hotLines: 'goblock.hotLines',
  goroutines: 'goblock.goroutines',
  captureTest: 'goblock.captureTest',
  captureService: 'goblock.captureService',
  captures: 'goblock.captures',
  loadCapture: 'goblock.loadCapture',
  cancelCapture: 'goblock.cancelCapture',
} as const;

/** The server's notification of what is loaded (sent since the client asks for it). */
export const STATUS_NOTIFICATION = 'goblock/status';

/** An input shown, as goblock/status lists it. */
export interface StatusInput {
  path: string;
  /** trace, goroutine-dump, goroutine-profile, block-profile, mutex-profile. */
  kind: string;
  goVersion?: string;
  /** Episodes (traces), goroutines (dumps) or samples (profiles). */
  count: number;
  /** A preview: the share of the file analysed so far. */
  partial?: number;
}

/** The params of goblock/status. */
export interface ServerStatus {
  state: 'loading' | 'loaded' | 'failed';
  inputs: StatusInput[];
  failures: { path: string; message: string }[];
  lines: number;
  files: number;
  unmapped: number;
  totalNs: number;
  totalLabel: string;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const objs = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Checks goblock/status params; throws naming what is wrong (a protocol mismatch). */
export function parseStatus(p: unknown): ServerStatus {
  if (!isObj(p) || (p.state !== 'loading' && p.state !== 'loaded' && p.state !== 'failed')) {
    throw new Error(`goblock/status without a state: ${JSON.stringify(p)?.slice(0, 200)}`);
  }
  return {
    state: p.state,
    inputs: objs(p.inputs).flatMap((i) => {
      const path = str(i.path);
      if (path === undefined) return [];
      return [{ path, kind: str(i.kind) ?? 'trace', goVersion: str(i.goVersion), count: num(i.count) ?? 0, partial: num(i.partial) }];
    }),
    failures: objs(p.failures).map((f) => ({ path: str(f.path) ?? '?', message: str(f.message) ?? '' })),
    lines: num(p.lines) ?? 0,
    files: num(p.files) ?? 0,
    unmapped: num(p.unmapped) ?? 0,
    totalNs: num(p.totalNs) ?? 0,
    totalLabel: str(p.totalLabel) ?? '',
    message: str(p.message) ?? '',
  };
}

/** Arguments of goblock.loadTrace: the trace's file-system path. */
export function loadTraceArgs(fsPath: string): unknown[] {
  return [fsPath];
}

/** Arguments of goblock.hotLines: how many lines to return. */
export function hotLinesArgs(limit: number): unknown[] {
  return [limit];
}

/** Arguments of goblock.goroutines: a file and a 0-based line (as shown now). */
export function goroutinesArgs(uri: string, line: number): unknown[] {
  return [{ uri, line }];
}
