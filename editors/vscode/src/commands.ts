// commands.ts: the command palette entries: Load Trace…, Reload, Clear, Show Blocking Hot
// Spots, Show Goroutines Parked Here, Toggle Inlay Hints, Restart Language Server, Open Server
// Settings, Show Output (and the capture commands, capture.ts). Each runs the server's workspace
// command through the client and then refreshes the view and the status item.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Captures } from './capture';
import type { GoblockClient } from './client';
import type { CaptureInfo } from './captureResult';
import {
  goroutinesText, loadFailures, parkedPickRows, parkedSections, parseGoroutines, parseHotLines, parseParked,
  quickPickRows, visibleLines,
} from './hotLines';
import { goroutinesArgs, hotLinesArgs, loadTraceArgs, SERVER } from './protocol';
import type { TraceStatus } from './status';

export interface App {
  client: GoblockClient;
  status: TraceStatus;
  captures: Captures;
  /** Re-reads the hot lines and the trace facts. */
  refresh(): Promise<void>;
}

export const QUICK_PICK_LIMIT = 30;

async function report<T>(app: App, what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    app.client.output.appendLine(`goblock: ${what} failed: ${msg}`);
    const choice = await vscode.window.showErrorMessage(`goblock: ${what} failed: ${msg}`, 'Show Output');
    if (choice) app.client.output.show(true);
    return undefined;
  }
}

async function pickTraces(arg: unknown): Promise<vscode.Uri[] | undefined> {
  if (arg instanceof vscode.Uri) return [arg];
  if (typeof arg === 'string' && arg !== '') return [vscode.Uri.file(arg)];
  return vscode.window.showOpenDialog({
    canSelectMany: true,
    openLabel: 'Load Trace',
    title: 'goblock: Load Go execution trace',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { 'Go execution traces': ['trace', 'out'], 'All files': ['*'] },
  });
}

/** "no such file: PATH" / "not a file: PATH" before asking the server, else undefined. */
async function missingFile(uri: vscode.Uri): Promise<string | undefined> {
  try {
    const st = await vscode.workspace.fs.stat(uri);
    return st.type & vscode.FileType.Directory ? `not a file but a directory: ${uri.fsPath}` : undefined;
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return `no such file: ${uri.fsPath}`;
    return undefined; // the server says what else is wrong
  }
}

async function loadTrace(app: App, arg: unknown): Promise<void> {
  const uris = await pickTraces(arg);
  if (!uris || uris.length === 0) return;
  for (const uri of uris) {
    const name = path.basename(uri.fsPath);
    const missing = await missingFile(uri);
    if (missing) {
      void vscode.window.showErrorMessage(`goblock: ${missing}`);
      continue;
    }
    const ok = await report(app, `loading ${name}`, async () =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `goblock: loading ${name}…` },
        async () => {
          app.status.busy = true;
          try {
            const failures = loadFailures(await app.client.execute(SERVER.loadTrace, loadTraceArgs(uri.fsPath)));
            if (failures.length > 0) throw new Error(failures.map((f) => f.message).join('; '));
          } finally {
            app.status.busy = false;
          }
          return true;
        },
      ),
    );
    if (ok) vscode.window.setStatusBarMessage(`goblock: loaded ${name}`, 5000);
  }
  await app.refresh();
}

async function simple(app: App, command: string, what: string): Promise<void> {
  app.status.busy = true;
  const ok = await report(app, what, async () => {
    const failures = loadFailures(await app.client.execute(command));
    if (failures.length > 0) throw new Error(failures.map((f) => f.message).join('; '));
    return true;
  });
  app.status.busy = false;
  if (ok) vscode.window.setStatusBarMessage(`goblock: ${what} done`, 3000);
  await app.refresh();
}

async function showHotSpots(app: App): Promise<void> {
  const libraries = vscode.workspace.getConfiguration('goblock').get<boolean>('hotSpots.showLibraryLines', false);
  const rows = await report(app, 'reading the hot lines', async () => {
    const result = await app.client.execute(SERVER.hotLines, hotLinesArgs(QUICK_PICK_LIMIT * 4));
    const traced = visibleLines(parseHotLines(result).lines, libraries, QUICK_PICK_LIMIT);
    const { inputs, parked } = parseParked(result);
    const sections = parkedSections(inputs, parked, libraries, QUICK_PICK_LIMIT);
    type Row = vscode.QuickPickItem & { at?: { uri: string; line: number } };
    const out: Row[] = [];
    // Traces first; then, when dumps or profiles are loaded, one titled part per input kind.
    if (traced.length > 0 && sections.length > 0) out.push({ label: 'Traces', kind: vscode.QuickPickItemKind.Separator });
    for (const r of quickPickRows(traced)) out.push({ label: r.label, description: r.description, detail: r.detail, at: r.line });
    for (const r of parkedPickRows(sections)) {
      if (r.separator) out.push({ label: r.label, kind: vscode.QuickPickItemKind.Separator });
      else out.push({ label: r.label, description: r.description, detail: r.detail, at: r.line });
    }
    return out;
  });
  if (!rows) return;
  if (rows.length === 0) {
    void vscode.window.showInformationMessage('goblock: no blocking recorded. Load a trace, a goroutine dump or a profile first (goblock: Load Trace…).');
    return;
  }
  const picked = await vscode.window.showQuickPick(rows, {
    title: 'goblock: blocking hot spots',
    placeHolder: 'Hottest lines: traces by total blocked time; dumps and profiles by kind',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked?.at) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(picked.at.uri));
  const l = Math.min(picked.at.line, doc.lineCount - 1);
  const col = doc.lineAt(l).firstNonWhitespaceCharacterIndex;
  const at = new vscode.Range(l, col, l, col);
  const editor = await vscode.window.showTextDocument(doc, { selection: at });
  editor.revealRange(at, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** Read-only documents listing the goroutines of a line (scheme goblock-goroutines). */
export class GoroutineDocs implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'goblock-goroutines';
  private readonly texts = new Map<string, string>();
  private seq = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** A new document named after the line ("pool.go:27 goroutines"). */
  add(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: GoroutineDocs.scheme, path: `/${name} goroutines`, query: String(++this.seq) });
    this.texts.set(uri.toString(), text);
    return uri;
  }
}

