// IAM policy documents: decode what IAM returns, normalise, compare semantically. Pure.
// IAM returns documents URL-encoded and does not keep key order or scalar-vs-array choices, so
// two documents are equal when their normal forms are.

import type { PolicyDocument } from '../api/types.ts';

export type { PolicyDocument };

/** Parses a document as IAM returns it (URL-encoded JSON) or as a person wrote it (JSON). */
export function parsePolicyDocument(text: string): PolicyDocument {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : decodeURIComponent(trimmed);
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('a policy document must be a JSON object');
  }
  return parsed as PolicyDocument;
}

/** Parses a document as IAM returns it; an unreadable one counts as empty (it grants and admits nothing). */
export function parsePolicyDocumentOrEmpty(text: string): PolicyDocument {
  try {
    return parsePolicyDocument(text);
  } catch {
    return {};
  }
}

/** Length of the document as IAM counts it: JSON without white space. */
export function minifiedLength(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** Keys whose values are sets: a scalar and a one-element array mean the same, order means nothing. */
const SET_KEYS = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);

export function normalisePolicy(doc: PolicyDocument): unknown {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(doc).sort()) {
    const value = doc[key];
    out[key] = key === 'Statement' ? sortByCanonical(asArray(value).map(normaliseStatement)) : canonical(value);
  }
  return out;
}

function normaliseStatement(st: unknown): unknown {
  if (!isRecord(st)) return canonical(st);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(st).sort()) {
    const value = st[key];
    if (SET_KEYS.has(key)) out[key] = sortedSet(value);
    else if (key === 'Principal' || key === 'NotPrincipal') out[key] = normalisePrincipal(value);
    else if (key === 'Condition') out[key] = normaliseCondition(value);
    else out[key] = canonical(value);
  }
  return out;
}

function normalisePrincipal(p: unknown): unknown {
  if (p === '*') return { AWS: ['*'] };
  if (!isRecord(p)) return canonical(p);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(p).sort()) out[key] = sortedSet(p[key]);
  return out;
}

function normaliseCondition(c: unknown): unknown {
  if (!isRecord(c)) return canonical(c);
  const out: Record<string, unknown> = {};
  for (const op of Object.keys(c).sort()) {
    const block = c[op];
    if (!isRecord(block)) {
      out[op] = canonical(block);
      continue;
    }
    const inner: Record<string, unknown> = {};
    for (const key of Object.keys(block).sort()) inner[key] = sortedSet(block[key]);
    out[op] = inner;
  }
  return out;
}

function sortedSet(v: unknown): unknown[] {
  const items = asArray(v).map(canonical);
  const unique = new Map(items.map((i) => [JSON.stringify(i), i]));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
}

function sortByCanonical(items: unknown[]): unknown[] {
  return items
    .map((i) => [JSON.stringify(i), i] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, i]) => i);
}

/** Object keys sorted, recursively; arrays keep their order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v).sort()) out[key] = canonical(v[key]);
  return out;
}

/** A policy element as a list: IAM lets a single value stand for a one-element array. */
export function asArray(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Semantic equality of two documents; an unreadable actual document is never equal. */
export function policiesEqual(desired: PolicyDocument, actual: PolicyDocument | string | undefined): boolean {
  if (actual === undefined) return false;
  let parsed: PolicyDocument;
  try {
    parsed = typeof actual === 'string' ? parsePolicyDocument(actual) : actual;
  } catch {
    return false;
  }
  return JSON.stringify(normalisePolicy(desired)) === JSON.stringify(normalisePolicy(parsed));
}
