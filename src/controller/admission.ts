// The operator's policy applied to one object: the platform team's rules (guard.ts) fed with what
// they need from the cluster (the namespace's annotations, the namespace's other objects) and from
// IAM (the documents of customer-managed policies). Refusals are terminal.
import type { SpecProblem } from '../api/validate.ts';
import type { IamServiceAccount } from '../api/types.ts';
import { TerminalError, WaitError } from '../errors.ts';
import type { Desired } from '../policy/desired.ts';
import { parsePolicyDocumentOrEmpty } from '../policy/document.ts';
import { checkOperatorPolicy, deniedGrant, type OperatorPolicy } from '../policy/guard.ts';
import type { KubeReads, ObjectCache, RoleStore } from './ports.ts';
import { TtlCache } from './ttl-cache.ts';

/** Namespace annotations are re-read after this long (a changed allow-list is seen soon). */
const NAMESPACE_CACHE_MS = 30_000;
/** Customer-managed policy documents are re-read after this long (a fixed policy is seen soon). */
const POLICY_CACHE_MS = 60_000;

export interface AdmissionDeps {
  policy: OperatorPolicy;
  kube: Pick<KubeReads, 'getNamespaceAnnotations'>;
  roles: Pick<RoleStore, 'policyDocument'>;
  cache: Pick<ObjectCache, 'objectsInNamespace'>;
  now: () => number;
}

export class Admission {
  private readonly deps: AdmissionDeps;
  private readonly namespaces: TtlCache<string, Record<string, string>>;
  private readonly documents: TtlCache<string, string>;

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
    this.namespaces = new TtlCache(NAMESPACE_CACHE_MS, deps.now);
    this.documents = new TtlCache(POLICY_CACHE_MS, deps.now);
  }

  /** The operator policy's refusal of this object, if any. No AWS call. */
  async refusal(obj: IamServiceAccount, desired: Desired): Promise<SpecProblem | undefined> {
    const namespace = obj.metadata.namespace;
    return checkOperatorPolicy(this.deps.policy, {
      namespace,
      namespaceAnnotations: await this.namespaceAnnotations(namespace),
      role: desired.role,
      explicitRoleName: obj.spec.roleName !== undefined,
      roleIndexInNamespace: () => this.roleIndex(obj),
    });
  }

  /** Customer-managed policies are read from IAM and held to the same action rules as inline ones. */
  async checkPolicyDocuments(arns: readonly string[]): Promise<void> {
    for (const arn of arns) {
      if (/^arn:[^:]+:iam::aws:/.test(arn)) continue;
      let document = this.documents.get(arn);
      if (document === undefined) {
        document = await this.deps.roles.policyDocument(arn);
        if (document === undefined) throw new WaitError('PolicyNotFound', `IAM has no policy ${arn}: create it or fix attachPolicyARNs`);
        this.documents.set(arn, document);
      }
      const why = deniedGrant(parsePolicyDocumentOrEmpty(document), this.deps.policy.deniedActions);
      if (why) throw new TerminalError('PolicyGrantsDeniedAction', `${arn}: ${why}`);
    }
  }

  private async namespaceAnnotations(namespace: string): Promise<Record<string, string>> {
    const hit = this.namespaces.get(namespace);
    if (hit) return hit;
    const annotations = await this.deps.kube.getNamespaceAnnotations(namespace);
    this.namespaces.set(namespace, annotations);
    return annotations;
  }

  /** This object's place among its namespace's role-managing objects, oldest first. */
  private roleIndex(obj: IamServiceAccount): number {
    const created = (o: IamServiceAccount) => new Date(o.metadata.creationTimestamp ?? 0).getTime();
    const peers = this.deps.cache
      .objectsInNamespace(obj.metadata.namespace)
      .filter((o) => o.spec.attachRoleARN === undefined && !o.metadata.deletionTimestamp)
      .sort((a, b) => created(a) - created(b) || a.metadata.name.localeCompare(b.metadata.name));
    const i = peers.findIndex((o) => o.metadata.name === obj.metadata.name);
    return i === -1 ? peers.length : i;
  }
}
