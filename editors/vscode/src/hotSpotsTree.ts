// hotSpotsTree.ts: the "Blocking hot spots" tree view: the traces' files (by total blocked
// time) with their hottest lines; then the lines of goroutine dumps and profiles, one section per
// input kind ("Parked now", "Block profile (sampled)", "Mutex profile (sampled)…"); then the
// workspace's captures. Clicking a line opens it; clicking a capture shows it.
import * as vscode from 'vscode';
import type { CaptureInfo } from './captureResult';
import { captureRow } from './captureResult';
import { FileGroup, groupByFile, HotFile, HotLine, ParkedLine, ParkedSection } from './hotLines';

type Node =
  | { kind: 'file'; group: FileGroup }
  | { kind: 'line'; line: HotLine; text: string }
  | { kind: 'section'; section: ParkedSection }
  | { kind: 'parked'; line: ParkedLine; label: string; text: string; section: ParkedSection['kind'] }
  | { kind: 'captures'; captures: CaptureInfo[] }
  | { kind: 'capture'; capture: CaptureInfo };

/** The client command a capture row runs (shows that capture). */
export const SHOW_CAPTURE = 'goblock.showCapture';
/** The client command a parked row's context menu runs (every goroutine of the line). */
export const SHOW_GOROUTINES = 'goblock.showGoroutines';

async function sourceLines(uri: string): Promise<string[]> {
  try {
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.parse(uri));
    return Buffer.from(bytes).toString('utf8').split(/\r?\n/);
  } catch {
    return []; // not in this workspace: rows show the line number only
  }
}

function opens(uri: vscode.Uri, line: number): vscode.Command {
  const at = new vscode.Range(line, 0, line, 0);
  return { title: 'Open', command: 'vscode.open', arguments: [uri, { selection: at } satisfies vscode.TextDocumentShowOptions] };
}

export class HotSpotsTree implements vscode.TreeDataProvider<Node> {
  private groups: FileGroup[] = [];
  private sections: ParkedSection[] = [];
  private captures: CaptureInfo[] = [];
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  set(lines: HotLine[], files: HotFile[], sections: ParkedSection[] = [], captures: CaptureInfo[] = []): void {
    this.groups = groupByFile(lines, files);
    this.sections = sections;
    this.captures = captures;
    this.changed.fire(undefined);
  }

  /** Lines listed: the traces' and the dumps'/profiles' (a line under two kinds counts twice). */
  get lineCount(): number {
    return this.groups.reduce((n, g) => n + g.lines.length, 0) + this.sections.reduce((n, s) => n + s.rows.length, 0);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'file': {
        const uri = vscode.Uri.parse(n.group.uri);
        const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Expanded);
        const n_ = n.group.annotated;
        item.description = [n.group.label, `${n_} line${n_ === 1 ? '' : 's'}`].filter((s) => s !== '').join(' · ');
        item.tooltip = vscode.workspace.asRelativePath(uri);
        item.contextValue = 'goblock.file';
        return item;
      }
      case 'line': {
        const l = n.line;
        const uri = vscode.Uri.parse(l.uri);
        const item = new vscode.TreeItem(`${l.line + 1}: ${n.text}`, vscode.TreeItemCollapsibleState.None);
        item.description = l.label;
        item.tooltip = new vscode.MarkdownString(
          `**${vscode.workspace.asRelativePath(uri)}:${l.line + 1}**\n\n${l.message ?? l.label}`,
        );
        item.iconPath = new vscode.ThemeIcon('debug-pause');
        item.contextValue = 'goblock.line';
        item.command = opens(uri, l.line);
        return item;
      }
      case 'section': {
        const s = n.section;
        const item = new vscode.TreeItem(s.title, vscode.TreeItemCollapsibleState.Expanded);
        item.description = s.inputs.join(' · ');
        item.tooltip = s.inputs.join('\n');
        item.iconPath = new vscode.ThemeIcon(s.kind === 'parked' ? 'debug-stackframe' : 'pulse');
        item.contextValue = `goblock.section.${s.kind}`;
        return item;
      }
      case 'parked': {
        const l = n.line;
        const uri = vscode.Uri.parse(l.uri);
        const item = new vscode.TreeItem(`${n.label}: ${n.text}`, vscode.TreeItemCollapsibleState.None);
        item.description = n.section === 'parked' ? l.parkedLabel : n.section === 'block' ? l.block?.label : l.mutex?.label;
        item.tooltip = new vscode.MarkdownString(`**${vscode.workspace.asRelativePath(uri)}:${l.line + 1}**\n\n${l.label}`);
        const flagged = l.flag === 'deadlock' || l.flag === 'blocked-forever' || l.flag === 'likely-leak';
        item.iconPath = new vscode.ThemeIcon(n.section === 'parked' ? (flagged ? 'warning' : 'debug-pause') : 'pulse');
        // Parked rows offer "every goroutine of the line" in their context menu.
        item.contextValue = n.section === 'parked' ? 'goblock.parkedLine' : 'goblock.sampledLine';
        item.command = opens(uri, l.line);
        return item;
      }
      case 'captures': {
        const item = new vscode.TreeItem('Captures', vscode.TreeItemCollapsibleState.Collapsed);
        const shown = n.captures.find((c) => c.loaded);
        item.description = `${n.captures.length}${shown ? ` · showing ${shown.name}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('record');
        item.contextValue = 'goblock.captures';
        return item;
      }
      case 'capture': {
        const r = captureRow(n.capture);
        const item = new vscode.TreeItem(n.capture.name, vscode.TreeItemCollapsibleState.None);
        item.description = r.description;
        item.tooltip = `${n.capture.dir}\n${r.detail}`;
        item.iconPath = new vscode.ThemeIcon(n.capture.loaded ? 'eye' : 'history');
        item.contextValue = 'goblock.capture';
        item.command = { title: 'Show', command: SHOW_CAPTURE, arguments: [n.capture] };
        return item;
      }
    }
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (!n) {
      const roots: Node[] = this.groups.map((group) => ({ kind: 'file' as const, group }));
      for (const section of this.sections) roots.push({ kind: 'section', section });
      if (this.captures.length > 0) roots.push({ kind: 'captures', captures: this.captures });
      return roots;
    }
    if (n.kind === 'file') {
      const lines = await sourceLines(n.group.uri);
      return n.group.lines.map((line) => ({ kind: 'line' as const, line, text: (lines[line.line] ?? '').trim() }));
    }
    if (n.kind === 'section') {
      const texts = new Map<string, string[]>();
      for (const r of n.section.rows) if (!texts.has(r.line.uri)) texts.set(r.line.uri, await sourceLines(r.line.uri));
      return n.section.rows.map((r) => {
        const base = decodeURIComponent(r.line.uri.slice(r.line.uri.lastIndexOf('/') + 1));
        return {
          kind: 'parked' as const,
          line: r.line,
          label: `${base}:${r.line.line + 1}`,
          text: (texts.get(r.line.uri)?.[r.line.line] ?? '').trim(),
          section: n.section.kind,
        };
      });
    }
    if (n.kind === 'captures') return n.captures.map((capture) => ({ kind: 'capture' as const, capture }));
    return [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
