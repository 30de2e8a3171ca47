// hotLines.ts: the hottest blocking lines as the server's `goblock.hotLines` command returns
// them, checked and turned into the rows of the quick pick and the hot-spots tree. Pure.

/** One hot line, 0-based line as in LSP. */
export interface HotLine {
  uri: string;
  line: number;
  /** Total blocked time on the line, in nanoseconds. */
  totalNs: number;
  /** Number of blocking episodes. */
  count: number;
  /** The runtime's reasons ("chan receive", "sync.Mutex.Lock", …), hottest first. */
  reasons: string[];
  /** Share of all blocked time in the shown categories, 0–1, when the server reports it. */
  share?: number;
  /** The server's own one-line summary, when it sends one. */
  label?: string;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function firstNumber(o: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) if (typeof o[k] === 'number' && Number.isFinite(o[k])) return o[k] as number;
  return undefined;
}

/**
 * Checks the server's answer. Throws with a message naming the bad entry: a wrong shape is a
 * protocol mismatch between this extension and `goblock lsp`, not something to hide.
 */
export function parseHotLines(result: unknown): HotLine[] {
  const list = Array.isArray(result)
    ? result
    : isObj(result) && Array.isArray(result.lines)
      ? result.lines
      : undefined;
  if (!list) throw new Error(`goblock.hotLines returned ${JSON.stringify(result)?.slice(0, 200)}, not a list of lines`);
  return list.map((e, i) => {
    if (!isObj(e)) throw new Error(`goblock.hotLines entry ${i} is not an object`);
    const uri = typeof e.uri === 'string' ? e.uri : undefined;
    const line = firstNumber(e, ['line']);
    if (uri === undefined || line === undefined) throw new Error(`goblock.hotLines entry ${i} lacks uri/line`);
    const totalNs = firstNumber(e, ['totalNs', 'total_ns']) ?? (firstNumber(e, ['totalMs', 'total_ms']) ?? 0) * 1e6;
    const reasons = Array.isArray(e.reasons)
      ? e.reasons.map((r) => (typeof r === 'string' ? r : isObj(r) && typeof r.reason === 'string' ? r.reason : '')).filter(Boolean)
      : typeof e.reason === 'string'
        ? [e.reason]
        : [];
    return {
      uri,
      line,
      totalNs,
      count: firstNumber(e, ['count', 'episodes']) ?? 0,
      reasons,
      share: firstNumber(e, ['share']),
      label: typeof e.label === 'string' ? e.label : undefined,
    };
  });
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

/** "Σ 1.24 s · 34× · chan receive, select" — the description of a line row. */
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

/** Quick-pick rows: "main.go:110" + description, hottest first (1-based line for people). */
export function quickPickRows(lines: HotLine[]): { label: string; description: string; line: HotLine }[] {
  return [...lines]
    .sort((a, b) => b.totalNs - a.totalNs)
    .map((l) => ({ label: `${uriBasename(l.uri)}:${l.line + 1}`, description: describeLine(l), line: l }));
}
