// The IamServiceAccounts in a set of files: each document, Lists unwrapped, with where it came from.
import { API_VERSION, KIND, type IamServiceAccount, type IamServiceAccountSpec } from '../api/types.ts';
import { collectFiles, isIamServiceAccountDoc, isRecord, listItems, readDocuments, type FieldPath, type SourceDoc } from './files.ts';

/** One object found in a document. */
export interface FoundObject {
  src: SourceDoc;
  /** Where the object is in its document: [] or ['items', i]. */
  base: FieldPath;
  value: Record<string, unknown>;
}

export interface Scan {
  objects: FoundObject[];
  /** Documents that are not IamServiceAccounts (Deployments, kustomizations, ...). */
  others: number;
  /** Every document, the unreadable and the non-objects included (validate reports them). */
  docs: SourceDoc[];
}

export function scanFiles(paths: readonly string[]): Scan {
  const docs = collectFiles(paths).flatMap(readDocuments);
  const objects: FoundObject[] = [];
  let others = 0;
  for (const src of docs) {
    const items = listItems(src.value);
    const candidates: [FieldPath, unknown][] = items ? items.map((v, i) => [['items', i], v]) : [[[], src.value]];
    for (const [base, value] of candidates) {
      if (isIamServiceAccountDoc(value)) objects.push({ src, base, value });
      else others++;
    }
  }
  return { objects, others, docs };
}

/** The object's namespace: its own, else the one given (-n), else default (as kubectl apply does). */
export function namespaceOf(value: Record<string, unknown>, fallback: string | undefined): string {
  const meta = value.metadata;
  const ns = isRecord(meta) && typeof meta.namespace === 'string' ? meta.namespace : undefined;
  return ns ?? fallback ?? 'default';
}

export function nameOf(value: Record<string, unknown>): string {
  const meta = value.metadata;
  return isRecord(meta) && typeof meta.name === 'string' ? meta.name : '';
}

/** The object as the operator reads it; the spec unchecked (desiredState validates it). */
export function asIamServiceAccount(value: Record<string, unknown>, namespace: string | undefined): IamServiceAccount {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: nameOf(value), namespace: namespaceOf(value, namespace) },
    // Unchecked here: desiredState validates the spec first (validateSpec), as for the operator.
    spec: value.spec as IamServiceAccountSpec,
  };
}

export const where = (o: FoundObject) => `${o.src.file}:${o.src.line}`;
