// commands.ts: the command palette entries: Load Trace…, Reload, Clear, Show Blocking Hot
// Spots, Toggle Inlay Hints, Restart Language Server, Open Server Settings, Show Output. Each runs the server's
// workspace command through the client and then refreshes the view and the status item.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Captures } from './capture';
import type { GoblockClient } from './client';
import { loadFailures, parseHotLines, quickPickRows, visibleLines } from './hotLines';
import { hotLinesArgs, loadTraceArgs, SERVER } from './protocol';
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

async function loadTrace(app: App, arg: unknown): Promise<void> {
  const uris = await pickTraces(arg);
  if (!uris || uris.length === 0) return;
  for (const uri of uris) {
    const name = path.basename(uri.fsPath);
    const ok = await report(app, `loading ${name}`, async () =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `goblock: loading ${name}…` },
        async () => {
          app.status.busy = true;
          try {
            const failures = loadFailures(await app.client.execute(SERVER.loadTrace, loadTraceArgs(uri.fsPath)));
            if (failures.length > 0) throw new Error(failures.map((f) => `${path.basename(f.path)}: ${f.message}`).join('; '));
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
    if (failures.length > 0) throw new Error(failures.map((f) => `${path.basename(f.path)}: ${f.message}`).join('; '));
    return true;
  });
  app.status.busy = false;
  if (ok) vscode.window.setStatusBarMessage(`goblock: ${what} done`, 3000);
  await app.refresh();
}

async function showHotSpots(app: App): Promise<void> {
  const libraries = vscode.workspace.getConfiguration('goblock').get<boolean>('hotSpots.showLibraryLines', false);
  const lines = await report(app, 'reading the hot lines', async () =>
    visibleLines(
      parseHotLines(await app.client.execute(SERVER.hotLines, hotLinesArgs(QUICK_PICK_LIMIT * 4))).lines,
      libraries,
      QUICK_PICK_LIMIT,
    ),
  );
  if (!lines) return;
  if (lines.length === 0) {
    void vscode.window.showInformationMessage('goblock: no blocking recorded. Load a trace first (goblock: Load Trace…).');
    return;
  }
  const picked = await vscode.window.showQuickPick(quickPickRows(lines), {
    title: 'goblock: blocking hot spots',
    placeHolder: 'Hottest lines by total blocked time',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(picked.line.uri));
  const l = Math.min(picked.line.line, doc.lineCount - 1);
  const col = doc.lineAt(l).firstNonWhitespaceCharacterIndex;
  const at = new vscode.Range(l, col, l, col);
  const editor = await vscode.window.showTextDocument(doc, { selection: at });
  editor.revealRange(at, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
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
  return [
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
