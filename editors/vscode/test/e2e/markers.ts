// markers.ts: the blocking sites the e2e test expects, from testdata/markers.tsv (file, line,
// BLOCK/WAKE, reason): the BLOCK lines of the blocking program in the default categories.
import * as fs from 'node:fs';

export interface Site {
  file: string;
  line: number;
  reason: string;
}

/** BLOCK markers of testdata/programs/blocking in sync/net/syscall, chan receive first. */
export function expectedSites(markersTsv: string | undefined): Site[] {
  const fallback: Site[] = [{ file: 'main.go', line: 109, reason: 'chan receive' }];
  if (!markersTsv || !fs.existsSync(markersTsv)) return fallback;
  const sites = fs
    .readFileSync(markersTsv, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter(([file, , kind, reason]) => file?.startsWith('blocking/') && kind === 'BLOCK' && reason !== 'sleep' && reason !== 'forever')
    .map(([file, line, , reason]) => ({ file: file.slice('blocking/'.length), line: Number(line), reason }));
  return sites.length > 0 ? sites : fallback;
}
