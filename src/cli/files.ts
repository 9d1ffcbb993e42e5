// Reading -f FILE|DIR: every .yaml, .yml and .json file (directories recursively, in a stable
// order), every document in each, with the line of every field for messages (yaml's LineCounter).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { API_VERSION, GROUP, KIND } from '../api/types.ts';
import { UsageError } from './output.ts';

const EXTENSIONS = /\.(ya?ml|json)$/i;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);

/** The files named, directories expanded (recursively, sorted; node_modules and .git left out). */
export function collectFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path);
      } else if (EXTENSIONS.test(entry.name)) out.push(path);
    }
  };
  for (const p of paths) {
    if (p === '-') {
      out.push(p);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`cannot read ${p}: no such file or directory`);
    }
    if (isDir) walk(p);
    else out.push(p);
  }
  return out;
}

export function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** One YAML document of a file. */
export interface SourceDoc {
  /** The file as named on the command line (relative to the working directory). */
  file: string;
  /** The document's line (1-based). */
  line: number;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
  /** Syntax errors: the document cannot be read. */
  errors: { line: number; message: string }[];
}

export function displayName(file: string): string {
  if (file === '-') return '<stdin>';
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export function parseDocuments(file: string, text: string): SourceDoc[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const name = displayName(file);
  return list
    .filter((doc) => doc.contents !== null || doc.errors.length > 0)
    .map((doc) => {
      const errors = doc.errors.map((e) => ({ line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] ?? e.message }));
      const start = doc.contents?.range[0] ?? doc.range[0];
      return {
        file: name,
        line: lines.linePos(start).line,
        doc,
        lines,
        value: errors.length > 0 ? undefined : (doc.toJS({ maxAliasCount: 100 }) as unknown),
        errors,
      };
    });
}

export function readDocuments(file: string): SourceDoc[] {
  return parseDocuments(file, readText(file));
}

/** A path into a document: keys and list indexes, as ajv and Kubernetes name fields. */
export type FieldPath = readonly (string | number)[];

/** `spec.attachPolicyARNs[0]`: a field as the API server names it. */
export function fieldName(path: FieldPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

/**
 * The line of a field, or of its nearest ancestor that exists. `key`: the line of the key rather
 * than of the value (an unknown field).
 */
export function lineOf(src: Pick<SourceDoc, 'doc' | 'lines' | 'line'>, path: FieldPath, base: FieldPath = []): number {
  let node: unknown = src.doc.contents;
  let offset = src.doc.contents?.range[0];
  for (const part of [...base, ...path]) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? src.line : src.lines.linePos(offset).line;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a document declares itself an IamServiceAccount (of any version of the group). */
export function isIamServiceAccountDoc(v: unknown): v is Record<string, unknown> {
  return isRecord(v) && v.kind === KIND && typeof v.apiVersion === 'string' && v.apiVersion.startsWith(`${GROUP}/`);
}

/** A Kubernetes List (kind: List, or FooList) holds its objects in items. */
export function listItems(v: unknown): unknown[] | undefined {
  if (!isRecord(v) || typeof v.kind !== 'string' || !v.kind.endsWith('List') || !Array.isArray(v.items)) return undefined;
  return v.items as unknown[];
}

export { API_VERSION };
