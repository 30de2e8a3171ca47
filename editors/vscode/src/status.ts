// status.ts: the language status item in Go files: which trace(s) are loaded, their Go
// version and age, and whether they look stale (a .go file changed after the trace was written).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXCLUDE_GLOB, unionGlob } from './activation';
import { describeTraces, goVersionFromHeader, staleness, TraceFacts } from './traceInfo';

async function readFacts(p: string): Promise<TraceFacts | undefined> {
  try {
    const st = await fs.promises.stat(p);
    const fh = await fs.promises.open(p, 'r');
    try {
      const buf = Buffer.alloc(16);
      await fh.read(buf, 0, 16, 0);
      return { path: p, mtimeMs: st.mtimeMs, goVersion: goVersionFromHeader(buf) };
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** Newest *.go file of the workspace (bounded search), for the staleness check. */
async function newestGoSource(): Promise<{ path: string; mtimeMs: number } | undefined> {
  const files = await vscode.workspace.findFiles('**/*.go', EXCLUDE_GLOB, 2000);
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const f of files) {
    try {
      const m = (await fs.promises.stat(f.fsPath)).mtimeMs;
      if (!newest || m > newest.mtimeMs) newest = { path: vscode.workspace.asRelativePath(f), mtimeMs: m };
    } catch {
      /* deleted meanwhile */
    }
  }
  return newest;
}

export class TraceStatus implements vscode.Disposable {
  private readonly item = vscode.languages.createLanguageStatusItem('goblock.traces', { language: 'go' });
  private readonly explicit = new Set<string>();
  private cleared = false;
  traces: TraceFacts[] = [];

  constructor() {
    this.item.name = 'goblock traces';
    this.item.text = 'goblock';
    this.item.command = { title: 'Reload', command: 'goblock.reloadTraces' };
  }

  set busy(b: boolean) {
    this.item.busy = b;
  }

  loaded(fsPath: string): void {
    this.explicit.add(fsPath);
    this.cleared = false;
  }

  clear(): void {
    this.explicit.clear();
    this.cleared = true;
  }

  reloaded(): void {
    this.cleared = false;
  }

  /** The traces the server loads: the goblock.traces globs plus those loaded by hand. */
  private async tracePaths(): Promise<string[]> {
    if (this.cleared) return [];
    const globs = vscode.workspace.getConfiguration('goblock').get<string[]>('traces', []);
    const glob = unionGlob(globs);
    const found = glob ? await vscode.workspace.findFiles(glob, EXCLUDE_GLOB, 100) : [];
    return [...new Set([...found.map((u) => u.fsPath), ...this.explicit])].sort();
  }

  async refresh(): Promise<void> {
    const facts = (await Promise.all((await this.tracePaths()).map(readFacts))).filter(
      (f): f is TraceFacts => f !== undefined,
    );
    const newest = facts.length > 0 ? await newestGoSource() : undefined;
    const stale = facts.map((t) => staleness(t.mtimeMs, newest));
    const d = describeTraces(facts, Date.now(), stale, (p) => path.basename(p));
    this.traces = facts;
    this.item.text = d.text;
    this.item.detail = d.detail;
    this.item.severity = d.anyStale ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
    const reasons = stale.filter((s) => s.stale).map((s) => s.reason);
    this.item.name = `goblock traces: ${facts.map((f) => vscode.workspace.asRelativePath(f.path)).join(', ') || 'none'}${
      reasons.length ? ` — stale? ${reasons[0]}` : ''
    }`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
