// In-memory IAM and Kubernetes for the reconciler's unit test. They keep the rules the reconciler
// relies on and that the real servers enforce: IAM's NotFound and EntityAlreadyExists, documents
// returned URL-encoded, policies that must exist to be attached; Kubernetes' resourceVersion
// conflicts (409), NotFound (404), uid preconditions, server-side apply that removes the fields
// its manager stops sending, an object that goes once its last finalizer does, and a
// ServiceAccount cache that sees only the operator's labelled ServiceAccounts (as the informer's
// label selector does). They complement the real-server e2e tests, never replace them.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import {
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  SA_ANNOTATIONS,
  type IamServiceAccount,
  type IamServiceAccountSpec,
  type IamServiceAccountStatus,
} from '../../../src/api/types.ts';
import type {
  ActualAssociation,
  AssociationStore,
  KubeReads,
  KubeWrites,
  ObjectCache,
  RoleAttachments,
  RoleStore,
  RoleSweep,
} from '../../../src/controller/ports.ts';
import type { DesiredAssociation } from '../../../src/policy/desired.ts';
import type { EventInput } from '../../../src/kube/client.ts';
import { withMessageDigests } from '../../../src/controller/conditions.ts';
import { KubeApiError } from '../../../src/kube/http.ts';
import type { ActualRole, IamOperation } from '../../../src/policy/diff.ts';
import type { PolicyDocument } from '../../../src/policy/document.ts';
import { issuerHostPath } from '../../../src/policy/arn.ts';
import { providerAfter, type OidcProviderState, type ProviderOperation } from '../../../src/policy/provider.ts';
import { expectedInjection, type PodOwner, type PodView } from '../../../src/policy/pods.ts';

/** An AWS SDK error as IamRoles lets it through: an Error whose name is the AWS code. */
export function awsError(code: string, message = code): Error {
  return Object.assign(new Error(message), { name: code });
}

/** Failures queued per kind of call: the next call of that kind throws the next one. */
class FailureQueue {
  private readonly failures = new Map<string, Error[]>();

  failNext(kind: string, e: Error): void {
    this.failures.set(kind, [...(this.failures.get(kind) ?? []), e]);
  }

  protected throwIfQueued(kind: string): void {
    const e = this.failures.get(kind)?.shift();
    if (e !== undefined) throw e;
  }
}

export class FakeIam extends FailureQueue implements RoleStore, RoleSweep {
  readonly roles = new Map<string, ActualRole>();
  /** OIDC providers by ARN. */
  readonly providers = new Map<string, OidcProviderState>();
  /** The account new providers are created in. */
  readonly account: string;
  /**
   * Managed policies: ARN -> default version and its document. An AWS-managed policy no test set
   * exists with a harmless document, as every AWS-managed policy exists in every account.
   */
  readonly policies = new Map<string, { version: string; document: string }>();
  /** Every call, in order: `Read role`, `CreateRole role`, ... */
  readonly calls: string[] = [];

  constructor(account = '123456789012') {
    super();
    this.account = account;
  }

  writes(): string[] {
    return this.calls.filter(
      (c) => !/^(read|readTrust|readTags|readForDelete|oidcProvider|policyDefaultVersion|policyVersionDocument|sweep) /.test(c),
    );
  }

  /** Kinds: 'read', 'readTrust', 'apply' (each operation), 'readTags', 'readForDelete', 'delete', 'oidcProvider', 'applyProvider', 'policyDefaultVersion', 'policyVersionDocument'. */
  private enter(kind: string, detail: string): void {
    this.throwIfQueued(kind);
    if (kind !== 'apply') this.calls.push(`${kind} ${detail}`);
  }

  read(name: string): Promise<ActualRole | undefined> {
    this.enter('read', name);
    const r = this.roles.get(name);
    return Promise.resolve(r && structuredClone(r));
  }

  /** A change made behind the operator's back (the console, Terraform). */
  edit(name: string, change: Partial<ActualRole>): void {
    const role = this.roles.get(name);
    if (!role) throw new Error(`no role ${name}`);
    Object.assign(role, change);
  }

