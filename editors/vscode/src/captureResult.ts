// captureResult.ts: the results of the server's capture commands (docs/lsp.md, "Captures"):
// goblock.captureTest / goblock.captureService (one capture), goblock.captures (the list), and
// the error a busy or failed capture answers — checked, and turned into the text a user sees.
// Pure: no vscode import, so the unit tests run it.

/** A capture as the server describes it. */
export interface CaptureInfo {
  dir: string;
  trace: string;
  binary?: string;
  /** The test, the package or the service's host:port. */
  name: string;
  kind: string;
  /** What the file holds: trace, or for a service goroutines, block, mutex. */
  what: string;
  /** passed, failed, timedOut, killed, complete. */
  outcome: string;
  started: string;
  traceBytes: number;
  warnings: string[];
  /** In the current snapshot (goblock.captures only). */
  loaded?: boolean;
}

export interface CaptureResult {
  capture: CaptureInfo;
  /** The server's one-line summary ("traced TestX: passed · 29 KiB · 8 blocking lines"). */
  message: string;
  /** The trace was loaded (false when a newer load superseded it). */
  loaded: boolean;
}

export interface CapturesResult {
  root: string;
  /** Why captures go to the user cache directory. */
  fallback?: string;
  /** The capture running now. */
  running?: string;
  captures: CaptureInfo[];
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`goblock: unexpected capture result (${what})`);
  return v;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function info(v: unknown): CaptureInfo {
  if (typeof v !== 'object' || v === null) throw new Error('goblock: unexpected capture result (capture)');
  const o = v as Record<string, unknown>;
  return {
    dir: str(o.dir, 'dir'),
    trace: str(o.trace, 'trace'),
    binary: typeof o.binary === 'string' ? o.binary : undefined,
    name: str(o.name, 'name'),
    kind: str(o.kind, 'kind'),
    what: typeof o.what === 'string' ? o.what : 'trace',
    outcome: str(o.outcome, 'outcome'),
    started: typeof o.started === 'string' ? o.started : '',
    traceBytes: typeof o.traceBytes === 'number' ? o.traceBytes : 0,
    warnings: strings(o.warnings),
    loaded: typeof o.loaded === 'boolean' ? o.loaded : undefined,
  };
}

/** Checks a goblock.captureTest / goblock.captureService result. */
export function parseCaptureResult(v: unknown): CaptureResult {
  if (typeof v !== 'object' || v === null) throw new Error('goblock: unexpected capture result');
  const o = v as Record<string, unknown>;
  return { capture: info(o.capture), message: str(o.message, 'message'), loaded: o.loaded === true };
}

/** Checks a goblock.captures result. */
export function parseCaptures(v: unknown): CapturesResult {
  if (typeof v !== 'object' || v === null) throw new Error('goblock: unexpected captures result');
  const o = v as Record<string, unknown>;
  return {
    root: str(o.root, 'root'),
    fallback: typeof o.fallback === 'string' ? o.fallback : undefined,
    running: typeof o.running === 'string' ? o.running : undefined,
    captures: Array.isArray(o.captures) ? o.captures.map(info) : [],
  };
}

/** The error data of a capture refused because another one runs: its name. */
export function busyWith(err: unknown): string | undefined {
  const data = (err as { data?: unknown } | undefined)?.data as Record<string, unknown> | undefined;
  return data && data.reason === 'busy' && typeof data.running === 'string' ? data.running : undefined;
}

/** Whether the error says the capture was cancelled (by the user: nothing to report). */
export function wasCancelled(err: unknown): boolean {
  const data = (err as { data?: unknown } | undefined)?.data as Record<string, unknown> | undefined;
  return data?.reason === 'cancelled';
}

/** How the notification of a finished capture reads, and whether it is a warning. */
export function doneMessage(r: CaptureResult): { text: string; warn: boolean } {
  const warn = r.capture.warnings.length > 0 || !r.loaded;
  const extra = r.capture.warnings.length > 0 ? ` — ${r.capture.warnings[0]}` : '';
  const superseded = r.loaded ? '' : ' (not shown: a newer load superseded it)';
  return { text: `goblock: ${r.message}${superseded}${extra}`, warn };
}

/** What "Capture from Service…" can fetch (goblock.captureService's `what`), as the picker offers it. */
export const SERVICE_CAPTURES: { what: string; label: string; detail: string; timed: boolean }[] = [
  {
    what: 'trace', label: 'Execution trace', timed: true,
    detail: '/debug/pprof/trace for N seconds: every blocking event, with its duration',
  },
  {
    what: 'goroutines', label: 'Goroutine dump', timed: false,
    detail: '/debug/pprof/goroutine?debug=2: where every goroutine is parked now (a hang, a leak)',
  },
  {
    what: 'block', label: 'Block profile', timed: true,
    detail: '/debug/pprof/block for N seconds: sampled contentions (the service sets runtime.SetBlockProfileRate)',
  },
  {
    what: 'mutex', label: 'Mutex profile', timed: true,
    detail: '/debug/pprof/mutex for N seconds: sampled lock contention (the service sets runtime.SetMutexProfileFraction)',
  },
];

/**
 * The arguments of goblock.captureService, or why the input is refused before asking.
 * `seconds` is not read for a goroutine dump.
 */
export function serviceArgs(url: string, seconds: string, what = 'trace'): { args: unknown[] } | { error: string } {
  const u = url.trim();
  if (u === '') return { error: 'a URL is needed (http://host:port of a service with net/http/pprof)' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^https?:\/\//i.test(u)) {
    return { error: 'only http:// and https:// URLs are fetched' };
  }
  const kind = SERVICE_CAPTURES.find((c) => c.what === what);
  if (!kind) return { error: `cannot capture "${what}" (trace, goroutines, block, mutex)` };
  if (!kind.timed) return { args: [{ url: u, what }] };
  const s = Number(seconds.trim());
  if (!Number.isFinite(s) || s <= 0 || s > 3600) return { error: 'seconds: a number above 0, at most 3600' };
  return { args: [what === 'trace' ? { url: u, seconds: s } : { url: u, seconds: s, what }] };
}

/** A row of the captures quick pick. */
export function captureRow(c: CaptureInfo): { label: string; description: string; detail: string } {
  const size = c.traceBytes >= 1 << 20 ? `${(c.traceBytes / (1 << 20)).toFixed(1)} MiB` : `${Math.round(c.traceBytes / 1024)} KiB`;
  return {
    label: `${c.loaded ? '$(eye) ' : ''}${c.name}`,
    description: `${c.kind}${c.what !== 'trace' ? ` ${c.what}` : ''} · ${c.outcome} · ${size}`,
    detail: `${c.started}${c.warnings.length ? ` — ${c.warnings[0]}` : ''}`,
  };
}
