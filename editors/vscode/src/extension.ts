// extension.ts: activation. Registers the commands, the hot-spots view and the status item,
// and starts `goblock lsp` by itself in a Go workspace with trace files (else on a command).
import * as vscode from 'vscode';
import { EXCLUDE_GLOB, shouldAutoStart, unionGlob } from './activation';
import { GoblockClient } from './client';
import { App, registerCommands } from './commands';
import { parseHotLines, visibleLines } from './hotLines';
import { HotSpotsTree } from './hotSpotsTree';
import { hotLinesArgs, SERVER } from './protocol';
import { TraceStatus } from './status';

export const TREE_LIMIT = 50;
/** Asked of the server: more than shown, since library lines are filtered out here. */
const FETCH_LIMIT = 200;
let client: GoblockClient | undefined;

async function workspaceFacts(): Promise<{ hasGo: boolean; traceCount: number }> {
  const glob = unionGlob(vscode.workspace.getConfiguration('goblock').get<string[]>('traces', []));
  const [goFiles, traces] = await Promise.all([
    vscode.workspace.findFiles('**/{go.mod,go.work,*.go}', EXCLUDE_GLOB, 1),
    glob ? vscode.workspace.findFiles(glob, EXCLUDE_GLOB, 1) : Promise.resolve([]),
  ]);
  return { hasGo: goFiles.length > 0, traceCount: traces.length };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('goblock');
  client = new GoblockClient(context, output);
  const status = new TraceStatus();
  const tree = new HotSpotsTree();
  const view = vscode.window.createTreeView('goblock.hotSpots', { treeDataProvider: tree, showCollapseAll: true });

  // One goblock.hotLines call feeds the tree and the status item.
  const refresh = async (): Promise<void> => {
    if (!client?.running) {
      tree.set([], []);
      status.notRunning('Open a Go file in a workspace with a trace, or run goblock: Load Trace…');
      return;
    }
    try {
      const r = parseHotLines(await client.execute(SERVER.hotLines, hotLinesArgs(FETCH_LIMIT)));
      const libraries = vscode.workspace.getConfiguration('goblock').get<boolean>('hotSpots.showLibraryLines', false);
      tree.set(visibleLines(r.lines, libraries, TREE_LIMIT), r.files);
      view.message = r.unmapped.length
        ? `${r.unmapped.length} recorded file(s) not found in this workspace (see goblock.substitutePath)`
        : undefined;
      await status.update(r);
    } catch (e) {
      output.appendLine(`goblock: reading the hot lines failed: ${e instanceof Error ? e.message : e}`);
    }
  };
  const app: App = { client, status, refresh };

  // Diagnostics change when the server (re)loads a trace, also on its own (file watcher):
  // refresh when a file gains or loses goblock diagnostics, not on every gopls update.
  const withOurs = new Set<string>();
  const ours = (uri: vscode.Uri): boolean => vscode.languages.getDiagnostics(uri).some((d) => d.source === 'goblock');
  const onDiagnostics = (e: vscode.DiagnosticChangeEvent): void => {
    let changed = false;
    for (const uri of e.uris) {
      const key = uri.toString();
      const now = ours(uri);
      if (now || withOurs.has(key)) changed = true;
      if (now) withOurs.add(key);
      else withOurs.delete(key);
    }
    if (changed) soon();
  };
  let timer: NodeJS.Timeout | undefined;
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void app.refresh(), 400);
  };
  const traceWatcher = vscode.workspace.createFileSystemWatcher('**/*{.trace,trace.out}');
  context.subscriptions.push(
    output,
    status,
    tree,
    view,
    traceWatcher,
    ...registerCommands(app),
    vscode.languages.onDidChangeDiagnostics(onDiagnostics),
    traceWatcher.onDidCreate(soon),
    traceWatcher.onDidChange(soon),
    traceWatcher.onDidDelete(soon),
    client.onDidChangeRunning(() => soon()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('goblock.server.path') && client?.running) {
        void vscode.commands.executeCommand('goblock.restartServer');
      } else if (e.affectsConfiguration('goblock')) soon();
    }),
    { dispose: () => timer && clearTimeout(timer) },
  );

  status.notRunning('Open a Go file in a workspace with a trace, or run goblock: Load Trace…');
  if (shouldAutoStart(await workspaceFacts())) {
    try {
      await client.start();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      output.appendLine(`goblock: could not start the language server: ${msg}`);
      const choice = await vscode.window.showErrorMessage(`goblock: ${msg}`, 'Open Settings');
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'goblock.server.path');
    }
  }
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
