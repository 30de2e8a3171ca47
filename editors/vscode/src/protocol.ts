// protocol.ts: the names and arguments of the server's workspace/executeCommand commands
// (lsp/server), in one place so a change on the server side is a one-line change here. Pure.

export const SERVER = {
  loadTrace: 'goblock.loadTrace',
  reload: 'goblock.reload',
  clear: 'goblock.clear',
  hotLines: 'goblock.hotLines',
  captureTest: 'goblock.captureTest',
  captureService: 'goblock.captureService',
  captures: 'goblock.captures',
  loadCapture: 'goblock.loadCapture',
  cancelCapture: 'goblock.cancelCapture',
} as const;

/** Arguments of goblock.loadTrace: the trace's file-system path. */
export function loadTraceArgs(fsPath: string): unknown[] {
  return [fsPath];
}

/** Arguments of goblock.hotLines: how many lines to return. */
export function hotLinesArgs(limit: number): unknown[] {
  return [limit];
}