  /** The account-wide sweep: every wanted role in one call, recorded as `sweep`. */
  readEach(_pathPrefix: string, wanted: (name: string) => boolean, onRole: (role: ActualRole) => void): Promise<void> {
    this.enter('sweep', 'account');
    for (const [name, r] of this.roles) if (wanted(name)) onRole(structuredClone(r));
    return Promise.resolve();
  }

  readTrust(name: string): Promise<{ arn: string; trustPolicy: string } | undefined> {
    this.enter('readTrust', name);
    const r = this.roles.get(name);
    return Promise.resolve(r && { arn: r.arn, trustPolicy: r.trustPolicy });
  }

  /** A provider made by someone else (untagged) unless `tags` say otherwise. */
  setProvider(arn: string, clientIds: string[], tags: Record<string, string> = {}, thumbprints = ['0'.repeat(40)]): void {
    this.providers.set(arn, { clientIds: [...clientIds], thumbprints, tags });
  }

  oidcProvider(arn: string): Promise<OidcProviderState | undefined> {
    this.enter('oidcProvider', arn);
    const p = this.providers.get(arn);
    return Promise.resolve(p && structuredClone(p));
  }

  applyProvider(o: ProviderOperation): Promise<void> {
    this.enter('applyProvider', o.op);
    const arn = o.op === 'CreateOpenIDConnectProvider' ? `arn:aws:iam::${this.account}:oidc-provider/${issuerHostPath(o.url)}` : o.arn;
    if (o.op === 'CreateOpenIDConnectProvider' && this.providers.has(arn)) throw awsError('EntityAlreadyExists');
    if (o.op !== 'CreateOpenIDConnectProvider' && !this.providers.has(arn)) throw awsError('NoSuchEntity');
    this.providers.set(arn, providerAfter(this.providers.get(arn), [o]));
    return Promise.resolve();
  }

  /** Sets a managed policy's default version (v1, v2, ... on each call). */
  setPolicy(arn: string, doc: PolicyDocument): void {
    const version = `v${Number(this.policies.get(arn)?.version.slice(1) ?? 0) + 1}`;
    this.policies.set(arn, { version, document: encode(doc) });
  }

