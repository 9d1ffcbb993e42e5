// The IamServiceAccount API (irsa.dev/v1alpha1). Field names follow eksctl's
// iam.serviceAccounts[] so that an eksctl config converts one-to-one.
// The OpenAPI schema in ./schema.ts is the source of crds/; a unit test proves the two agree.

export const GROUP = 'irsa.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'IamServiceAccount';
export const PLURAL = 'iamserviceaccounts';
export const FINALIZER = 'irsa.dev/finalizer';
export const FIELD_MANAGER = 'irsa-operator';

/**
 * Label the operator puts on every ServiceAccount it writes; its informer selects on it. Not
 * app.kubernetes.io/managed-by: Helm and others own that one on the ServiceAccounts they make.
 */
export const MANAGED_BY_LABEL = 'irsa.dev/managed-by';
export const MANAGED_BY_VALUE = 'irsa-operator';
/** Annotation naming the IamServiceAccount that owns a ServiceAccount (`<name>`; same namespace). */
export const OWNER_ANNOTATION = 'irsa.dev/owner';

/** The annotations read by the EKS pod-identity-webhook. */
export const SA_ANNOTATIONS = {
  roleArn: 'eks.amazonaws.com/role-arn',
  audience: 'eks.amazonaws.com/audience',
  stsRegionalEndpoints: 'eks.amazonaws.com/sts-regional-endpoints',
  tokenExpiration: 'eks.amazonaws.com/token-expiration',
} as const;

export const WELL_KNOWN_POLICY_NAMES = [
  'imageBuilder',
  'autoScaler',
  'awsLoadBalancerController',
  'externalDNS',
  'certManager',
  'ebsCSIController',
  'efsCSIController',
] as const;
export type WellKnownPolicyName = (typeof WELL_KNOWN_POLICY_NAMES)[number];
export type WellKnownPolicies = Partial<Record<WellKnownPolicyName, boolean>>;

export type DeletionPolicy = 'Delete' | 'Retain';

/** How pods get the role: IRSA (the OIDC trust and the ServiceAccount annotation), EKS Pod Identity, or both. */
export const IDENTITY_MODES = ['IRSA', 'PodIdentity', 'Both'] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

/** The EKS Pod Identity association's own settings (identity PodIdentity or Both). */
export interface PodIdentitySpec {
  /** A role in this or another account that the association's role assumes for the pods (role chaining). */
  targetRoleARN?: string;
  /** EKS adds no session tags; the trust then pins the cluster only (aws:SourceArn). */
  disableSessionTags?: boolean;
}

export interface ServiceAccountSpec {
  name?: string;
  create?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  overrideExisting?: boolean;
}

/** Another cluster whose ServiceAccount the role's trust also admits. */
export interface AdditionalCluster {
  /** That cluster's service-account issuer URL (https://...); the operator's allowedIssuers must list it. */
  issuer: string;
  /** Default: this object's namespace. */
  namespace?: string;
  /** Default: this object's ServiceAccount (or its subjectPattern, in this object's namespace). */
  serviceAccount?: string;
}

/** A JSON IAM policy document, as written in YAML. */
export type PolicyDocument = Record<string, unknown>;

export interface IamServiceAccountSpec {
  /** The AWS account of the role (one of the operator's configured accounts); default: the operator's own. */
  account?: string;
  serviceAccount?: ServiceAccountSpec;
  roleName?: string;
  rolePath?: string;
  roleDescription?: string;
  maxSessionDuration?: number;
  permissionsBoundary?: string;
  tags?: Record<string, string>;
  attachPolicyARNs?: string[];
  attachPolicy?: PolicyDocument;
  wellKnownPolicies?: WellKnownPolicies;
  attachRoleARN?: string;
  roleOnly?: boolean;
  audience?: string;
  tokenExpiration?: number;
  stsRegionalEndpoints?: boolean;
  deletionPolicy?: DeletionPolicy;
  /** Restart the workloads of pods that run without the role (when the operator allows it). */
  restartPods?: boolean;
  /** IRSA (default), PodIdentity or Both. */
  identity?: IdentityMode;
  podIdentity?: PodIdentitySpec;
  /** Other clusters whose ServiceAccounts may assume the same role, each in its own trust statement. */
  additionalClusters?: AdditionalCluster[];
  /** StringLike pattern of the ServiceAccounts of this namespace the trust admits (`ci-*`, `*`). */
  subjectPattern?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export const CONDITION_TYPES = [
  'Ready',
  'RoleSynced',
  'ServiceAccountSynced',
  'AssociationSynced',
  'TrustVerified',
  'Reconciling',
  'Stalled',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** metav1.Condition. */
export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** Running pods of the ServiceAccount that started before its role annotations. */
export interface PodsNeedingRestart {
  count: number;
  /** The first few of them. */
  pods: string[];
}

export interface IamServiceAccountStatus {
  observedGeneration?: number;
  roleARN?: string;
  roleName?: string;
  oidcProviderARN?: string;
  serviceAccountName?: string;
  attachedPolicyARNs?: string[];
  /** The EKS Pod Identity association the operator made (identity PodIdentity or Both). */
  podIdentityAssociationARN?: string;
  podIdentityAssociationID?: string;
  podsNeedingRestart?: PodsNeedingRestart;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  /** Strings on the wire, typed as @kubernetes/client-node types them; read through new Date(). */
  creationTimestamp?: Date;
  deletionTimestamp?: Date;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface IamServiceAccount {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: IamServiceAccountSpec;
  status?: IamServiceAccountStatus;
}
