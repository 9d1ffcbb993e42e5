// The ServiceAccount part: the ServiceAccount that carries the role annotations, created by the
// operator or annotated when it exists (by server-side apply of exactly the operator's fields),
// released when the object goes or names another one.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import { FIELD_MANAGER, OWNER_ANNOTATION, type IamServiceAccount } from '../api/types.ts';
import { TerminalError, WaitError } from '../errors.ts';
import { appliedMetadataKeys } from '../kube/applied.ts';
import type { DesiredServiceAccount } from '../policy/desired.ts';
import type { Part, Pass } from './part.ts';
import type { KubeReads, KubeWrites, ObjectCache } from './ports.ts';
import type { PartOutcome } from './status.ts';

/** Annotation marking a ServiceAccount the operator created (deleted with its object). */
export const CREATED_ANNOTATION = 'irsa.dev/created';

export interface ServiceAccountSeen {
  current: V1ServiceAccount | undefined;
  /** Other ServiceAccounts this object owns (a rename): released once the new one is written. */
  stale: string[];
}

export interface ServiceAccountPlan {
  stale: string[];
  /** The labels and annotations to apply; undefined when the ServiceAccount has them all. */
  write: { labels: Record<string, string>; annotations: Record<string, string> } | undefined;
  exists: boolean;
}

export interface ServiceAccountPartDeps {
  kube: KubeReads & Pick<KubeWrites, 'applyServiceAccount' | 'deleteServiceAccount'>;
  cache: Pick<ObjectCache, 'serviceAccount' | 'serviceAccounts'>;
}

export class ServiceAccountPart implements Part<DesiredServiceAccount, ServiceAccountSeen, ServiceAccountPlan> {
  private readonly deps: ServiceAccountPartDeps;

  constructor(deps: ServiceAccountPartDeps) {
    this.deps = deps;
  }

  async observe(pass: Pass, want: DesiredServiceAccount): Promise<ServiceAccountSeen> {
    // Every other ServiceAccount this object owns is released: the one status names, and any the
    // cache shows (a rename whose pass was cut short before status recorded the new name).
    const stale = new Set([pass.obj.status?.serviceAccountName, ...this.ownedNames(pass.obj)]);
    stale.delete(want.name);
    return { current: await this.read(pass.obj.metadata.namespace, want.name), stale: [...stale].filter((n) => n !== undefined) };
  }

  decide(pass: Pass, want: DesiredServiceAccount, seen: ServiceAccountSeen): ServiceAccountPlan {
    return decideServiceAccount(pass.obj, want, seen);
  }

  async apply(pass: Pass, want: DesiredServiceAccount, plan: ServiceAccountPlan): Promise<PartOutcome> {
    for (const name of plan.stale) await this.releaseOne(pass, name);
    if (plan.write) {
      pass.log.info(plan.exists ? 'annotating ServiceAccount' : 'creating ServiceAccount', { serviceAccount: want.name });
      await this.deps.kube.applyServiceAccount(pass.obj.metadata.namespace, want.name, plan.write.labels, plan.write.annotations);
      const [reason, verb] = plan.exists
        ? (['ServiceAccountAnnotated', 'annotated'] as const)
        : (['ServiceAccountCreated', 'created'] as const);
      pass.done.push({ reason, message: `${verb} ServiceAccount ${want.name}` });
    }
    return { state: 'synced', reason: 'Synced', message: `ServiceAccount ${want.name} carries the role annotations` };
  }

  /**
   * Releases every ServiceAccount the object may have written: the one status names, the one the
   * spec names (a pass cut short before its status write), and any the cache shows it owns.
   */
  async release(pass: Pass): Promise<void> {
    const { obj } = pass;
    if (obj.spec.roleOnly === true) return;
    const names = new Set([obj.status?.serviceAccountName, obj.spec.serviceAccount?.name ?? obj.metadata.name, ...this.ownedNames(obj)]);
    for (const name of names) if (name) await this.releaseOne(pass, name);
  }

  /** Refuses, before any IAM write, a ServiceAccount this object may not write. */
  async assertMayWrite(pass: Pass, want: DesiredServiceAccount): Promise<void> {
    assertMayWrite(pass.obj, want, await this.read(pass.obj.metadata.namespace, want.name));
  }

