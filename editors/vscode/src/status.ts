// status.ts: the language status item in Go files: which trace(s) the server has loaded, their
// Go version and age, and whether they look stale (a .go file changed after the trace was
// written); load failures and files not found show up here too.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXCLUDE_GLOB } from './activation';
import { describeDumps, DumpInput, hiddenCategories, HotLinesResult, statusWithFailures, withDumps } from './hotLines';
import { describeTraces, goVersionFromHeader, staleness, traceLabel, TraceFacts } from './traceInfo';

async function readFacts(p: string, goVersion: string | undefined): Promise<TraceFacts | undefined> {
  try {
    const st = await fs.promises.stat(p);
    if (goVersion) return { path: p, mtimeMs: st.mtimeMs, goVersion };
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
  traces: TraceFacts[] = [];

  constructor() {
    this.item.name = 'goblock';
    this.item.text = 'goblock';
  }

  set busy(b: boolean) {
    this.item.busy = b;
  }

  private show(text: string, detail: string, severity: vscode.LanguageStatusSeverity, command?: vscode.Command): void {
    this.traces = [];
    this.item.busy = false;
    this.item.text = text;
    this.item.detail = detail;
    this.item.severity = severity;
    this.item.command = command;
    this.item.name = text;
  }

  /** The server was not started: this workspace has no trace file (or no Go). */
  idle(): void {
    this.show('goblock', 'starts in a Go workspace with a trace file', vscode.LanguageStatusSeverity.Information, {
      title: 'Load Trace…',
      command: 'goblock.loadTraceFile',
    });
  }

  starting(): void {
    this.show('goblock: starting', 'starting goblock lsp', vscode.LanguageStatusSeverity.Information);
    this.item.busy = true;
  }

  /** The server stopped after running (it crashed, or was stopped). */
  stopped(): void {
    this.show('goblock: stopped', 'the language server stopped (see the goblock output)', vscode.LanguageStatusSeverity.Error, {
      title: 'Restart',
      command: 'goblock.restartServer',
    });
  }

  /** The server could not start: why, and where to fix it. */
  failed(message: string): void {
    this.show('goblock: no server', message, vscode.LanguageStatusSeverity.Error, {
      title: 'Open Settings',
      command: 'goblock.openServerSettings',
    });
  }

  /** Shows the server's state (the goblock.hotLines result; `dumps`: its dumps and profiles). */
  async update(r: HotLinesResult, dumps: DumpInput[] = []): Promise<void> {
    const facts = (await Promise.all(r.traces.map((t) => readFacts(t.path, t.goVersion)))).filter(
      (f): f is TraceFacts => f !== undefined,
    );
    const newest = facts.length > 0 ? await newestGoSource() : undefined;
    const stale = facts.map((t) => staleness(t.mtimeMs, newest));
    // Only dumps or profiles shown: they are the status, not "no trace"; beside traces, named too.
    const onlyDumps = facts.length === 0 && dumps.length > 0;
    const d = onlyDumps
      ? { ...describeDumps(dumps, path.basename), anyStale: false }
      : withDumps(describeTraces(facts, Date.now(), stale, traceLabel), dumps, path.basename);
    const shown = facts.length + dumps.length;
    this.traces = facts;
    this.item.busy = r.loading;
    let detail = d.detail;
    const hidden = hiddenCategories(r.categories);
    if (facts.length > 0 && hidden.length > 0) detail += ` · not shown: ${hidden.join(', ')}`;
    if (r.unmapped.length > 0) detail += ` · ${r.unmapped.length} file${r.unmapped.length === 1 ? '' : 's'} not found`;
    if (r.failures.length > 0 && shown === 0) {
      // Nothing shown: the failures are the status.
      const f = statusWithFailures(d, 0, r.failures);
      this.item.text = f.text;
      this.item.detail = f.detail;
      this.item.severity = vscode.LanguageStatusSeverity.Error;
      this.item.command = { title: 'Show Output', command: 'goblock.showOutput' };
      return;
    }
    // Something shown: it stays the status; failures are noted beside it ("· 1 failed").
    const f = r.failures.length > 0 ? statusWithFailures({ text: d.text, detail }, shown, r.failures) : undefined;
    this.item.text = f?.text ?? d.text;
    this.item.detail = f?.detail ?? detail;
    this.item.severity =
      f || d.anyStale ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
    this.item.command =
      shown === 0
        ? { title: 'Load Trace…', command: 'goblock.loadTraceFile' }
        : { title: 'Reload', command: 'goblock.reloadTraces' };
    const reasons = stale.filter((s) => s.stale).map((s) => s.reason);
    const names = [...facts, ...dumps].map((f) => vscode.workspace.asRelativePath(f.path));
    this.item.name = `goblock: ${names.join(', ') || 'no trace'}${
      reasons.length ? ` — stale? ${reasons[0]}` : ''
    }`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