  private policy(arn: string): { version: string; document: string } | undefined {
    if (this.policies.has(arn) || !/^arn:[^:]+:iam::aws:/.test(arn)) return this.policies.get(arn);
    return {
      version: 'v1',
      document: encode({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] }),
    };
  }

  policyDefaultVersion(arn: string): Promise<string | undefined> {
    this.enter('policyDefaultVersion', arn);
    return Promise.resolve(this.policy(arn)?.version);
  }

  policyVersionDocument(arn: string, versionId: string): Promise<string | undefined> {
    this.enter('policyVersionDocument', `${arn} ${versionId}`);
    const p = this.policy(arn);
    return Promise.resolve(p?.version === versionId ? p.document : undefined);
  }

  async apply(name: string, ops: readonly IamOperation[]): Promise<void> {
    for (const o of ops) {
      this.enter('apply', name);
      this.calls.push(`${o.op} ${name}`);
      await Promise.resolve();
      this.applyOne(name, o);
    }
  }

  private applyOne(name: string, o: IamOperation): void {
    if (o.op === 'CreateRole') {
      if (this.roles.has(name)) throw awsError('EntityAlreadyExists');
      const r = o.role;
      this.roles.set(name, { ...r, trustPolicy: encode(r.trustPolicy), managedPolicyArns: [], inlinePolicies: {}, tags: { ...r.tags } });
      return;
    }
    const role = this.roles.get(name);
    if (!role) throw awsError('NoSuchEntity', `The role with name ${name} cannot be found.`);
    switch (o.op) {
      case 'UpdateAssumeRolePolicy':
        role.trustPolicy = encode(o.document);
        return;
      case 'UpdateRole':
        role.description = o.description;
        role.maxSessionDuration = o.maxSessionDuration;
        return;
      case 'PutRolePermissionsBoundary':
        role.permissionsBoundary = o.arn;
        return;
      case 'TagRole':
        Object.assign(role.tags, o.tags);
        return;
      case 'UntagRole':
        for (const k of o.keys) Reflect.deleteProperty(role.tags, k);
        return;
      case 'AttachRolePolicy':
        if (this.policy(o.arn) === undefined) throw awsError('NoSuchEntity', `Policy ${o.arn} does not exist`);
        role.managedPolicyArns = [...new Set([...role.managedPolicyArns, o.arn])].sort();
        return;
      case 'DetachRolePolicy':
        role.managedPolicyArns = role.managedPolicyArns.filter((a) => a !== o.arn);
        return;
      case 'PutRolePolicy':
        role.inlinePolicies[o.name] = encode(o.document);
        return;
      case 'DeleteRolePolicy':
        Reflect.deleteProperty(role.inlinePolicies, o.name);
        return;
    }
  }

  readTags(name: string): Promise<Record<string, string> | undefined> {
    this.enter('readTags', name);
    const r = this.roles.get(name);
    return Promise.resolve(r && { ...r.tags });
  }

  readForDelete(name: string): Promise<RoleAttachments | undefined> {
    this.enter('readForDelete', name);
    const r = this.roles.get(name);
    return Promise.resolve(
      r && { tags: { ...r.tags }, managedPolicyArns: [...r.managedPolicyArns], inlinePolicyNames: Object.keys(r.inlinePolicies) },
    );
  }

  /** As IAM: DeleteRole fails (DeleteConflict) while a policy the caller did not remove is still there. */
  delete(name: string, attached: RoleAttachments): Promise<void> {
    this.enter('delete', name);
    const r = this.roles.get(name);
    if (!r) return Promise.resolve();
    r.managedPolicyArns = r.managedPolicyArns.filter((a) => !attached.managedPolicyArns.includes(a));
    for (const p of attached.inlinePolicyNames) Reflect.deleteProperty(r.inlinePolicies, p);
    if (r.managedPolicyArns.length > 0 || Object.keys(r.inlinePolicies).length > 0)
      return Promise.reject(awsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.'));
    this.roles.delete(name);
    return Promise.resolve();
  }
}

/** IAM returns documents URL-encoded. */
export function encode(doc: unknown): string {
  return encodeURIComponent(JSON.stringify(doc));
}

const notFound = () => new KubeApiError(404, 'NotFound', 'not found');
const conflict = () => new KubeApiError(409, 'Conflict', 'Conflict: the object has been modified');

interface StoredServiceAccount {
  sa: V1ServiceAccount;
  /** Label and annotation keys the operator's field manager owns. */
  ours: { labels: Set<string>; annotations: Set<string> };
}

/**
 * EKS's clusters and Pod Identity associations with EKS's rules: one association per ServiceAccount
 * (ResourceInUseException), NotFound for an unknown cluster or association, the per-cluster limit
 * (ResourceLimitExceededException).
 */
export class FakeEks extends FailureQueue implements AssociationStore {
  /** Cluster name -> ARN. */
  readonly clusters = new Map<string, string>();
  readonly associations = new Map<string, ActualAssociation>();
  readonly calls: string[] = [];
  limit = 5000;
  private next = 0;

  private enter(kind: string, detail: string): void {
    this.throwIfQueued(kind);
    this.calls.push(`${kind} ${detail}`);
  }

  private cluster(name: string): string {
    const arn = this.clusters.get(name);
    if (arn === undefined) throw awsError('ResourceNotFoundException', `No cluster found for name: ${name}.`);
    return arn;
  }

  clusterArn(cluster: string): Promise<string | undefined> {
    this.enter('clusterArn', cluster);
    return Promise.resolve(this.clusters.get(cluster));
  }

  find(cluster: string, namespace: string, serviceAccount: string): Promise<ActualAssociation[]> {
    this.enter('find', `${namespace}/${serviceAccount}`);
    const found = [...this.associations.values()].filter(
      (a) => a.clusterName === cluster && a.namespace === namespace && a.serviceAccount === serviceAccount,
    );
    return Promise.resolve(structuredClone(found));
  }

