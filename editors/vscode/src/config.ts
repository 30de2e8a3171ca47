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
  diagnostics: { minTotalMs: number; minShare: number; severity: string };
  inlayHints: { enable: boolean };
  substitutePath: SubstitutePath[];
}

export const DEFAULTS: ServerSettings = {
  traces: ['**/*.trace', '**/trace.out', '**/*.trace.out'],
  binaries: [],
  categories: ['sync', 'net', 'syscall'],
  diagnostics: { minTotalMs: 1, minShare: 0, severity: 'information' },
  inlayHints: { enable: true },
  substitutePath: [],
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

/** Builds the server's settings from the user's, dropping malformed values for the defaults. */
export function serverSettings(get: SettingGetter, ctx: PathContext): ServerSettings {
  const severity = get('diagnostics.severity');
  const substitute = Array.isArray(get('substitutePath')) ? (get('substitutePath') as unknown[]) : [];
  return {
    traces: strings(get('traces'), DEFAULTS.traces),
    binaries: strings(get('binaries'), DEFAULTS.binaries).map((b) => expandPath(b, ctx)),
    categories: strings(get('categories'), DEFAULTS.categories).filter((c) => CATEGORIES.includes(c)),
    diagnostics: {
      minTotalMs: num(get('diagnostics.minTotalMs'), DEFAULTS.diagnostics.minTotalMs, 0),
      minShare: num(get('diagnostics.minShare'), DEFAULTS.diagnostics.minShare, 0, 1),
      severity:
        typeof severity === 'string' && SEVERITIES.includes(severity) ? severity : DEFAULTS.diagnostics.severity,
    },
    inlayHints: { enable: get('inlayHints.enable') === undefined ? true : get('inlayHints.enable') === true },
    substitutePath: substitute
      .filter(
        (s): s is SubstitutePath =>
          typeof s === 'object' && s !== null && typeof (s as SubstitutePath).from === 'string' &&
          typeof (s as SubstitutePath).to === 'string',
      )
      .map((s) => ({ from: s.from, to: expandPath(s.to, ctx) })),
  };
}
