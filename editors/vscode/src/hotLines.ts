// hotLines.ts: the result of the server's `goblock.hotLines` command (docs/lsp.md ("goblock.hotLines result"):
// loaded traces, failures, the hottest lines, unmapped files), checked and turned into the rows
// of the quick pick and the hot-spots tree. Pure.

/** One hot line. `line` is 0-based here (the server sends 1-based lines). */
export interface HotLine {
  uri: string;
  line: number;
  /** Total blocked time on the line, in nanoseconds. */
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
  /** The server's one-line summary ("5 blocks · 155 ms total · p99 31.2 ms · chan receive"). */
  label?: string;
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

export interface HotLinesResult {
  loading: boolean;
  traces: ServerTrace[];
  failures: Failure[];
  totalNs: number;
  lines: HotLine[];
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
      totalNs: (num(e.totalMs) ?? 0) * 1e6,
      count: num(e.count) ?? 0,
      reasons: strs(e.reasons),
      kind: str(e.kind),
      function: str(e.function),
      p99Ms: num(e.p99Ms),
      share: num(e.share),
      label: str(e.message),
      inWorkspace: e.inWorkspace !== false,
    };
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
    totalNs: (num(result.totalMs) ?? 0) * 1e6,
    lines,
    unmapped: list(result.unmapped).filter(isObj).map((u) => ({
      recorded: str(u.recorded) ?? '?',
      lines: num(u.lines) ?? 0,
      count: num(u.count) ?? 0,
      totalNs: (num(u.totalMs) ?? 0) * 1e6,
    })),
  };
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

/** "850 µs", "12.3 ms", "1.24 s", "2 min 5 s". */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 1 : 0)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  if (ns < 60e9) return `${(ns / 1e9).toFixed(2)} s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The file part of a URI, decoded ("main.go"). */
export function uriBasename(uri: string): string {
  const p = uri.replace(/[?#].*$/, '');
  return decodeURIComponent(p.slice(p.lastIndexOf('/') + 1));
}

/** "Σ 1.24 s · 34× · 12% · chan receive" — the description of a line row. */
export function describeLine(h: HotLine): string {
  const parts = [`Σ ${formatDuration(h.totalNs)}`, `${h.count}×`];
  if (h.share !== undefined) parts.push(`${(h.share * 100).toFixed(h.share < 0.1 ? 1 : 0)}%`);
  if (h.reasons.length > 0) parts.push(h.reasons.join(', '));
  return parts.join(' · ');
}

export interface FileGroup {
  uri: string;
  totalNs: number;
  lines: HotLine[];
}

/** Groups lines by file: files by their total blocked time, lines hottest first. */
export function groupByFile(lines: HotLine[]): FileGroup[] {
  const byUri = new Map<string, FileGroup>();
  for (const l of lines) {
    let g = byUri.get(l.uri);
    if (!g) byUri.set(l.uri, (g = { uri: l.uri, totalNs: 0, lines: [] }));
    g.totalNs += l.totalNs;
    g.lines.push(l);
  }
  const groups = [...byUri.values()];
  for (const g of groups) g.lines.sort((a, b) => b.totalNs - a.totalNs || a.line - b.line);
  return groups.sort((a, b) => b.totalNs - a.totalNs || a.uri.localeCompare(b.uri));
}

/** Quick-pick rows: "main.go:109" + description, hottest first (1-based line for people). */
export function quickPickRows(lines: HotLine[]): { label: string; description: string; detail?: string; line: HotLine }[] {
  return [...lines]
    .sort((a, b) => b.totalNs - a.totalNs)
    .map((l) => ({
      label: `${uriBasename(l.uri)}:${l.line + 1}`,
      description: describeLine(l),
      detail: l.function,
      line: l,
    }));
}