  describe(_cluster: string, id: string): Promise<ActualAssociation | undefined> {
    this.enter('describe', id);
    const a = this.associations.get(id);
    return Promise.resolve(a && structuredClone(a));
  }

  /** An association made by someone else (the console, eksctl, another operator). */
  put(a: Omit<ActualAssociation, 'id' | 'arn'>): ActualAssociation {
    const id = `a-${String(++this.next).padStart(17, '0')}`;
    const made = { ...a, id, arn: `${this.cluster(a.clusterName).replace(':cluster/', ':podidentityassociation/')}/${id}` };
    this.associations.set(id, made);
    return made;
  }

  create(want: DesiredAssociation): Promise<ActualAssociation> {
    this.enter('create', `${want.namespace}/${want.serviceAccount}`);
    const taken = [...this.associations.values()].some(
      (a) => a.clusterName === want.clusterName && a.namespace === want.namespace && a.serviceAccount === want.serviceAccount,
    );
    if (taken) throw awsError('ResourceInUseException', 'Association already exists');
    if ([...this.associations.values()].filter((a) => a.clusterName === want.clusterName).length >= this.limit) {
      throw awsError('ResourceLimitExceededException', 'Pod identity associations limit exceeded');
    }
    const { clusterName, namespace, serviceAccount, roleArn, targetRoleArn, disableSessionTags, tags } = want;
    return Promise.resolve(
      structuredClone(
        this.put({ clusterName, namespace, serviceAccount, roleArn, targetRoleArn, disableSessionTags, tags, ownerArn: undefined }),
      ),
    );
  }

  update(id: string, want: DesiredAssociation): Promise<ActualAssociation> {
    this.enter('update', id);
    const a = this.associations.get(id);
    if (!a) throw awsError('ResourceNotFoundException', `No association ${id}`);
    Object.assign(a, { roleArn: want.roleArn, targetRoleArn: want.targetRoleArn, disableSessionTags: want.disableSessionTags });
    return Promise.resolve(structuredClone(a));
  }

  delete(_cluster: string, id: string): Promise<void> {
    this.enter('delete', id);
    this.associations.delete(id);
    return Promise.resolve();
  }
}

export class FakeKube extends FailureQueue implements KubeReads, KubeWrites, ObjectCache {
  private readonly objects = new Map<string, IamServiceAccount>();
  private readonly serviceAccountStore = new Map<string, StoredServiceAccount>();
  readonly namespaceAnnotations = new Map<string, Record<string, string>>();
  /** Pods by `ns/name`, with their ServiceAccount; `replicaSets`: ReplicaSet `ns/name` -> its Deployment. */
  readonly pods = new Map<string, { serviceAccount: string; view: PodView }>();
  readonly replicaSets = new Map<string, PodOwner>();
  /** Every pod list, as `ns/serviceAccount`. */
  readonly podLists: string[] = [];
  readonly events: { object: string; type: string; reason: string; message: string }[] = [];
  /** Every write, in order: `patchStatus ns/name`, ... */
  readonly writes: string[] = [];
  private rv = 1;
  private uid = 1;

  /** Kinds: the KubeReads and KubeWrites method names. */
  private enter(kind: string, detail: string): void {
    this.throwIfQueued(kind);
    if (!['getServiceAccount', 'getNamespaceAnnotations', 'listPods', 'replicaSetOwner'].includes(kind))
      this.writes.push(`${kind} ${detail}`);
  }

  // --- what a person (kubectl) does ---

  create(name: string, namespace: string, spec: IamServiceAccountSpec, createdAt = new Date(0)): IamServiceAccount {
    const obj: IamServiceAccount = {
      apiVersion: 'irsa.dev/v1alpha1',
      kind: 'IamServiceAccount',
      metadata: {
        name,
        namespace,
        uid: `uid-${this.uid++}`,
        generation: 1,
        resourceVersion: String(this.rv++),
        creationTimestamp: createdAt,
      },
      spec,
    };
    this.objects.set(`${namespace}/${name}`, obj);
    return obj;
  }

