// What the CLI prints and how it ends: exit codes, colour (only on a terminal, never with
// NO_COLOR), the ✓/✗ marks, and stable YAML/JSON for machines and diffs.
import { stringify } from 'yaml';

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  /** Everything checked holds (validate: no error; doctor: every link holds; render/import: done). */
  ok: 0,
  /** A finding: an invalid object (validate, render), a broken link (doctor). */
  findings: 1,
  /** The command line or an input is unusable: unknown flag, unreadable file, bad --config. */
  usage: 2,
  /** The cluster or AWS could not be asked (no kubeconfig, no credentials, a failed call). */
  unreachable: 3,
  /** Anything else: a bug in the CLI (the message says what failed). */
  internal: 4,
} as const;

/** A problem the user must fix in how the command was called (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The cluster or AWS did not answer (exit 3). */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

export interface ColourStream {
  isTTY?: boolean;
  hasColors?: () => boolean;
}

/**
 * Colour only on a terminal that has colours, and never when NO_COLOR is set to anything
 * (https://no-color.org) or --no-color was given.
 */
export function colourEnabled(stream: ColourStream, env: NodeJS.ProcessEnv = process.env, flag = true): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && (stream.hasColors?.() ?? false);
}

export interface Paint {
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  dim: (s: string) => string;
  bold: (s: string) => string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function paint(enabled: boolean): Paint {
  if (!enabled) return { red: plain, green: plain, yellow: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** Keys sorted at every level: two renders of the same input are byte-equal, and diffs are small. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** YAML that any reader takes back as the same JSON: no line folding, strings that look like dates or numbers quoted. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, version: '1.1' });
}

/** A YAML stream of documents, each preceded by its comment lines. */
export function toYamlStream(docs: readonly { comments?: readonly string[]; value: unknown }[]): string {
  return docs
    .map((d) => `---\n${(d.comments ?? []).map((c) => `# ${c}\n`).join('')}${d.value === undefined ? '' : toYaml(d.value)}`)
    .join('');
}

export type OutputFormat = 'yaml' | 'json';

export function parseFormat(value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new UsageError(`unknown output format ${value}: use ${allowed.join(' or ')}`);
  return value;
}

/**
 * A progress line on a terminal (rewritten in place, at most ten times a second); elsewhere only
 * the final line, so that logs and pipes stay clean.
 */
export class Progress {
  private readonly stream: NodeJS.WritableStream & ColourStream;
  private readonly live: boolean;
  private last = 0;

  constructor(stream: NodeJS.WritableStream & ColourStream, live = stream.isTTY === true) {
    this.stream = stream;
    this.live = live;
  }

  update(text: string): void {
    const now = performance.now();
    if (!this.live || now - this.last < 100) return;
    this.last = now;
    this.stream.write(`\r\u001b[K${text}`);
  }

  done(text: string): void {
    if (this.live) this.stream.write('\r\u001b[K');
    this.stream.write(`${text}\n`);
  }
}
