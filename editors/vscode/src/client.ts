// client.ts: owns the vscode-languageclient connection to `goblock lsp`: starts it on demand,
// restarts it, forwards the normalized settings, and runs the server's workspace commands.
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

export class GoblockClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<boolean>();
  /** Fires true when the server is running, false when it stopped. */
  readonly onDidChangeRunning = this.stateEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Starts the server once; later calls wait for the same start. */
  start(): Promise<LanguageClient> {
    if (this.client && this.client.state !== State.Stopped) return this.starting ?? Promise.resolve(this.client);
    this.starting = this.create().finally(() => (this.starting = undefined));
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
        provideInlayHints: (document, range, token, next) =>
          vscode.workspace.getConfiguration('goblock').get<boolean>('inlayHints.enable', true)
            ? next(document, range, token)
            : [],
      },
    };
    const client = new LanguageClient('goblock', 'goblock', serverOptions, clientOptions);
    client.onDidChangeState((e) => this.stateEmitter.fire(e.newState === State.Running));
    this.client = client;
    await client.start();
    return client;
  }

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
    if (this.client) await this.client.stop();
  }
}