  updateSpec(key: string, spec: IamServiceAccountSpec): void {
    const obj = this.must(key);
    obj.spec = spec;
    obj.metadata.generation = (obj.metadata.generation ?? 0) + 1;
    obj.metadata.resourceVersion = String(this.rv++);
  }

  /** kubectl delete: gone at once without finalizers, else marked for deletion. */
  delete(key: string): void {
    const obj = this.must(key);
    if ((obj.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      return;
    }
    obj.metadata.deletionTimestamp = new Date(0);
    obj.metadata.resourceVersion = String(this.rv++);
  }

  /** A ServiceAccount made by someone else (kubectl, Helm). */
  putServiceAccount(namespace: string, name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): void {
    this.serviceAccountStore.set(`${namespace}/${name}`, {
      sa: { metadata: { name, namespace, uid: `sa-uid-${this.uid++}`, labels: { ...labels }, annotations: { ...annotations } } },
      ours: { labels: new Set(), annotations: new Set() },
    });
  }

  get(key: string): IamServiceAccount | undefined {
    const obj = this.objects.get(key);
    return obj && structuredClone(obj);
  }

  sa(namespace: string, name: string): V1ServiceAccount | undefined {
    const s = this.serviceAccountStore.get(`${namespace}/${name}`);
    return s && structuredClone(s.sa);
  }

  private must(key: string): IamServiceAccount {
    const obj = this.objects.get(key);
    if (!obj) throw notFound();
    return obj;
  }

  // --- ObjectCache: what the informers would hold (conditions' messages as digests, watches.ts) ---

  object(namespace: string, name: string): IamServiceAccount | undefined {
    const obj = this.get(`${namespace}/${name}`);
    return obj && withMessageDigests(obj);
  }

  objectsInNamespace(namespace: string): readonly IamServiceAccount[] {
    return this.allObjects().filter((o) => o.metadata.namespace === namespace);
  }

  allObjects(): readonly IamServiceAccount[] {
    return [...this.objects.values()].map((o) => withMessageDigests(structuredClone(o)));
  }

  serviceAccount(namespace: string, name: string): V1ServiceAccount | undefined {
    const sa = this.sa(namespace, name);
    return sa?.metadata?.labels?.[MANAGED_BY_LABEL] === undefined ? undefined : sa;
  }

  serviceAccounts(namespace: string): Iterable<V1ServiceAccount> {
    return [...this.serviceAccountStore.values()]
      .map((s) => s.sa)
      .filter((sa) => sa.metadata?.namespace === namespace && sa.metadata.labels?.[MANAGED_BY_LABEL] !== undefined)
      .map((sa) => structuredClone(sa));
  }

  // --- KubeReads ---

  getServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined> {
    this.enter('getServiceAccount', `${namespace}/${name}`);
    return Promise.resolve(this.sa(namespace, name));
  }

  getNamespaceAnnotations(name: string): Promise<Record<string, string>> {
    this.enter('getNamespaceAnnotations', name);
    return Promise.resolve({ ...(this.namespaceAnnotations.get(name) ?? {}) });
  }

  /** A pod created now: the webhook injects what the ServiceAccount's annotations say at this moment. */
  addPod(namespace: string, name: string, serviceAccount: string, owner?: PodOwner): void {
    const annotations = this.sa(namespace, serviceAccount)?.metadata?.annotations ?? {};
    const injection = annotations[SA_ANNOTATIONS.roleArn] === undefined ? {} : expectedInjection(annotations);
    this.pods.set(`${namespace}/${name}`, { serviceAccount, view: { name, owner, injection } });
  }

  listPods(namespace: string, serviceAccount: string): Promise<PodView[]> {
    this.enter('listPods', `${namespace}/${serviceAccount}`);
    this.podLists.push(`${namespace}/${serviceAccount}`);
    const views = [...this.pods]
      .filter(([key, p]) => key.startsWith(`${namespace}/`) && p.serviceAccount === serviceAccount)
      .map(([, p]) => structuredClone(p.view));
    return Promise.resolve(views);
  }

  replicaSetOwner(namespace: string, name: string): Promise<PodOwner | undefined> {
    this.enter('replicaSetOwner', `${namespace}/${name}`);
    return Promise.resolve(this.replicaSets.get(`${namespace}/${name}`));
  }

  /** Recorded as `restartWorkload ns/Kind/name`; the pods are replaced as a rollout would. */
  restartWorkload(namespace: string, workload: PodOwner, _at: string): Promise<void> {
    this.enter('restartWorkload', `${namespace}/${workload.kind}/${workload.name}`);
    return Promise.resolve();
  }

  // --- KubeWrites ---

  patchStatus(namespace: string, name: string, status: IamServiceAccountStatus, resourceVersion: string): Promise<unknown> {
    this.enter('patchStatus', `${namespace}/${name}`);
    const obj = this.must(`${namespace}/${name}`);
    if (obj.metadata.resourceVersion !== resourceVersion) throw conflict();
    obj.status = structuredClone(status);
    obj.metadata.resourceVersion = String(this.rv++);
    return Promise.resolve(structuredClone(obj));
  }

  patchFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<IamServiceAccount> {
    this.enter('patchFinalizers', `${namespace}/${name}`);
    const key = `${namespace}/${name}`;
    const obj = this.must(key);
    if (obj.metadata.resourceVersion !== resourceVersion) throw conflict();
    obj.metadata.finalizers = [...finalizers];
    obj.metadata.resourceVersion = String(this.rv++);
    if (obj.metadata.deletionTimestamp && finalizers.length === 0) this.objects.delete(key);
    return Promise.resolve(structuredClone(obj));
  }

  applyServiceAccount(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ): Promise<unknown> {
    this.enter('applyServiceAccount', `${namespace}/${name}`);
    const key = `${namespace}/${name}`;
    if (!this.serviceAccountStore.has(key)) this.putServiceAccount(namespace, name);
    const stored = this.serviceAccountStore.get(key);
    if (!stored?.sa.metadata) throw notFound();
    const md = stored.sa.metadata;
    md.labels = ssa(md.labels ?? {}, stored.ours.labels, labels);
    md.annotations = ssa(md.annotations ?? {}, stored.ours.annotations, annotations);
    stored.ours = { labels: new Set(Object.keys(labels)), annotations: new Set(Object.keys(annotations)) };
    md.managedFields = [{ manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: fieldsV1(stored.ours) }];
    return Promise.resolve(structuredClone(stored.sa));
  }

  deleteServiceAccount(namespace: string, name: string, uid: string): Promise<boolean> {
    this.enter('deleteServiceAccount', `${namespace}/${name}`);
    const key = `${namespace}/${name}`;
    const stored = this.serviceAccountStore.get(key);
    if (stored?.sa.metadata?.uid !== uid) return Promise.resolve(false);
    this.serviceAccountStore.delete(key);
    return Promise.resolve(true);
  }

  createEvent(e: EventInput): Promise<void> {
    this.enter('createEvent', `${e.regarding.metadata.namespace}/${e.regarding.metadata.name}`);
    this.events.push({
      object: `${e.regarding.metadata.namespace}/${e.regarding.metadata.name}`,
      type: e.type,
      reason: e.reason,
      message: e.message,
    });
    return Promise.resolve();
  }
}

/** Server-side apply of one map: keys the manager owned and no longer sends go; sent keys are set. */
function ssa(current: Record<string, string>, owned: ReadonlySet<string>, sent: Record<string, string>): Record<string, string> {
  const out = Object.fromEntries(Object.entries(current).filter(([k]) => !owned.has(k) || k in sent));
  return { ...out, ...sent };
}

/** The operator's apply entry as the apiserver records it. */
function fieldsV1(ours: { labels: Set<string>; annotations: Set<string> }): object {
  const keys = (set: Set<string>) => Object.fromEntries([...set].map((k) => [`f:${k}`, {}]));
  return { 'f:metadata': { 'f:labels': keys(ours.labels), 'f:annotations': keys(ours.annotations) } };
}
