// config.ts: turns the `goblock.*` settings into the object the language server reads
// (initializationOptions and workspace/didChangeConfiguration). Pure: no vscode import, so
// the unit tests run it with a plain getter.

/** Reads one setting below `goblock.` (e.g. "diagnostics.minShare"); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

export interface SubstitutePath {
  from: string;
  to: string;
}

/** What `goblock lsp` receives under the `goblock` section. */
export interface ServerSettings {
  traces: string[];
  binaries: string[];
  categories: string[];
  diagnostics: { enable: boolean; minTotalMs: number; minShare: number; severity: string; hottest: number };
  inlayHints: { enable: boolean; callers: boolean; minTotalMs: number };
  substitutePath: SubstitutePath[];
  debounceMs: number;
  goPath: string;
  capture: {
    codeLens: boolean;
    buildFlags: string[];
    benchtime: string;
    timeout: string;
    serviceTimeout: string;
    keep: number;
    maxMiB: number;
    load: string;
  };
  dumps: { files: string[]; parkedThreshold: number };
}

export const DEFAULTS: ServerSettings = {
  traces: ['**/*.trace', '**/trace.out', '**/*.trace.out'],
  binaries: [],
  categories: ['sync', 'net', 'syscall'],
  diagnostics: { enable: true, minTotalMs: 1, minShare: 0.01, severity: 'information', hottest: 10 },
  inlayHints: { enable: true, callers: false, minTotalMs: 1 },
  substitutePath: [],
  debounceMs: 300,
  goPath: '',
  capture: { codeLens: true, buildFlags: [], benchtime: '', timeout: '', serviceTimeout: '', keep: 10, maxMiB: 512, load: 'replace' },
  dumps: { files: ['**/*.pb.gz', '**/*.pprof', '**/*.dump', '**/*.txt'], parkedThreshold: 10 },
};

export const SEVERITIES = ['hint', 'information', 'warning', 'error'];
export const CATEGORIES = ['sync', 'net', 'syscall', 'sched', 'sleep', 'gc', 'other'];

export interface PathContext {
  home: string;
  workspaceFolder?: string;
}

/** Expands a leading `~` and `${workspaceFolder}` / `${userHome}` in a path setting. */
export function expandPath(p: string, ctx: PathContext): string {
  let out = p.trim();
  if (out === '~' || out.startsWith('~/')) out = ctx.home + out.slice(1);
  out = out.replace(/\$\{userHome\}/g, ctx.home);
  if (ctx.workspaceFolder !== undefined) out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  return out;
}

function strings(v: unknown, fallback: string[]): string[] {
  if (!Array.isArray(v)) return fallback;
  return v.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
}

function num(v: unknown, fallback: number, min: number, max = Infinity): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : fallback;
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v.trim() : fallback;
}

/** Builds the server's settings from the user's, dropping malformed values for the defaults. */
export function serverSettings(get: SettingGetter, ctx: PathContext): ServerSettings {
  const severity = get('diagnostics.severity');
  const substitute = Array.isArray(get('substitutePath')) ? (get('substitutePath') as unknown[]) : [];
  return {
    traces: strings(get('traces'), DEFAULTS.traces),
    binaries: strings(get('binaries'), DEFAULTS.binaries).map((b) => expandPath(b, ctx)),
    categories: strings(get('categories'), DEFAULTS.categories).filter((c) => CATEGORIES.includes(c)),
    diagnostics: {
      enable: bool(get('diagnostics.enable'), DEFAULTS.diagnostics.enable),
      minTotalMs: num(get('diagnostics.minTotalMs'), DEFAULTS.diagnostics.minTotalMs, 0),
      minShare: num(get('diagnostics.minShare'), DEFAULTS.diagnostics.minShare, 0, 1),
      severity:
        typeof severity === 'string' && SEVERITIES.includes(severity) ? severity : DEFAULTS.diagnostics.severity,
      hottest: Math.round(num(get('diagnostics.hottest'), DEFAULTS.diagnostics.hottest, 0)),
    },
    inlayHints: {
      enable: bool(get('inlayHints.enable'), DEFAULTS.inlayHints.enable),
      callers: bool(get('inlayHints.callers'), DEFAULTS.inlayHints.callers),
      minTotalMs: num(get('inlayHints.minTotalMs'), DEFAULTS.inlayHints.minTotalMs, 0),
    },
    substitutePath: substitute
      .filter(
        (s): s is SubstitutePath =>
          typeof s === 'object' && s !== null && typeof (s as SubstitutePath).from === 'string' &&
          typeof (s as SubstitutePath).to === 'string',
      )
      .map((s) => ({ from: s.from, to: expandPath(s.to, ctx) })),
    debounceMs: Math.round(num(get('debounceMs'), DEFAULTS.debounceMs, 0)),
    goPath: str(get('goPath'), DEFAULTS.goPath) === '' ? '' : expandPath(str(get('goPath'), ''), ctx),
    capture: {
      codeLens: bool(get('capture.codeLens'), DEFAULTS.capture.codeLens),
      buildFlags: strings(get('capture.buildFlags'), DEFAULTS.capture.buildFlags),
      benchtime: str(get('capture.benchtime'), DEFAULTS.capture.benchtime),
      timeout: str(get('capture.timeout'), DEFAULTS.capture.timeout),
      serviceTimeout: str(get('capture.serviceTimeout'), DEFAULTS.capture.serviceTimeout),
      keep: Math.round(num(get('capture.keep'), DEFAULTS.capture.keep, 0)),
      maxMiB: Math.round(num(get('capture.maxMiB'), DEFAULTS.capture.maxMiB, 1)),
      load: get('capture.load') === 'add' ? 'add' : DEFAULTS.capture.load,
    },
    dumps: {
      files: strings(get('dumps.files'), DEFAULTS.dumps.files),
      parkedThreshold: Math.round(num(get('dumps.parkedThreshold'), DEFAULTS.dumps.parkedThreshold, 0)),
    },
  };
}
