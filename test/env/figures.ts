// Figures that more than one e2e file measures and one summary line reports (issue 16's
// `accounts:` line: accounts.test.ts measures the accounts and providers, multicluster.test.ts the
// two-cluster role and the oversize trust). Each file records its figures in the run's environment
// directory; the global teardown prints the line once every part is there. Each test file runs in
// its own process, so a file on disk is what they share.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Figures = Record<string, number>;

/** The `accounts:` line's fields, in the order, and the file that measures each. */
const ACCOUNTS_LINE: [field: string, part: string][] = [
  ['accounts', 'accounts'],
  ['cross_account_ready', 'accounts'],
  ['providers_created', 'accounts'],
  ['thumbprint_ok', 'accounts'],
  ['multi_cluster_ready', 'multicluster'],
  ['oversize_caught', 'multicluster'],
  ['refused_account_caught', 'accounts'],
];

const dirOf = (envDir: string) => join(envDir, 'figures');

/** Records one test file's figures under the environment directory `envDir`. */
export function recordFigures(envDir: string, part: string, figures: Figures): void {
  mkdirSync(dirOf(envDir), { recursive: true });
  writeFileSync(join(dirOf(envDir), `${part}.json`), JSON.stringify(figures));
}

function readPart(envDir: string, part: string): Figures | undefined {
  const file = join(dirOf(envDir), `${part}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Figures) : undefined;
}

/** The `accounts:` line, or undefined when a part did not run (a single e2e file was run). */
export function accountsLine(envDir: string): string | undefined {
  const parts = new Map(ACCOUNTS_LINE.map(([, part]) => [part, readPart(envDir, part)]));
  const fields: string[] = [];
  for (const [field, part] of ACCOUNTS_LINE) {
    const value = parts.get(part)?.[field];
    if (value === undefined) return undefined;
    fields.push(`${field}=${value}`);
  }
  return `accounts: ${fields.join(' ')}`;
}
