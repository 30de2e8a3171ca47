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

/** The status item's text when only goroutine dumps and profiles are shown (no trace). */
export function describeDumps(inputs: DumpInput[], basename: (p: string) => string): { text: string; detail: string } {
  const text = `goblock: ${inputs.length === 1 ? basename(inputs[0].path) : `${inputs.length} dumps and profiles`}`;
  return { text, detail: inputs.map((i) => i.label || basename(i.path)).join(' · ') };
}

/** How many goroutine dumps and profiles, in words ("1 dump · 2 profiles"). */
function countDumps(inputs: DumpInput[]): string {
  const dumps = inputs.filter((i) => i.kind === 'goroutine-dump').length;
  const profiles = inputs.length - dumps;
  const n = (k: number, what: string) => (k === 0 ? [] : [`${k} ${what}${k === 1 ? '' : 's'}`]);
  return [...n(dumps, 'dump'), ...n(profiles, 'profile')].join(' · ');
}

/**
 * The status item when traces and dumps or profiles are both shown: the traces' text and detail
 * (describeTraces), then how many dumps and profiles ("goblock: 2 traces · 1 dump") and their
 * labels.
 */
export function withDumps<T extends { text: string; detail: string }>(
  traces: T,
  inputs: DumpInput[],
  basename: (p: string) => string,
): T {
  if (inputs.length === 0) return traces;
  return {
    ...traces,
    text: `${traces.text} · ${countDumps(inputs)}`,
    detail: `${traces.detail} · ${describeDumps(inputs, basename).detail}`,
  };
}

/**
 * The status item with load failures (the rule of goblock/status `state`, docs/lsp.md): with
 * inputs shown it stays what they are, noting "· N failed" (a warning); with nothing shown the
 * failures are the whole status (an error). The detail is the first failure's message, which
 * names its file.
 */
