// hotSpotsTree.ts: the "Blocking hot spots" tree view: files (by total blocked time) and under
// each its hottest lines with the source text; clicking a line opens it.
import * as vscode from 'vscode';
import { FileGroup, groupByFile, HotFile, HotLine } from './hotLines';

type Node = { kind: 'file'; group: FileGroup } | { kind: 'line'; line: HotLine; text: string };

export class HotSpotsTree implements vscode.TreeDataProvider<Node> {
  private groups: FileGroup[] = [];
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  set(lines: HotLine[], files: HotFile[]): void {
    this.groups = groupByFile(lines, files);
    this.changed.fire(undefined);
  }

  get lineCount(): number {
    return this.groups.reduce((n, g) => n + g.lines.length, 0);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === 'file') {
      const uri = vscode.Uri.parse(n.group.uri);
      const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Expanded);
      const n_ = n.group.annotated;
      item.description = [n.group.label, `${n_} line${n_ === 1 ? '' : 's'}`].filter((s) => s !== '').join(' · ');
      item.tooltip = vscode.workspace.asRelativePath(uri);
      item.contextValue = 'goblock.file';
      return item;
    }
    const l = n.line;
    const uri = vscode.Uri.parse(l.uri);
    const item = new vscode.TreeItem(`${l.line + 1}: ${n.text}`, vscode.TreeItemCollapsibleState.None);
    item.description = l.label;
    item.tooltip = new vscode.MarkdownString(
      `**${vscode.workspace.asRelativePath(uri)}:${l.line + 1}**\n\n${l.message ?? l.label}`,
    );
    item.iconPath = new vscode.ThemeIcon('debug-pause');
    item.contextValue = 'goblock.line';
    const at = new vscode.Range(l.line, 0, l.line, 0);
    item.command = { title: 'Open', command: 'vscode.open', arguments: [uri, { selection: at } satisfies vscode.TextDocumentShowOptions] };
    return item;
  }

  async getChildren(n?: Node): Promise<Node[]> {
    if (!n) return this.groups.map((group) => ({ kind: 'file' as const, group }));
    if (n.kind !== 'file') return [];
    let lines: string[] = [];
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.parse(n.group.uri));
      lines = Buffer.from(bytes).toString('utf8').split(/\r?\n/);
    } catch {
      /* the file is not in this workspace: rows show the line number only */
    }
    return n.group.lines.map((line) => ({ kind: 'line' as const, line, text: (lines[line.line] ?? '').trim() }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