  /** Deletes a ServiceAccount the operator created, or takes back its fields from one it annotated. */
  private async releaseOne(pass: Pass, name: string): Promise<void> {
    const ns = pass.obj.metadata.namespace;
    const sa = await this.read(ns, name);
    if (sa?.metadata?.annotations?.[OWNER_ANNOTATION] !== pass.obj.metadata.name) return;
    if (sa.metadata.annotations[CREATED_ANNOTATION] === 'true' && sa.metadata.uid) {
      pass.log.info('deleting ServiceAccount', { serviceAccount: name });
      await this.deps.kube.deleteServiceAccount(ns, name, sa.metadata.uid);
    } else {
      pass.log.info('removing role annotations from ServiceAccount', { serviceAccount: name });
      await this.deps.kube.applyServiceAccount(ns, name, {}, {});
    }
  }

  /** From the label-selected cache; a ServiceAccount the operator has not written yet is read from the API. */
  private async read(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    return this.deps.cache.serviceAccount(namespace, name) ?? (await this.deps.kube.getServiceAccount(namespace, name));
  }

  /**
   * Names of the cached ServiceAccounts whose owner annotation names this object. Every pass asks,
   * so the namespace's ServiceAccounts are read in place: copying them was most of what a pass
   * allocated at 10,000 objects (docs/benchmarks.md).
   */
  private ownedNames(obj: IamServiceAccount): string[] {
    const names: string[] = [];
    for (const sa of this.deps.cache.serviceAccounts(obj.metadata.namespace)) {
      const name = sa.metadata?.name;
      if (name && sa.metadata?.annotations?.[OWNER_ANNOTATION] === obj.metadata.name) names.push(name);
    }
    return names;
  }
}

/** What to write to the ServiceAccount, from what was seen. Pure; throws when it may not be written. */
export function decideServiceAccount(obj: IamServiceAccount, want: DesiredServiceAccount, seen: ServiceAccountSeen): ServiceAccountPlan {
  const { current } = seen;
  if (!current && !want.create) {
    throw new WaitError(
      'ServiceAccountNotFound',
      `ServiceAccount ${obj.metadata.namespace}/${want.name} does not exist and serviceAccount.create is false: create it, or set create: true`,
    );
  }
  assertMayWrite(obj, want, current);
  const createdByUs = !current || current.metadata?.annotations?.[CREATED_ANNOTATION] === 'true';
  const annotations = createdByUs ? { ...want.annotations, [CREATED_ANNOTATION]: 'true' } : want.annotations;
  // Up to date: every wanted key has its value, and no key the operator applied before is unwanted
  // now (a key removed from the spec; applying the wanted set removes it, and only it: keys other
  // managers own stay).
  const applied = appliedMetadataKeys(current?.metadata, FIELD_MANAGER);
  const unwanted =
    applied !== undefined && (applied.labels.some((k) => !(k in want.labels)) || applied.annotations.some((k) => !(k in annotations)));
  const upToDate =
    current !== undefined &&
    !unwanted &&
    Object.entries(want.labels).every(([k, v]) => current.metadata?.labels?.[k] === v) &&
    Object.entries(annotations).every(([k, v]) => current.metadata?.annotations?.[k] === v);
  return { stale: seen.stale, write: upToDate ? undefined : { labels: want.labels, annotations }, exists: current !== undefined };
}

/**
 * Refuses a ServiceAccount this object may not write: another object's, or one that exists and
 * is not the operator's without overrideExisting.
 */
export function assertMayWrite(obj: IamServiceAccount, want: DesiredServiceAccount, current: V1ServiceAccount | undefined): void {
  const ns = obj.metadata.namespace;
  const owner = current?.metadata?.annotations?.[OWNER_ANNOTATION];
  if (current && owner !== undefined && owner !== obj.metadata.name) {
    throw new TerminalError(
      'ServiceAccountConflict',
      `ServiceAccount ${ns}/${want.name} belongs to IamServiceAccount ${owner}: choose another serviceAccount.name`,
    );
  }
  if (current && owner === undefined && want.create && !want.overrideExisting) {
    throw new TerminalError(
      'ServiceAccountExists',
      `ServiceAccount ${ns}/${want.name} exists and was not created by irsa-operator: set serviceAccount.overrideExisting: true to take it over, or serviceAccount.create: false to only annotate it`,
    );
  }
}
