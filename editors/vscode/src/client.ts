// client.ts: owns the vscode-languageclient connection to `goblock lsp`: starts it on demand,
// restarts it, forwards the normalized settings, runs the server's workspace commands, says
// what state the server is in (not started, starting, running, failed to start: no binary…),
// and hides the inlay hints when the user toggles them off (kept in the workspace's extension
// state, never in the user's settings files).
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  InlayHintRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { serverSettings, ServerSettings } from './config';
import { parseStatus, ServerStatus, STATUS_NOTIFICATION } from './protocol';
import { resolveServer } from './serverPath';

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The user's `goblock.*` settings, normalized for the server. */
export function currentSettings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration('goblock');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return serverSettings((k) => cfg.get(k), { home: os.homedir(), workspaceFolder: folder });
}

/** Where the server is: never asked to start, starting, running, or could not start (why). */
export type ServerState =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };

/** Workspace state key of the inlay-hint toggle. */
const HINTS_HIDDEN = 'goblock.inlayHints.hidden';

export class GoblockClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private current: ServerState = { kind: 'idle' };
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  /** Fires when the server's state changes. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly statusEmitter = new vscode.EventEmitter<ServerStatus>();
  /** Fires on the server's goblock/status: a load started, what is shown changed. */
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** The last goblock/status. */
  status: ServerStatus | undefined;
  /** Runs a server command that VS Code invokes itself (a code lens's): returns undefined to
   *  let it through unchanged, or a promise that does it (`next` sends it). */
  onServerCommand?: (command: string, args: unknown[], next: () => Promise<unknown>) => Promise<unknown> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  get state(): ServerState {
    return this.current;
  }

  private setState(s: ServerState): void {
    this.current = s;
    this.stateEmitter.fire(s);
  }

  /** Whether the user hid the inlay hints in this workspace (goblock: Toggle Inlay Hints). */
  get hintsHidden(): boolean {
    return this.context.workspaceState.get<boolean>(HINTS_HIDDEN, false);
  }

  /** Hides or shows the inlay hints: a view toggle, kept in the extension's workspace state. */
  async setHintsHidden(hidden: boolean): Promise<void> {
    await this.context.workspaceState.update(HINTS_HIDDEN, hidden);
    this.refreshInlayHints();
  }

  /** Starts the server once; later calls wait for the same start. */
  start(): Promise<LanguageClient> {
    if (this.client && this.client.state !== State.Stopped) return this.starting ?? Promise.resolve(this.client);
    if (this.starting) return this.starting;
    this.setState({ kind: 'starting' });
    this.starting = this.create()
      .catch((e: unknown) => {
        this.setState({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
        throw e;
      })
      .finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async create(): Promise<LanguageClient> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const resolved = resolveServer(
      vscode.workspace.getConfiguration('goblock.server').get<string>('path'),
      this.context.extensionPath,
      { home: os.homedir(), workspaceFolder: folder },
      { PATH: process.env.PATH, platform: process.platform, isExecutable },
    );
    if (typeof resolved === 'string') throw new Error(resolved);
    this.output.appendLine(`goblock: starting ${resolved.command} ${resolved.args.join(' ')} (${resolved.source})`);
    // No `transport`: TransportKind.stdio would append `--stdio`, which `goblock lsp` does not take.
    const serverOptions: ServerOptions = { command: resolved.command, args: resolved.args };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'go' }],
      outputChannel: this.output,
      initializationOptions: currentSettings(),
      synchronize: { configurationSection: 'goblock' },
      middleware: {
        workspace: {
          // Send the normalized settings rather than the raw section (which has client-only keys).
          didChangeConfiguration: (_sections, next) => {
            void _sections;
            return this.client
              ? this.client.sendNotification('workspace/didChangeConfiguration', { settings: { goblock: currentSettings() } })
              : next(undefined);
          },
          configuration: (params, token, next) => {
            const items = params.items;
            if (items.every((i) => i.section === 'goblock')) return items.map(() => currentSettings());
            return next(params, token);
          },
        },
        executeCommand: (command, args, next) =>
          this.onServerCommand?.(command, args, async () => next(command, args)) ?? next(command, args),
        provideInlayHints: (document, range, token, next) =>
          this.hintsHidden ? [] : next(document, range, token),
      },
    };
    const client = new LanguageClient('goblock', 'goblock', serverOptions, clientOptions);
    // Ask for goblock/status (docs/lsp.md, "Protocol extensions").
    client.registerFeature({
      fillClientCapabilities: (caps) => {
        caps.experimental = { ...((caps.experimental as object | undefined) ?? {}), goblockStatus: true };
      },
      initialize: () => undefined,
      getState: () => ({ kind: 'static' }),
      clear: () => undefined,
    });
    client.onNotification(STATUS_NOTIFICATION, (p: unknown) => {
      if (this.client !== client) return;
      try {
        this.status = parseStatus(p);
        this.statusEmitter.fire(this.status);
      } catch (e) {
        this.output.appendLine(`goblock: ${e instanceof Error ? e.message : e}`);
      }
    });
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState({ kind: 'running' });
      else if (e.newState === State.Stopped && this.current.kind === 'running') this.setState({ kind: 'stopped' });
    });
    this.client = client;
    await client.start();
    return client;
  }

  /** Stops the server (if any) and starts it again, e.g. after goblock.server.path changed. */
  async restart(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.stop().catch((e) => this.output.appendLine(`goblock: stop failed: ${e}`));
    await this.start();
  }

  /** Runs one of the server's workspace/executeCommand commands, starting the server if needed. */
  async execute<T = unknown>(command: string, args: unknown[] = []): Promise<T> {
    const client = await this.start();
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  /** Asks VS Code to fetch the inlay hints again (after the toggle). */
  refreshInlayHints(): void {
    const feature = this.client?.getFeature(InlayHintRequest.method);
    if (!feature) return;
    const fired = new Set<unknown>();
    for (const editor of vscode.window.visibleTextEditors) {
      const shape = feature.getProvider(editor.document);
      if (shape && !fired.has(shape)) {
        fired.add(shape);
        shape.onDidChangeInlayHints.fire();
      }
    }
  }

  async dispose(): Promise<void> {
    this.stateEmitter.dispose();
    this.statusEmitter.dispose();
    if (this.client) await this.client.stop();
  }
}
