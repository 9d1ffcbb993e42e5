// What a field manager applied to an object's labels and annotations, read from its server-side
// apply entry in metadata.managedFields (fieldsV1: {"f:metadata": {"f:labels": {"f:<key>": {}}}}).
// Pure. The set of keys a manager owns is what an apply that stops sending a key removes.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export interface AppliedKeys {
  labels: string[];
  annotations: string[];
}

/** The label and annotation keys `manager` owns through Apply; undefined when it has no such entry. */
export function appliedMetadataKeys(meta: V1ObjectMeta | undefined, manager: string): AppliedKeys | undefined {
  const entry = meta?.managedFields?.find((m) => m.manager === manager && m.operation === 'Apply');
  if (!entry) return undefined;
  const metadata = field(entry.fieldsV1, 'f:metadata');
  return { labels: keysOf(field(metadata, 'f:labels')), annotations: keysOf(field(metadata, 'f:annotations')) };
}

function field(node: unknown, name: string): unknown {
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[name] : undefined;
}

function keysOf(node: unknown): string[] {
  if (typeof node !== 'object' || node === null) return [];
  return Object.keys(node)
    .filter((k) => k.startsWith('f:'))
    .map((k) => k.slice(2));
}