/**
 * goblock: Show Goroutines Parked Here — every goroutine the dumps have parked at the cursor's
 * line (or at a hot-spots row), in a read-only document: the hover lists at most 16 id ranges.
 */
async function showGoroutines(app: App, docs: GoroutineDocs, arg?: unknown): Promise<void> {
  let at: { uri: string; line: number } | undefined;
  const row = (arg as { line?: { uri?: unknown; line?: unknown } } | undefined)?.line;
  if (row && typeof row.uri === 'string' && typeof row.line === 'number') {
    at = { uri: row.uri, line: row.line };
  } else {
    const ed = vscode.window.activeTextEditor;
    if (ed) at = { uri: ed.document.uri.toString(), line: ed.selection.active.line };
  }
  if (!at) {
    void vscode.window.showInformationMessage('goblock: open a Go file and put the cursor on a line with parked goroutines.');
    return;
  }
  const where = at;
  const r = await report(app, 'listing the goroutines', async () =>
    parseGoroutines(await app.client.execute(SERVER.goroutines, goroutinesArgs(where.uri, where.line))),
  );
  if (!r) return;
  if (r.rows.length === 0) {
    void vscode.window.showInformationMessage(`goblock: ${path.basename(vscode.Uri.parse(where.uri).fsPath)}:${where.line + 1}: ${r.label}`);
    return;
  }
  const uri = docs.add(`${path.basename(vscode.Uri.parse(r.uri || where.uri).fsPath)}:${r.line}`, goroutinesText(r));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** A view toggle: kept in the extension's workspace state, never written to settings files. */
async function toggleInlayHints(app: App): Promise<void> {
  const hidden = !app.client.hintsHidden;
  await app.client.setHintsHidden(hidden);
  vscode.window.setStatusBarMessage(`goblock: inlay hints ${hidden ? 'hidden' : 'shown'}`, 3000);
}

/**
 * Opens the settings editor where goblock.server.path can be set. It is machine-overridable:
 * in a remote window (code-server, SSH, WSL, containers) the User tab does not show it ("No
 * Settings Found"), the Remote tab does.
 */
export async function openServerSettings(): Promise<void> {
  const query = 'goblock.server.path';
  if (vscode.env.remoteName) {
    try {
      await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query });
      return;
    } catch {
      // Older VS Code: no arguments for the remote settings; the workspace scope shows it too.
      await vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', { query });
      return;
    }
  }
  await vscode.commands.executeCommand('workbench.action.openSettings', query);
}

export function registerCommands(app: App): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  const docs = new GoroutineDocs();
  return [
    vscode.workspace.registerTextDocumentContentProvider(GoroutineDocs.scheme, docs),
    reg('goblock.showGoroutines', (arg?: unknown) => showGoroutines(app, docs, arg)),
    reg('goblock.showCapture', (c?: CaptureInfo) => (c ? app.captures.showOne(c) : app.captures.show())),
    reg('goblock.loadTraceFile', (arg?: unknown) => loadTrace(app, arg)),
    reg('goblock.reloadTraces', () => simple(app, SERVER.reload, 'reload')),
    reg('goblock.clearTraces', () => simple(app, SERVER.clear, 'clear')),
    reg('goblock.showHotSpots', () => showHotSpots(app)),
    reg('goblock.toggleInlayHints', () => toggleInlayHints(app)),
    reg('goblock.restartServer', async () => {
      await report(app, 'restart', async () => app.client.restart());
      await app.refresh();
    }),
    reg('goblock.openServerSettings', openServerSettings),
    reg('goblock.showOutput', () => app.client.output.show(true)),
    reg('goblock.traceTestAtCursor', () => app.captures.traceAtCursor()),
    reg('goblock.tracePackage', () => app.captures.tracePackage()),
    reg('goblock.captureFromService', () => app.captures.fromService()),
    reg('goblock.showCaptures', () => app.captures.show()),
    reg('goblock.stopCapture', () => app.captures.cancel()),
  ];
}
