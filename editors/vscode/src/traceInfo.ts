// traceInfo.ts: facts about a loaded trace file for the language status item: the Go version
// from its 16-byte header ("go 1.26 trace\0\0\0" — strictly the trace format's version, which
// later releases keep while the format is unchanged), its age, and whether it looks stale (a Go
// source file changed after it was written), and how to name it (a capture by what it traced).
// Pure.

export interface TraceFacts {
  path: string;
  goVersion?: string;
  mtimeMs: number;
}

/** The Go version in a trace header, e.g. "1.26"; undefined when the bytes are no Go trace. */
export function goVersionFromHeader(header: Uint8Array): string | undefined {
  const text = Buffer.from(header.subarray(0, 16)).toString('latin1');
  const m = /^go (1\.\d+) trace\0*$/.exec(text);
  return m ? m[1] : undefined;
}

/** A short age: "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago". */
export function formatAge(ms: number): string {
  if (ms < 0) return 'in the future';
  const s = Math.floor(ms / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

export interface Staleness {
  stale: boolean;
  /** Why it looks stale, for the tooltip. */
  reason?: string;
}

/**
 * A trace looks stale when a Go source file or a traced binary was modified after the trace was
 * written: line numbers may have moved since. A small tolerance absorbs a build that finishes
 * just after `go test -trace` writes the file.
 */
export function staleness(
  traceMtimeMs: number,
  newestSource?: { path: string; mtimeMs: number },
  toleranceMs = 2000,
): Staleness {
  if (newestSource && newestSource.mtimeMs > traceMtimeMs + toleranceMs) {
    return { stale: true, reason: `${newestSource.path} changed after the trace was recorded` };
  }
  return { stale: false };
}

/** How a trace is named to people: a capture's trace (`…/<UTC stamp>-<name>/trace`, see
 *  docs/capture.md "Where captures go") by what it traced, "TestX (capture)"; any other file by
 *  its base name. */
export function traceLabel(p: string): string {
  const m = /(?:^|[\\/])\d{8}T\d{6}Z-([^\\/]+)[\\/]trace$/.exec(p);
  if (m) return `${m[1]} (capture)`;
  return p.split(/[\\/]/).pop() || p;
}

/** The hot-spots view's title: what it shows ("Blocking hot spots · TestX (capture)"). */
export function viewTitle(traces: string[]): string {
  if (traces.length === 0) return 'Blocking hot spots';
  return `Blocking hot spots · ${traces.length === 1 ? traceLabel(traces[0]) : `${traces.length} traces`}`;
}

/** The status item's text and detail for the loaded traces. */
export function describeTraces(
  traces: TraceFacts[],
  now: number,
  stale: Staleness[],
  basename: (p: string) => string,
): { text: string; detail: string; anyStale: boolean } {
  if (traces.length === 0) return { text: 'goblock: no trace', detail: 'Load a Go execution trace', anyStale: false };
  const anyStale = stale.some((s) => s.stale);
  const versions = [...new Set(traces.map((t) => (t.goVersion ? `Go ${t.goVersion}` : 'Go ?')))];
  const newest = Math.max(...traces.map((t) => t.mtimeMs));
  const name = traces.length === 1 ? basename(traces[0].path) : `${traces.length} traces`;
  const text = `goblock: ${name}${anyStale ? ' (stale?)' : ''}`;
  const detail = `${versions.join(', ')} · ${formatAge(now - newest)}`;
  return { text, detail, anyStale };
}
