// Every condition reason the operator can report, with what it means. One vocabulary for the
// outcomes, the errors and docs/troubleshooting.md (a test checks that each has a section there).
// AWS error codes the operator cannot name in advance are reported as `Aws<Code>`.

export const REASONS = {
  Synced: 'the part matches the spec',
  TrustAdmitsServiceAccount: "IAM's rules admit a token of the ServiceAccount to the role's trust, and the provider accepts its audience",
  TrustNotChecked: 'the trust is judged once the role can be read',
  IdentityMigrating:
    'identity changed: the trust keeps the old path until the new one is in place (association made before the annotation goes, annotation before the association goes); the next pass narrows it',
  // Waiting: looked at again after a fixed wait, Ready=False, Reconciling=True.
  OIDCProviderNotFound: "IAM has no OIDC provider for the cluster's issuer, or for the issuer of one of spec.additionalClusters, yet",
  OIDCIssuerUnreachable: "the operator manages the OIDC provider and cannot read the issuer's certificate chain for its thumbprint",
  AccountCredentialsRefused: "STS refused the operator's AssumeRole into the account's configured role",
  RoleNotFound: 'IAM has no role of the attachRoleARN name yet',
  TrustPolicyMismatch: "the role's trust policy does not admit a token of this ServiceAccount",
  AudienceNotAllowedByProvider:
    "an OIDC provider the trust names (this cluster's or another's) does not list the audience: STS would refuse every token",
  PolicyNotFound: 'a customer-managed policy in attachPolicyARNs does not exist yet',
  ServiceAccountNotFound: 'serviceAccount.create is false and the ServiceAccount does not exist yet',
  WaitingForRole: 'the ServiceAccount is annotated once the role is in sync',
  WaitingForAssociation: 'the ServiceAccount loses its role annotation once the EKS Pod Identity association exists',
  AssociationLimitExceeded: 'the cluster holds as many EKS Pod Identity associations as EKS allows (5,000); looked at again later',
  KubernetesApiError: 'the Kubernetes API failed a call; retried with backoff',
  // The object as written: Stalled until it changes.
  InvalidSpec: 'the spec breaks the schema or a rule too costly for CEL',
  PartitionMismatch: 'an ARN is in another partition than the cluster',
  InvalidRolePath: 'the joined role path is over 512 characters',
  TrustPolicyTooLarge: "the trust policy is over the account's size quota",
  TooManyManagedPolicies: 'more managed policies than the per-role quota',
  InlinePolicyTooLarge: "the inline policies are over IAM's per-role size limit",
  PermissionsBoundaryForced: 'spec.permissionsBoundary differs from the one the operator forces',
  // The operator's policy, set by the platform team.
  NamespaceNotAllowed: 'the operator does not serve this namespace',
  AccountNotAllowed: "spec.account (or attachRoleARN's account) is not among the accounts the operator is configured for",
  AccountNotAllowedInNamespace: "the operator's policy does not open that account to this namespace",
  RoleNameNotAllowed: 'spec.roleName lacks the required prefix',
  NamespaceRoleQuotaExceeded: 'the namespace holds as many roles as it may',
  PolicyNotAllowed: 'a managed policy ARN is not on the allowed list',
  IssuerNotAllowed: "an issuer of spec.additionalClusters is not among the operator's allowedIssuers",
  SubjectPatternNotAllowed: "the namespace may not use spec.subjectPattern, or the trust's subject would leave the namespace",
  PolicyDenied: 'a managed policy ARN is on the denied list',
  PolicyGrantsDeniedAction: "a customer-managed policy's document grants a denied action",
  InlinePolicyDenied: 'the inline policy grants a denied action or one outside the allowed prefixes',
  // IAM.
  RoleNotOwned: "a role of that name exists and is not the operator's",
  RoleConflict: 'a role of that name belongs to another IamServiceAccount',
  RolePathMismatch: 'the role exists under another path',
  RoleArnMismatch: 'the attachRoleARN names a role IAM has under another ARN',
  // EKS Pod Identity.
  PodIdentityNotAvailable: 'identity PodIdentity or Both on a cluster EKS does not know (DescribeCluster): Pod Identity is EKS only',
  PodIdentityNeedsOwnAccount:
    "identity PodIdentity or Both with spec.account (or attachRoleARN's account) other than the operator's: an association's role must be of the cluster's account",
  AssociationConflict: "an EKS Pod Identity association for the ServiceAccount exists and is not this object's",
  // The ServiceAccount.
  ServiceAccountExists: 'the ServiceAccount exists and was not made by the operator',
  ServiceAccountConflict: 'the ServiceAccount belongs to another IamServiceAccount',
  // The operator's configuration.
  ClusterNotFound: 'EKS has no cluster of the configured name',
  IssuerUnknown: 'the EKS cluster has no OIDC issuer',
  AccountUnknown: 'STS named no account',
} as const;

/** What a pass did, reported as an Event (conditions say how things are; Events say what happened). */
export const EVENT_REASONS = {
  RoleCreated: 'created the IAM role',
  RoleUpdated: 'changed the IAM role to match the spec',
  RoleDeleted: 'deleted the IAM role (deletionPolicy: Delete)',
  ServiceAccountCreated: 'created the ServiceAccount',
  ServiceAccountAnnotated: 'put the role annotations on the ServiceAccount',
  AssociationCreated: 'created the EKS Pod Identity association',
  AssociationUpdated: 'changed the EKS Pod Identity association to match the spec',
  AssociationDeleted: 'deleted the EKS Pod Identity association',
  PodsNeedRestart: 'running pods of the ServiceAccount started before its role annotations and run without them',
  WorkloadRestarted: 'restarted a workload (as kubectl rollout restart) so that its pods get the role',
} as const;

export type KnownReason = keyof typeof REASONS;
/** An AWS error code as a reason: `AwsThrottling`, `AwsAccessDenied`, ... (`AwsUnavailable` without one). */
export type AwsReason = `Aws${string}`;
export type Reason = KnownReason | AwsReason;
/** An Event's reason: what a pass did, or Ready's new reason when it changes. */
export type EventReason = keyof typeof EVENT_REASONS | Reason;
