// extension.ts: activation. Registers the commands, the hot-spots view and the status item,
// and starts `goblock lsp` by itself in a Go workspace with trace files, or with tests when
// the capture lenses are on (else on a command).
// When the server cannot start (no binary), one notification says how to fix it, and the
// status item and the view say it too; a change of goblock.server.path starts it again.
import * as vscode from 'vscode';
import { EXCLUDE_GLOB, shouldAutoStart, unionGlob, WorkspaceFacts } from './activation';
import { Captures } from './capture';
import { GoblockClient } from './client';
import { App, openServerSettings, registerCommands } from './commands';
import { parseCaptures } from './captureResult';
import type { CaptureInfo } from './captureResult';
import { parkedSections, parseHotLines, parseParked, visibleLines } from './hotLines';
import { HotSpotsTree } from './hotSpotsTree';
import { hotLinesArgs, SERVER } from './protocol';
import { TraceStatus } from './status';
import { viewTitle } from './traceInfo';

export const TREE_LIMIT = 50;
/** Asked of the server: more than shown, since library lines are filtered out here. */
const FETCH_LIMIT = 200;
let client: GoblockClient | undefined;

async function workspaceFacts(): Promise<WorkspaceFacts> {
  const cfg = vscode.workspace.getConfiguration('goblock');
  const glob = unionGlob(cfg.get<string[]>('traces', []));
  const [goFiles, traces, tests] = await Promise.all([
    vscode.workspace.findFiles('**/{go.mod,go.work,*.go}', EXCLUDE_GLOB, 1),
    glob ? vscode.workspace.findFiles(glob, EXCLUDE_GLOB, 1) : Promise.resolve([]),
    vscode.workspace.findFiles('**/*_test.go', EXCLUDE_GLOB, 1),
  ]);
  return {
    hasGo: goFiles.length > 0,
    traceCount: traces.length,
    hasTests: tests.length > 0,
    lenses: cfg.get<boolean>('capture.codeLens', true),
  };
}

function lensName(args: unknown[]): string {
  const a = args[0] as { name?: unknown } | undefined;
  return typeof a?.name === 'string' ? a.name : "the package's tests";
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('goblock');
  client = new GoblockClient(context, output);
  const c = client;
  const status = new TraceStatus();
  const tree = new HotSpotsTree();
  const view = vscode.window.createTreeView('goblock.hotSpots', { treeDataProvider: tree, showCollapseAll: true });
  // What the hot-spots view's welcome text says when it is empty (package.json viewsWelcome).
  const setContext = (key: string, value: unknown) => void vscode.commands.executeCommand('setContext', key, value);
  setContext('goblock.server', 'idle');
  setContext('goblock.traces', 0);

  /** One notification per failure to start: what is wrong and how to fix it. */
  const notifyFailure = async (message: string): Promise<void> => {
    output.appendLine(`goblock: could not start the language server: ${message}`);
    const choice = await vscode.window.showErrorMessage(`goblock: ${message}`, 'Open Settings', 'Show Output');
    if (choice === 'Open Settings') await openServerSettings();
    else if (choice === 'Show Output') output.show(true);
  };

  // One goblock.hotLines call feeds the tree and the status item.
  const refresh = async (): Promise<void> => {
    const state = c.state;
    if (state.kind !== 'running') {
      tree.set([], []);
      view.title = viewTitle([]);
      setContext('goblock.traces', 0);
      if (state.kind === 'failed') status.failed(state.message);
      else if (state.kind === 'starting') status.starting();
      else if (state.kind === 'stopped') status.stopped();
      else status.idle();
      return;
    }
    try {
      const result = await c.execute(SERVER.hotLines, hotLinesArgs(FETCH_LIMIT));
      const r = parseHotLines(result);
      const { inputs, parked } = parseParked(result);
      const libraries = vscode.workspace.getConfiguration('goblock').get<boolean>('hotSpots.showLibraryLines', false);
      // The workspace's captures, listed under the lines (the title button picks one too).
      let captures: CaptureInfo[] = [];
      try {
        captures = parseCaptures(await c.execute(SERVER.captures)).captures;
      } catch (e) {
        output.appendLine(`goblock: listing the captures failed: ${e instanceof Error ? e.message : e}`);
      }
      tree.set(visibleLines(r.lines, libraries, TREE_LIMIT), r.files, parkedSections(inputs, parked, libraries, TREE_LIMIT), captures);
      setContext('goblock.traces', r.traces.length + inputs.length);
      // The view's header names what is shown: the trace, or the test a capture traced.
      view.title = viewTitle(r.traces.map((t) => t.path));
      view.message = r.unmapped.length
        ? `${r.unmapped.length} recorded file(s) not found in this workspace (see goblock.substitutePath)`
        : undefined;
      await status.update(r, inputs);
    } catch (e) {
      output.appendLine(`goblock: reading the hot lines failed: ${e instanceof Error ? e.message : e}`);
    }
  };
  const captures = new Captures(c, context.workspaceState, refresh);
  // A lens's goblock.captureTest: with the spinner and the notification (sent directly, so
  // that a failure is told once, by Captures, and not also as "Request … failed").
  c.onServerCommand = (command, args) =>
    command === SERVER.captureTest ? captures.run(`tracing ${lensName(args)}`, command, args) : undefined;
  const app: App = { client: c, status, captures, refresh };

  /** Starts (or restarts) the server; a failure is said once, in a notification and the status. */
  const start = async (restart: boolean): Promise<void> => {
    try {
      if (restart) await c.restart();
      else await c.start();
    } catch (e) {
      await refresh();
      await notifyFailure(e instanceof Error ? e.message : String(e));
    }
  };

  // The server says when a load starts and when what it shows changes (goblock/status, also
  // for loads of its own: file watcher, settings): refresh the view and the status then.
  let timer: NodeJS.Timeout | undefined;
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void app.refresh(), 400);
  };
  context.subscriptions.push(
    output,
    status,
    captures,
    tree,
    view,
    ...registerCommands(app),
    c.onDidChangeStatus((s) => {
      status.busy = s.state === 'loading';
      soon();
    }),
    c.onDidChangeState((s) => {
      setContext('goblock.server', s.kind);
      void refresh();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // A new server path: start the server again, whether it ran or failed to start.
      if (e.affectsConfiguration('goblock.server.path') && c.state.kind !== 'idle') void start(true);
      else if (e.affectsConfiguration('goblock')) soon();
    }),
    { dispose: () => timer && clearTimeout(timer) },
  );

  status.idle();
  if (shouldAutoStart(await workspaceFacts())) await start(false);
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
