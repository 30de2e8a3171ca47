// capture.ts: tracing from VS Code (docs/capture.md): Trace Test at Cursor, Trace Package Tests,
// Capture from Service… (the URL and seconds remembered per workspace), Show Captures, Cancel
// Capture, and the server's "goblock: trace" lenses (their goblock.captureTest goes through
// run(), see client.ts). While a capture runs a status-bar spinner shows it (click: cancel);
// when it is done a notification offers "Show Hot Spots"; a capture already running is offered
// to be cancelled; a build error points at the Problems panel, where the server put the
// compiler's messages. The test's output is in the goblock output channel (the server logs it).
// A capture runs the user's code: only these commands and a lens the user clicks start one.
import * as path from 'path';
import * as vscode from 'vscode';
import {
  busyWith, captureRow, CaptureInfo, doneMessage, parseCaptureResult, parseCaptures, serviceArgs, SERVICE_CAPTURES, wasCancelled,
} from './captureResult';
import type { GoblockClient } from './client';
import { SERVER } from './protocol';

const URL_KEY = 'goblock.capture.serviceUrl';
const SECONDS_KEY = 'goblock.capture.serviceSeconds';

export class Captures implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('goblock.capture', vscode.StatusBarAlignment.Left, 100);
  /** Captures asked for and not answered yet, by a sequence number (the first is shown). */
  private readonly active = new Map<number, string>();
  private next = 0;

  constructor(
    private readonly client: GoblockClient,
    private readonly state: vscode.Memento,
    /** Re-reads the hot lines and the status after a capture. */
    private readonly refresh: () => Promise<void>,
  ) {
    this.item.name = 'goblock capture';
    this.item.command = 'goblock.stopCapture';
  }

  /** Runs one capture command (`send`: how; default the client's executeCommand), with the
   *  spinner, and says how it ended. */
  async run(label: string, command: string, args: unknown[], send?: () => Promise<unknown>): Promise<void> {
    const id = this.next++;
    this.active.set(id, label);
    this.showSpinner();
    try {
      const raw = send ? await send() : await this.client.execute(command, args);
      const r = parseCaptureResult(raw);
      const { text, warn } = doneMessage(r);
      const show = warn ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(text, 'Show Hot Spots', 'Show Output').then((pick) => {
        if (pick === 'Show Hot Spots') void vscode.commands.executeCommand('goblock.showHotSpots');
        if (pick === 'Show Output') this.client.output.show(true);
      });
    } catch (e) {
      await this.failed(e, label, command, args, send);
    } finally {
      this.active.delete(id);
      this.showSpinner();
      await this.refresh();
    }
  }

  private showSpinner(): void {
    const label = this.active.values().next().value;
    if (label === undefined) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) goblock: ${label}`;
    this.item.tooltip = `goblock: ${label} — click to cancel (the output is in the goblock output channel)`;
    this.item.show();
  }

  private async failed(
    e: unknown,
    label: string,
    command: string,
    args: unknown[],
    send?: () => Promise<unknown>,
  ): Promise<void> {
    if (wasCancelled(e)) {
      vscode.window.setStatusBarMessage('goblock: capture cancelled', 4000);
      return;
    }
    const busy = busyWith(e);
    if (busy) {
      // Asked without holding this (refused) capture's spinner.
      void vscode.window
        .showWarningMessage(`goblock: ${busy} is being traced. Cancel it and start ${label}?`, 'Cancel It and Start', 'Keep It')
        .then(async (pick) => {
          if (pick !== 'Cancel It and Start') return;
          await this.client.execute(SERVER.cancelCapture);
          // The cancelled capture answers first; then this one can start.
          await new Promise((r) => setTimeout(r, 500));
          await this.run(label, command, args, send);
        });
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.client.output.appendLine(msg);
    const build = (e as { data?: { reason?: string } }).data?.reason === 'build';
    // Not awaited: the spinner goes when the capture ends, not when the message is closed.
    void vscode.window.showErrorMessage(msg, ...(build ? ['Show Problems'] : []), 'Show Output').then((pick) => {
      if (pick === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      if (pick === 'Show Output') this.client.output.show(true);
    });
  }

  /** The active editor's Go file (saved first: the build reads the files on disk). */
  private async goFile(test: boolean): Promise<vscode.TextEditor | undefined> {
    const ed = vscode.window.activeTextEditor;
    const name = ed?.document.uri.fsPath ?? '';
    if (!ed || !name.endsWith('.go') || (test && !name.endsWith('_test.go'))) {
      void vscode.window.showErrorMessage(
        test ? 'goblock: open a _test.go file and put the cursor in a test' : 'goblock: open a Go file of the package',
      );
      return undefined;
    }
    if (ed.document.isDirty) await ed.document.save();
    return ed;
  }

  /** goblock: Trace Test at Cursor. */
  async traceAtCursor(): Promise<void> {
    const ed = await this.goFile(true);
    if (!ed) return;
    const args = [{ uri: ed.document.uri.toString(), line: ed.selection.active.line }];
    await this.run('tracing the test at the cursor', SERVER.captureTest, args);
  }

  /** goblock: Trace Package Tests. */
  async tracePackage(): Promise<void> {
    const ed = await this.goFile(false);
    if (!ed) return;
    const pkg = path.basename(path.dirname(ed.document.uri.fsPath));
    await this.run(`tracing the tests of ${pkg}`, SERVER.captureTest, [{ uri: ed.document.uri.toString() }]);
  }

  /** goblock: Capture from Service… — the URL, what to capture, and (but for a dump) the seconds. */
  async fromService(): Promise<void> {
    const url = await vscode.window.showInputBox({
      title: 'goblock: Capture from Service (1/3)',
      prompt: 'Base URL of a running service that serves net/http/pprof',
      placeHolder: 'http://127.0.0.1:6060',
      value: this.state.get<string>(URL_KEY, ''),
      ignoreFocusOut: true,
      validateInput: (v) => {
        const r = serviceArgs(v, '1');
        return 'error' in r ? r.error : undefined;
      },
    });
    if (url === undefined) return;
    const kind = await vscode.window.showQuickPick(
      SERVICE_CAPTURES.map((c) => ({ label: c.label, detail: c.detail, capture: c })),
      { title: 'goblock: Capture from Service (2/3)', placeHolder: `What to capture from ${url.trim()}`, ignoreFocusOut: true },
    );
    if (!kind) return;
    const what = kind.capture.what;
    let seconds = '';
    if (kind.capture.timed) {
      const s = await vscode.window.showInputBox({
        title: 'goblock: Capture from Service (3/3)',
        prompt: `Seconds to ${what === 'trace' ? 'trace' : 'profile'} ${url.trim()}`,
        value: this.state.get<string>(SECONDS_KEY, '5'),
        ignoreFocusOut: true,
        validateInput: (v) => {
          const r = serviceArgs(url, v, what);
          return 'error' in r ? r.error : undefined;
        },
      });
      if (s === undefined) return;
      seconds = s;
    }
    const r = serviceArgs(url, seconds, what);
    if ('error' in r) return;
    await this.state.update(URL_KEY, url.trim());
    if (kind.capture.timed) await this.state.update(SECONDS_KEY, seconds.trim());
    const title = kind.capture.timed
      ? `capturing ${what === 'trace' ? '' : `${kind.capture.label.toLowerCase()} of `}${seconds.trim()} s of ${url.trim()}`
      : `capturing a goroutine dump of ${url.trim()}`;
    await this.run(title, SERVER.captureService, r.args);
  }

  /** goblock: Show Captures — picks one to show again. */
  async show(): Promise<void> {
    let list;
    try {
      list = parseCaptures(await this.client.execute(SERVER.captures));
    } catch (e) {
      void vscode.window.showErrorMessage(`goblock: ${e instanceof Error ? e.message : e}`);
      return;
    }
    if (list.captures.length === 0) {
      void vscode.window.showInformationMessage(
        `goblock: no captures yet in ${list.root}. Use a "goblock: trace" lens or goblock: Capture from Service…`,
      );
      return;
    }
    type Row = vscode.QuickPickItem & { capture: CaptureInfo };
    const rows: Row[] = list.captures.map((c) => ({ ...captureRow(c), capture: c }));
    const picked = await vscode.window.showQuickPick(rows, {
      title: `goblock: captures in ${list.root}${list.running ? ` (running: ${list.running})` : ''}`,
      placeHolder: 'Show a capture (the one shown now has an eye)',
      matchOnDescription: true,
    });
    if (!picked) return;
    await this.run(`showing ${picked.capture.name}`, SERVER.loadCapture, [{ dir: picked.capture.dir }]);
  }

  /** Shows one capture (a row of the hot-spots tree). */
  async showOne(c: CaptureInfo): Promise<void> {
    await this.run(`showing ${c.name}`, SERVER.loadCapture, [{ dir: c.dir }]);
  }

  /** goblock: Cancel Capture. */
  async cancel(): Promise<void> {
    const r = (await this.client.execute(SERVER.cancelCapture)) as { cancelled?: boolean } | undefined;
    if (!r?.cancelled) vscode.window.setStatusBarMessage('goblock: no capture is running', 3000);
  }

  dispose(): void {
    this.item.dispose();
  }
}