export function statusWithFailures(
  shown: { text: string; detail: string },
  inputsShown: number,
  failures: Failure[],
): { text: string; detail: string; severity: 'warning' | 'error' } {
  const n = failures.length;
  const first = n > 0 ? `${failures[0].message}${n > 1 ? ` (and ${n - 1} more)` : ''}` : '';
  if (inputsShown === 0) {
    return { text: `goblock: ${n} input${n === 1 ? '' : 's'} failed`, detail: first, severity: 'error' };
  }
  return { text: `${shown.text} · ${n} failed`, detail: `${shown.detail} · ${first}`, severity: 'warning' };
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

// ---------------------------------------------------------------- goroutine dumps and profiles

/** The input kinds of goroutine dumps and pprof profiles, as the report's JSON names them. */
export type InputKind = 'goroutine-dump' | 'goroutine-profile' | 'block-profile' | 'mutex-profile';

/** A loaded goroutine dump or profile (`inputs` of goblock.hotLines). */
export interface DumpInput {
  path: string;
  kind: string;
  /** The server's one-line description ("goroutine dump · 37 goroutines · SIGQUIT: quit"). */
  label: string;
}

/** A line annotated by dumps or profiles (`parked` of goblock.hotLines). `line` is 0-based. */
export interface ParkedLine {
  uri: string;
  line: number;
  function?: string;
  inWorkspace: boolean;
  /** Goroutines parked now (dumps and goroutine profiles), with the server's row text. */
  goroutines?: number;
  parkedLabel?: string;
  /** deadlock, blocked-forever, likely-leak, parked. */
  flag?: string;
  block?: { count: number; totalNs: number; label: string };
  mutex?: { count: number; totalNs: number; label: string };
  /** The whole row text (every kind). */
  label: string;
}

function figures(v: unknown): { count: number; totalNs: number; label: string } | undefined {
  if (!isObj(v)) return undefined;
  return { count: num(v.count) ?? 0, totalNs: num(v.totalNs) ?? 0, label: str(v.label) ?? '' };
}

/** The `inputs` and `parked` parts of a goblock.hotLines result (empty from an older server). */
export function parseParked(result: unknown): { inputs: DumpInput[]; parked: ParkedLine[] } {
  if (!isObj(result)) return { inputs: [], parked: [] };
  const inputs = list(result.inputs).filter(isObj).map((i) => ({
    path: str(i.path) ?? '?',
    kind: str(i.kind) ?? '?',
    label: str(i.label) ?? str(i.kind) ?? '',
  }));
  const parked = list(result.parked).filter(isObj).flatMap((e): ParkedLine[] => {
    const uri = str(e.uri);
    const line = num(e.line);
    if (uri === undefined || line === undefined || line < 1) return [];
    return [{
      uri,
      line: line - 1,
      function: str(e.function),
      inWorkspace: e.inWorkspace !== false,
      goroutines: num(e.goroutines),
      parkedLabel: str(e.parkedLabel),
      flag: str(e.flag),
      block: figures(e.block),
      mutex: figures(e.mutex),
      label: str(e.label) ?? '',
    }];
  });
  return { inputs, parked };
}

/** One list of parked lines: what an input kind says about them. */
export interface ParkedSection {
  /** 'parked' (goroutine dumps and profiles), 'block' or 'mutex'. */
  kind: 'parked' | 'block' | 'mutex';
  /** The section's title ("Parked now", "Block profile (sampled)", …). */
  title: string;
  /** The loaded inputs of this kind, by their server labels. */
  inputs: string[];
  /** Rows in the server's order (flagged first, then goroutines, delay), each with its kind's text. */
  rows: { line: ParkedLine; text: string }[];
}

const SECTIONS: { kind: ParkedSection['kind']; title: string; inputs: string[] }[] = [
  { kind: 'parked', title: 'Parked now', inputs: ['goroutine-dump', 'goroutine-profile'] },
  { kind: 'block', title: 'Block profile (sampled)', inputs: ['block-profile'] },
  { kind: 'mutex', title: 'Mutex profile (sampled): where contention ended', inputs: ['mutex-profile'] },
];

/**
 * The parked lines by input kind: goroutines parked now, block contention, mutex contention (a
 * line with several kinds is listed under each, with that kind's text); library lines only with
 * `libraries`; at most `limit` rows per section. Sections without rows are left out.
 */
export function parkedSections(inputs: DumpInput[], parked: ParkedLine[], libraries: boolean, limit: number): ParkedSection[] {
  const out: ParkedSection[] = [];
  for (const s of SECTIONS) {
    const rows = parked
      .filter((l) => libraries || l.inWorkspace)
      .flatMap((l) => {
        const text = s.kind === 'parked' ? l.parkedLabel : s.kind === 'block' ? l.block?.label : l.mutex?.label;
        return text ? [{ line: l, text }] : [];
      })
      .slice(0, limit);
    if (rows.length === 0) continue;
    out.push({ kind: s.kind, title: s.title, inputs: inputs.filter((i) => s.inputs.includes(i.kind)).map((i) => i.label), rows });
  }
  return out;
}

/** Quick-pick rows of the parked sections: a separator per section, then "pool.go:27" + its text. */
export function parkedPickRows(sections: ParkedSection[]): ({ label: string; description?: string; detail?: string; separator: true } | { label: string; description: string; detail?: string; line: ParkedLine; separator?: false })[] {
  return sections.flatMap((s) => [
    { label: s.title, separator: true as const },
    ...s.rows.map((r) => ({
      label: `${uriBasename(r.line.uri)}:${r.line.line + 1}`,
      description: r.text,
      detail: r.line.function,
      line: r.line,
    })),
  ]);
}

// ---------------------------------------------------------------- goblock.goroutines

/** One goroutine of goblock.goroutines. */
export interface GoroutineRow {
  id: number;
  status: string;
  minutes?: number;
  parent?: number;
  group: number;
  label: string;
}

export interface GoroutinesResult {
  uri: string;
  /** 1-based, as shown now. */
  line: number;
  function?: string;
  goroutines: number;
  profiled: number;
  label: string;
  groups: { count: number; status: string; input: string; label: string }[];
  rows: GoroutineRow[];
}

/** Checks goblock.goroutines' answer (docs/lsp.md, "goblock.goroutines result"). */
export function parseGoroutines(result: unknown): GoroutinesResult {
  if (!isObj(result) || !Array.isArray(result.rows) || !Array.isArray(result.groups)) {
    throw new Error(`goblock.goroutines returned ${JSON.stringify(result)?.slice(0, 200)}, not {groups, rows}`);
  }
  return {
    uri: str(result.uri) ?? '',
    line: num(result.line) ?? 0,
    function: str(result.function),
    goroutines: num(result.goroutines) ?? 0,
    profiled: num(result.profiled) ?? 0,
    label: str(result.label) ?? '',
    groups: result.groups.filter(isObj).map((g) => ({
      count: num(g.count) ?? 0, status: str(g.status) ?? '', input: str(g.input) ?? '', label: str(g.label) ?? '',
    })),
    rows: result.rows.filter(isObj).map((r, i) => {
      const id = num(r.id);
      if (id === undefined) throw new Error(`goblock.goroutines row ${i} has no id`);
      return {
        id, status: str(r.status) ?? '', minutes: num(r.minutes), parent: num(r.parent), group: num(r.group) ?? 0,
        label: str(r.label) ?? `goroutine ${id}`,
      };
    }),
  };
}

/** The text of the goroutines document: a heading, then each group's label and its rows. */
export function goroutinesText(r: GoroutinesResult): string {
  const out = [`${uriBasename(r.uri)}:${r.line}${r.function ? ` · ${r.function}` : ''}`, r.label, ''];
  r.groups.forEach((g, gi) => {
    out.push(g.label);
    for (const row of r.rows) if (row.group === gi) out.push(`  ${row.label}`);
    out.push('');
  });
  return out.join('\n');
}
