// The operator's policy applied to one object: the platform team's rules (guard.ts) fed with what
// they need from the cluster (the namespace's annotations, the namespace's other objects) and from
// IAM (the documents of managed policies, AWS's and the customer's). Refusals are terminal.
import type { SpecProblem } from '../api/validate.ts';
import type { IamServiceAccount } from '../api/types.ts';
import { TerminalError, WaitError } from '../errors.ts';
import type { Desired } from '../policy/desired.ts';
import { parsePolicyDocumentOrEmpty } from '../policy/document.ts';
import type { DeniedAction } from '../policy/actions.ts';
import { checkAccount, checkOperatorPolicy, deniedGrant, describeGrant, type OperatorPolicy } from '../policy/guard.ts';
import type { KubeReads, ObjectCache, RoleStore } from './ports.ts';
import { TtlCache } from './ttl-cache.ts';

/** Namespace annotations are re-read after this long (a changed allow-list is seen soon). */
const NAMESPACE_CACHE_MS = 30_000;
/**
 * A managed policy's default version is re-read after this long, so a new version is judged by the
 * next full sync (drift checks are at least this far apart). Documents are immutable per version.
 */
const POLICY_VERSION_CACHE_MS = 60_000;
/** Verdicts kept per (policy, version): far more than the policies one account attaches. */
const MAX_VERDICTS = 5_000;

/** The policy reads of the account a role is in. */
export type PolicyReads = Pick<RoleStore, 'policyDefaultVersion' | 'policyVersionDocument'>;

export interface AdmissionDeps {
  policy: OperatorPolicy;
  /** The policy's denied actions, resolved against IAM's action list at start. */
  denied: readonly DeniedAction[];
  kube: Pick<KubeReads, 'getNamespaceAnnotations'>;
  cache: Pick<ObjectCache, 'objectsInNamespace'>;
  now: () => number;
}

export class Admission {
  private readonly deps: AdmissionDeps;
  private readonly namespaces: TtlCache<string, Record<string, string>>;
  private readonly versions: TtlCache<string, string>;
  /** `arn#version` → the refusal's message, or '' when the version grants nothing denied. */
  private readonly verdicts = new Map<string, string>();

  constructor(deps: AdmissionDeps) {
    this.deps = deps;
    this.namespaces = new TtlCache(NAMESPACE_CACHE_MS, deps.now);
    this.versions = new TtlCache(POLICY_VERSION_CACHE_MS, deps.now);
  }

  /** The operator policy's refusal of this object (its role in `account`), if any. No AWS call. */
  async refusal(obj: IamServiceAccount, desired: Desired, account: string, ownAccount: string): Promise<SpecProblem | undefined> {
    const namespace = obj.metadata.namespace;
    return checkOperatorPolicy(this.deps.policy, this.deps.denied, {
      namespace,
      account,
      ownAccount,
      namespaceAnnotations: await this.namespaceAnnotations(namespace),
      role: desired.role,
      trust: desired.trust,
      otherClusters: desired.otherClusters,
      explicitRoleName: obj.spec.roleName !== undefined,
      roleIndexInNamespace: () => this.roleIndex(obj),
    });
  }

  /** Whether the object's namespace may use `account` (the operator's own, or a configured one open to it). No AWS call. */
  async accountRefusal(obj: IamServiceAccount, account: string, ownAccount: string): Promise<SpecProblem | undefined> {
    const namespace = obj.metadata.namespace;
    return checkAccount(this.deps.policy, {
      namespace,
      account,
      ownAccount,
      namespaceAnnotations: await this.namespaceAnnotations(namespace),
    });
  }

  /**
   * Every managed policy, AWS's included, is read from IAM (the default version's document, in the
   * role's account) and refused when it grants a denied action.
   */
  async checkPolicyDocuments(arns: readonly string[], roles: PolicyReads): Promise<void> {
    for (const arn of arns) {
      const version = await this.defaultVersion(arn, roles);
      const key = `${arn}#${version}`;
      let verdict = this.verdicts.get(key);
      if (verdict === undefined) {
        verdict = await this.judge(arn, version, roles);
        if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear();
        this.verdicts.set(key, verdict);
      }
      if (verdict !== '') throw new TerminalError('PolicyGrantsDeniedAction', verdict);
    }
  }

  private async defaultVersion(arn: string, roles: PolicyReads): Promise<string> {
    let version = this.versions.get(arn);
    if (version === undefined) {
      version = await roles.policyDefaultVersion(arn);
      if (version === undefined) throw new WaitError('PolicyNotFound', `IAM has no policy ${arn}: create it or fix attachPolicyARNs`);
      this.versions.set(arn, version);
    }
    return version;
  }

  private async judge(arn: string, version: string, roles: PolicyReads): Promise<string> {
    const document = await roles.policyVersionDocument(arn, version);
    if (document === undefined)
      throw new WaitError('PolicyNotFound', `IAM has no version ${version} of ${arn}: it changed while being read`);
    const grant = deniedGrant(parsePolicyDocumentOrEmpty(document), this.deps.denied);
    return grant ? `${arn} (version ${version}): ${describeGrant(grant)}: attach a narrower policy` : '';
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
