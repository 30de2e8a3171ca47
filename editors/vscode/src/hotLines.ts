// hotLines.ts: the result of the server's `goblock.hotLines` command (docs/lsp.md ("goblock.hotLines result"):
// loaded traces, failures, the hottest lines, per-file totals, unmapped files), checked and turned
// into the rows of the quick pick and the hot-spots tree. Pure. Formats no number: the server
// sends nanoseconds (for ordering) and the labels to show.

/** One hot line. `line` is 0-based here (the server sends 1-based lines). */
export interface HotLine {
  uri: string;
  line: number;
  /** Total blocked time on the line, in nanoseconds (for ordering). */
  totalNs: number;
  /** Number of blocking episodes. */
  count: number;
  /** The runtime's reasons ("chan receive", …), hottest first. */
  reasons: string[];
  /** Kind code, as in the diagnostics: chan-recv, select, mutex, net, … */
  kind?: string;
  function?: string;
  p99Ms?: number;
  /** Share of all blocked time in the shown categories, 0–1. */
  share?: number;
  /** The server's row text for lists ("155 ms · 5 blocks · 4.6 % · chan receive"). */
  label: string;
  /** The line's diagnostic message ("5 blocks · 155 ms total · max 31.2 ms · chan receive"). */
  message?: string;
  /** False for GOROOT / module-cache files (stacks with no frame in the workspace). */
  inWorkspace: boolean;
}

export interface ServerTrace {
  path: string;
  goVersion?: string;
  durationMs?: number;
  episodes?: number;
  symbolization?: string;
  binary?: string;
  warnings: string[];
}

export interface Failure {
  path: string;
  message: string;
}

/** A file with annotated lines: its total, as nanoseconds and as the label to show. */
export interface HotFile {
  uri: string;
  totalNs: number;
  label: string;
  /** Annotated lines in the file (all of them, not only those listed). */
  lines: number;
  inWorkspace: boolean;
}

