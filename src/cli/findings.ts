// A finding of validate: where (a field path inside one object) and what, worded as the API
// server words it, so that a message from `irsa validate` and one from `kubectl apply` name the
// same field the same way.
import type { FieldPath } from './files.ts';

export interface Finding {
  path: FieldPath;
  message: string;
  severity: 'error' | 'warning';
}

export const error = (path: FieldPath, message: string): Finding => ({ path, message, severity: 'error' });
export const warning = (path: FieldPath, message: string): Finding => ({ path, message, severity: 'warning' });

/** A value as the API server quotes it in `Invalid value: ...`: JSON, cut short. */
export function quoteValue(v: unknown): string {
  const text = v === undefined ? 'null' : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The JSON type name the API server reports for a value of the wrong type ("string", "object", ...). */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** `spec.attachPolicyARNs[0]` or `spec.tags.team` -> ['spec', 'attachPolicyARNs', 0] / ['spec', 'tags', 'team']. */
export function parseFieldName(name: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of name.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] === undefined ? (m[1] ?? '') : Number(m[2]));
  return out;
}
