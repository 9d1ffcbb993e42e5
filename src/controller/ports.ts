// The narrow interfaces the controller works through. The shell implements them against the real
// servers (aws/iam.ts, kube/client.ts, the informer caches); the reconciler's unit test implements
// them in memory with IAM's and Kubernetes' observable rules. Nothing else reaches the controller.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { WriteBudget } from '../aws/budget.ts';
import type { IamServiceAccount, IamServiceAccountStatus } from '../api/types.ts';
import type { EventInput } from '../kube/client.ts';
import type { DesiredAssociation } from '../policy/desired.ts';
import type { ActualRole, IamOperation } from '../policy/diff.ts';
import type { PodOwner, PodView } from '../policy/pods.ts';
import type { OidcProviderState, ProviderOperation } from '../policy/provider.ts';

/** A role as deleting it needs it. */
export interface RoleAttachments {
  tags: Record<string, string>;
  managedPolicyArns: string[];
  inlinePolicyNames: string[];
}

/** IAM, as far as the controller uses it. NotFound is an answer (undefined), not an error. */
export interface RoleStore {
  /** The whole role: settings, trust, tags, managed and inline policies. */
  read(name: string): Promise<ActualRole | undefined>;
  /** Only the role's ARN and trust policy (attachRoleARN). */
  readTrust(name: string): Promise<{ arn: string; trustPolicy: string } | undefined>;
  /** The OIDC provider (client IDs, thumbprints, tags); undefined when there is none. */
  oidcProvider(arn: string): Promise<OidcProviderState | undefined>;
  /** One write to an OIDC provider the operator manages. */
  applyProvider(op: ProviderOperation): Promise<void>;
  /** A managed policy's default version id. */
  policyDefaultVersion(arn: string): Promise<string | undefined>;
  /** One version's document of a managed policy. */
  policyVersionDocument(arn: string, versionId: string): Promise<string | undefined>;
  /** Runs the operations in order. */
  apply(name: string, ops: readonly IamOperation[]): Promise<void>;
  /** Only the role's tags (ownership); undefined when absent. */
  readTags(name: string): Promise<Record<string, string> | undefined>;
  /** What deleting the role needs: its tags (ownership) and its policies' names; undefined when absent. */
  readForDelete(name: string): Promise<RoleAttachments | undefined>;
  /** Detaches and deletes these policies, then the role; an absent role is done. */
  delete(name: string, attached: RoleAttachments): Promise<void>;
}

/** An EKS Pod Identity association as EKS describes it. */
export interface ActualAssociation extends DesiredAssociation {
  id: string;
  arn: string;
  /** Set when an EKS add-on owns the association. */
  ownerArn: string | undefined;
}

/** EKS, as far as the controller uses it: the cluster's ARN and its Pod Identity associations. NotFound is undefined. */
export interface AssociationStore {
  /** The cluster's ARN; undefined when EKS has no cluster of that name (not EKS, or another region). */
  clusterArn(cluster: string): Promise<string | undefined>;
  /** The associations of one ServiceAccount (EKS allows one), described; none in a cluster EKS does not know. */
  find(cluster: string, namespace: string, serviceAccount: string): Promise<ActualAssociation[]>;
  describe(cluster: string, id: string): Promise<ActualAssociation | undefined>;
  create(want: DesiredAssociation): Promise<ActualAssociation>;
  update(id: string, want: DesiredAssociation): Promise<ActualAssociation>;
  /** An absent association is done. */
  delete(cluster: string, id: string): Promise<void>;
}

/** Every role the objects want, in a few paged calls (the drift sweep), handed over page by page. */
export interface RoleSweep {
  readEach(pathPrefix: string, wanted: (name: string) => boolean, onRole: (role: ActualRole) => void): Promise<void>;
}

/** IAM of one account the operator writes roles to, and its account-wide sweep (without one each pass reads its own role). */
export interface AccountAccess {
  roles: RoleStore;
  /** The account-wide read of roles for drift sweeps, and the budget its calls share. */
  sweep?: { roles: RoleSweep; budget: WriteBudget } | undefined;
}

/** The Kubernetes reads the caches cannot answer. */
export interface KubeReads {
  /** A ServiceAccount the operator has not labelled yet (the cache selects on its label). */
  getServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | undefined>;
  getNamespaceAnnotations(name: string): Promise<Record<string, string>>;
  /** The running pods of a ServiceAccount (a field-selected list, not a cache). */
  listPods(namespace: string, serviceAccount: string): Promise<PodView[]>;
  /** The controller of a ReplicaSet (its Deployment); undefined when it has none or is gone. */
  replicaSetOwner(namespace: string, name: string): Promise<PodOwner | undefined>;
}

/** Every Kubernetes write the controller makes. */
export interface KubeWrites {
  /** Guarded by resourceVersion: a conflict (409) when the pass worked from an older object. */
  patchStatus(namespace: string, name: string, status: IamServiceAccountStatus, resourceVersion: string): Promise<unknown>;
  /** Guarded by resourceVersion: a conflict (409) when someone wrote first. */
  patchFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string): Promise<IamServiceAccount>;
  /** Server-side apply of exactly these labels and annotations (the fields it stops sending are removed). */
  applyServiceAccount(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ): Promise<unknown>;
  /** Deletes the ServiceAccount with this uid; false when it was gone or replaced. */
  deleteServiceAccount(namespace: string, name: string, uid: string): Promise<boolean>;
  createEvent(e: EventInput, now: Date): Promise<void>;
  /** What `kubectl rollout restart` does: a new pod template annotation restartedAt. */
  restartWorkload(namespace: string, workload: PodOwner, at: string): Promise<void>;
}

/** The informer caches. */
export interface ObjectCache {
  object(namespace: string, name: string): IamServiceAccount | undefined;
  objectsInNamespace(namespace: string): readonly IamServiceAccount[];
  /** ServiceAccounts carrying the operator's label. */
  serviceAccount(namespace: string, name: string): V1ServiceAccount | undefined;
  /** Those of one namespace, without a copy (a pass reads them at once; it runs for every object). */
  serviceAccounts(namespace: string): Iterable<V1ServiceAccount>;
}