export interface HotLinesResult {
  loading: boolean;
  traces: ServerTrace[];
  failures: Failure[];
  totalNs: number;
  totalLabel?: string;
  /** The categories the server shows (goblock.categories). */
  categories: string[];
  lines: HotLine[];
  files: HotFile[];
  /** Recorded files not found on this machine. */
  unmapped: { recorded: string; lines: number; count: number; totalNs: number }[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Checks the server's answer. Throws with a message naming the bad entry: a wrong shape is a
 * protocol mismatch between this extension and `goblock lsp`, not something to hide.
 */
export function parseHotLines(result: unknown): HotLinesResult {
  if (!isObj(result) || !Array.isArray(result.lines)) {
    throw new Error(`goblock.hotLines returned ${JSON.stringify(result)?.slice(0, 200)}, not {lines: [...]}`);
  }
  const lines = result.lines.map((e, i): HotLine => {
    if (!isObj(e)) throw new Error(`goblock.hotLines line ${i} is not an object`);
    const uri = str(e.uri);
    const line = num(e.line);
    if (uri === undefined || line === undefined || line < 1) throw new Error(`goblock.hotLines line ${i} lacks uri/line`);
    return {
      uri,
      line: line - 1,
      totalNs: num(e.totalNs) ?? (num(e.totalMs) ?? 0) * 1e6,
      count: num(e.count) ?? 0,
      reasons: strs(e.reasons),
      kind: str(e.kind),
      function: str(e.function),
      p99Ms: num(e.p99Ms),
      share: num(e.share),
      // A server older than the labels: its diagnostic message is the best row text it sends.
      label: str(e.label) ?? str(e.message) ?? '',
      message: str(e.message),
      inWorkspace: e.inWorkspace !== false,
    };
  });
  const files = list(result.files).filter(isObj).flatMap((f): HotFile[] => {
    const uri = str(f.uri);
    if (uri === undefined) return [];
    return [{
      uri,
      totalNs: num(f.totalNs) ?? 0,
      label: str(f.label) ?? '',
      lines: num(f.lines) ?? 0,
      inWorkspace: f.inWorkspace !== false,
    }];
  });
  return {
    loading: result.loading === true,
    traces: list(result.traces).filter(isObj).map((t) => ({
      path: str(t.path) ?? '?',
      goVersion: str(t.goVersion),
      durationMs: num(t.durationMs),
      episodes: num(t.episodes),
      symbolization: str(t.symbolization),
      binary: str(t.binary),
      warnings: strs(t.warnings),
    })),
    failures: list(result.failures).filter(isObj).map((f) => ({ path: str(f.path) ?? '?', message: str(f.message) ?? '' })),
    totalNs: num(result.totalNs) ?? (num(result.totalMs) ?? 0) * 1e6,
    totalLabel: str(result.totalLabel),
    categories: strs(result.categories),
    lines,
    files,
    unmapped: list(result.unmapped).filter(isObj).map((u) => ({
      recorded: str(u.recorded) ?? '?',
      lines: num(u.lines) ?? 0,
      count: num(u.count) ?? 0,
      totalNs: (num(u.totalMs) ?? 0) * 1e6,
    })),
  };
}

/** What `goblock report` shows by default: every category but `sched` (docs/report.md). */
export const REPORT_CATEGORIES = ['sync', 'net', 'syscall', 'sleep', 'gc', 'other'];

/**
 * The categories `goblock report` shows by default and the editor does not (with the editors'
 * default: sleep, gc, other): why the report's total is larger on the same trace.
 */
export function hiddenCategories(shown: string[]): string[] {
  if (shown.length === 0) return [];
  return REPORT_CATEGORIES.filter((c) => !shown.includes(c));
}

/** The failures of goblock.loadTrace / reload / clear results ({loaded, failures, summary}). */
export function loadFailures(result: unknown): Failure[] {
  if (!isObj(result)) return [];
  return list(result.failures).filter(isObj).map((f) => ({ path: str(f.path) ?? '?', message: str(f.message) ?? '' }));
}

/** The lines to list: the workspace's, or all with `libraries`; at most `limit`, hottest first. */
export function visibleLines(lines: HotLine[], libraries: boolean, limit: number): HotLine[] {
  return lines
    .filter((l) => libraries || l.inWorkspace)
    .sort((a, b) => b.totalNs - a.totalNs)
    .slice(0, limit);
}

/** The file part of a URI, decoded ("main.go"). */
export function uriBasename(uri: string): string {
  const p = uri.replace(/[?#].*$/, '');
  return decodeURIComponent(p.slice(p.lastIndexOf('/') + 1));
}

export interface FileGroup {
  uri: string;
  /** The server's label of the file's total ("1.21 s"); empty from an older server. */
  label: string;
  /** Annotated lines in the file (all of them); the listed ones are `lines`. */
  annotated: number;
  lines: HotLine[];
}

/**
 * Groups lines by file, in the server's order of files (by total blocked time), lines hottest
 * first. A file the server did not list (an older server) comes last, without a label.
 */
export function groupByFile(lines: HotLine[], files: HotFile[]): FileGroup[] {
  const byUri = new Map<string, HotLine[]>();
  for (const l of lines) {
    const g = byUri.get(l.uri);
    if (g) g.push(l);
    else byUri.set(l.uri, [l]);
  }
  const groups: FileGroup[] = [];
  for (const f of files) {
    const ls = byUri.get(f.uri);
    if (!ls) continue;
    byUri.delete(f.uri);
    groups.push({ uri: f.uri, label: f.label, annotated: f.lines, lines: ls });
  }
  for (const [uri, ls] of byUri) groups.push({ uri, label: '', annotated: ls.length, lines: ls });
  for (const g of groups) g.lines.sort((a, b) => b.totalNs - a.totalNs || a.line - b.line);
  return groups;
}

/** Quick-pick rows: "main.go:109" + description, hottest first (1-based line for people). */
export function quickPickRows(lines: HotLine[]): { label: string; description: string; detail?: string; line: HotLine }[] {
  return [...lines]
    .sort((a, b) => b.totalNs - a.totalNs)
    .map((l) => ({
      label: `${uriBasename(l.uri)}:${l.line + 1}`,
      description: l.label,
      detail: l.function,
      line: l,
    }));
}
