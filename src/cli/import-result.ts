// What an import produces: objects to apply (with notes for the people applying them), warnings
// (each field or item that could not be mapped), and for kiam the workloads to switch and the
// trust statements to add. Printed as a YAML stream with comments, or as JSON.
import type { IamServiceAccountSpec } from '../api/types.ts';
import { sortKeys, toJson, toYamlStream } from './output.ts';

export interface ImportedManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: IamServiceAccountSpec;
}

export interface ImportedObject {
  object: ImportedManifest;
  /** attachRoleARN (the role is used as it is) or adopt (the operator takes the role over). */
  mode?: 'attachRoleARN' | 'adopt' | 'create';
  notes: string[];
  warnings?: string[];
}

/** A workload that must use another ServiceAccount (kiam: it had a role annotation, not an IRSA ServiceAccount). */
export interface WorkloadSwitch {
  namespace: string;
  kind: string;
  name: string;
  from: string;
  to: string;
  command: string;
}

/** The statement an existing role's trust policy must gain, for the ServiceAccounts that will assume it. */
export interface TrustNeeded {
  roleArn: string;
  serviceAccounts: string[];
  statement: Record<string, unknown>;
  command: string;
}

export interface ImportResult {
  objects: ImportedObject[];
  warnings: string[];
  workloads?: WorkloadSwitch[];
  trust?: TrustNeeded[];
}

export function formatImport(r: ImportResult, format: 'yaml' | 'json'): string {
  if (format === 'json') return toJson({ ...r, objects: r.objects.map((o) => ({ ...o, object: sortKeys(o.object) })) });
  const docs: { comments: string[]; value: unknown }[] = r.objects.map((o) => ({
    comments: [...(o.mode ? [`mode: ${o.mode}`] : []), ...o.notes],
    value: sortKeys(o.object),
  }));
  const tail: string[] = [];
  for (const w of r.workloads ?? [])
    tail.push(`switch ${w.kind} ${w.namespace}/${w.name} from ServiceAccount ${w.from} to ${w.to}: ${w.command}`);
  for (const t of r.trust ?? []) {
    tail.push(`role ${t.roleArn} must trust ${t.serviceAccounts.join(', ')}: add this statement to its trust policy:`);
    tail.push(
      ...JSON.stringify(t.statement, null, 2)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  if (tail.length > 0) docs.push({ comments: tail, value: undefined });
  return toYamlStream(docs);
}
