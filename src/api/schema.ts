// The OpenAPI v3 schema of IamServiceAccount: the single source of crds/ (npm run gen:crd) and of
// the operator's own ajv validator. The API server prunes (and, for kubectl, rejects) unknown
// fields; ajv is told to reject them. CEL rules (x-kubernetes-validations) run in the API server;
// src/api/validate.ts repeats them, with the checks too costly for CEL, in the operator.

import { CONDITION_TYPES, IDENTITY_MODES } from './types.ts';

const MAP_OF_STRINGS = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 4096 },
} as const;

export const ROLE_NAME_PATTERN = '^[\\w+=,.@-]{1,64}$';
export const ROLE_PATH_PATTERN = '^/([!-~]*/)?$';
export const POLICY_ARN_PATTERN = '^arn:aws(-cn|-us-gov)?:iam::(aws|[0-9]{12}):policy/[\\w+=,.@/-]{1,512}$';
export const ROLE_ARN_PATTERN = '^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,576}$';
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/**
 * A subjectPattern: a ServiceAccount name (a DNS subdomain) in which `*` stands for any run of
 * characters. No `?` (one character, `:` included), no `:` or `/`, no `$`, `{` or `}` (IAM policy
 * variables), no empty label (`..`): it can only name ServiceAccounts after
 * `system:serviceaccount:<its namespace>:`.
 */
export const SUBJECT_PATTERN_PATTERN = '^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?(\\.[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?)*$';
/**
 * An issuer as it appears in tokens and as IAM names its provider: https, a lowercase host, an
 * optional port, path segments of unreserved characters, no trailing slash.
 */
export const ISSUER_URL_PATTERN =
  '^https://[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$';

export const specSchema = {
  type: 'object',
  description: 'The IAM role to manage and the ServiceAccount that may assume it.',
  properties: {
    account: {
      type: 'string',
      description:
        "AWS account ID of the role: one of the accounts the operator is configured to write roles to, and open to this namespace. Default: the account of attachRoleARN, else the operator's own. The role trusts that account's OIDC provider for the cluster's issuer. Immutable.",
      pattern: '^[0-9]{12}$',
    },
    serviceAccount: {
      type: 'object',
      description: "The ServiceAccount to create or annotate, always in the object's namespace.",
      properties: {
        name: {
          type: 'string',
          description: 'ServiceAccount name. Default: metadata.name.',
          maxLength: 253,
          pattern: DNS_SUBDOMAIN_PATTERN,
        },
        create: {
          type: 'boolean',
          description: 'Create the ServiceAccount if missing (default true). False: only annotate an existing one.',
        },
        labels: { ...MAP_OF_STRINGS, description: 'Labels applied to the ServiceAccount.' },
        annotations: {
          ...MAP_OF_STRINGS,
          description: 'Annotations applied to the ServiceAccount (eks.amazonaws.com/* and irsa.dev/* come from spec fields).',
        },
        overrideExisting: {
          type: 'boolean',
          description: 'Take over a ServiceAccount that exists and was not created by this operator (default false).',
        },
      },
    },
    roleName: {
      type: 'string',
      description: 'IAM role name. Default: derived from cluster, namespace and name (unique, at most 64 characters). Immutable.',
      pattern: ROLE_NAME_PATTERN,
    },
    rolePath: {
      type: 'string',
      description: 'IAM role path, beginning and ending with "/". Immutable.',
      maxLength: 512,
      pattern: ROLE_PATH_PATTERN,
    },
    roleDescription: { type: 'string', description: 'IAM role description.', maxLength: 1000 },
    maxSessionDuration: {
      type: 'integer',
      description: 'Maximum session duration in seconds (3600..43200, default 3600).',
      minimum: 3600,
      maximum: 43200,
    },
    permissionsBoundary: {
      type: 'string',
      description:
        "ARN of the managed policy used as the role's permissions boundary. Set or replaced, never removed: once a role has a boundary, removing this field keeps it.",
      pattern: POLICY_ARN_PATTERN,
    },
    tags: {
      type: 'object',
      description: "Extra role tags (at most 40). The operator's own irsa.dev/* tags always win.",
      maxProperties: 40,
      additionalProperties: { type: 'string', maxLength: 256 },
    },
    attachPolicyARNs: {
      type: 'array',
      description: 'Managed policies to attach (at most 10).',
      maxItems: 10,
      'x-kubernetes-list-type': 'set',
      items: { type: 'string', pattern: POLICY_ARN_PATTERN },
    },
    attachPolicy: {
      type: 'object',
      description: 'One inline IAM policy document (Version, Statement).',
      required: ['Statement'],
      properties: {
        Version: { type: 'string', enum: ['2012-10-17', '2008-10-17'], description: 'Policy language version; use 2012-10-17.' },
        Id: { type: 'string', description: 'Optional policy identifier.' },
        Statement: { 'x-kubernetes-preserve-unknown-fields': true, description: 'One IAM statement or a list of them.' },
      },
    },
    wellKnownPolicies: {
      type: 'object',
      description: "eksctl's well-known policies, attached as inline policies.",
      properties: {
        imageBuilder: { type: 'boolean', description: 'Push and pull images in ECR (managed AmazonEC2ContainerRegistryPowerUser).' },
        autoScaler: { type: 'boolean', description: 'cluster-autoscaler: read and resize Auto Scaling groups.' },
        awsLoadBalancerController: {
          type: 'boolean',
          description: 'aws-load-balancer-controller: manage ELBs, target groups and their security groups.',
        },
        externalDNS: { type: 'boolean', description: 'external-dns: change Route 53 record sets.' },
        certManager: { type: 'boolean', description: 'cert-manager: DNS-01 challenges in Route 53.' },
        ebsCSIController: { type: 'boolean', description: 'EBS CSI driver (managed service-role/AmazonEBSCSIDriverPolicy).' },
        efsCSIController: { type: 'boolean', description: 'EFS CSI driver: manage EFS access points.' },
      },
    },
    attachRoleARN: {
      type: 'string',
      description: 'Use an existing role: no IAM writes, only annotate the ServiceAccount and verify the trust policy.',
      pattern: ROLE_ARN_PATTERN,
    },
    roleOnly: { type: 'boolean', description: 'Manage the role only; never touch a ServiceAccount.' },
    audience: {
      type: 'string',
      description:
        "Token audience (aud) in the trust policy and the ServiceAccount annotation; the cluster's IAM OIDC provider must list it as a client ID. Default: the operator's defaultAudience, else sts.amazonaws.com when the provider lists it (EKS, every partition), else sts.amazonaws.com.cn when listed.",
      minLength: 1,
      maxLength: 256,
      pattern: '^[!-~]+$',
    },
    tokenExpiration: {
      type: 'integer',
      description: 'Projected token lifetime in seconds (600..86400), annotation eks.amazonaws.com/token-expiration.',
      minimum: 600,
      maximum: 86400,
    },
    stsRegionalEndpoints: {
      type: 'boolean',
      description: 'Annotation eks.amazonaws.com/sts-regional-endpoints (default true).',
    },
    deletionPolicy: {
      type: 'string',
      description: 'What happens to the role when the object is deleted (default Delete).',
      enum: ['Delete', 'Retain'],
    },
    restartPods: {
      type: 'boolean',
      description:
        'Restart (as kubectl rollout restart) the Deployments, StatefulSets and DaemonSets whose pods run without the role annotations, when the operator runs with stalePods: restart. Bare pods are only reported.',
    },
    additionalClusters: {
      type: 'array',
      description:
        "Other clusters whose ServiceAccounts may assume the same role: each adds a trust statement pinned to that cluster's OIDC provider (which must exist in the role's account). The operator's allowedIssuers must list each issuer; the whole trust must fit trustPolicyLimit.",
      maxItems: 32,
      items: {
        type: 'object',
        required: ['issuer'],
        properties: {
          issuer: {
            type: 'string',
            description:
              "That cluster's service-account issuer URL, as in its tokens' iss (https://oidc.eks.<region>.amazonaws.com/id/<ID>).",
            maxLength: 512,
            pattern: ISSUER_URL_PATTERN,
          },
          namespace: {
            type: 'string',
            description: "The ServiceAccount's namespace in that cluster. Default: this object's namespace.",
            maxLength: 63,
            pattern: DNS_LABEL_PATTERN,
          },
          serviceAccount: {
            type: 'string',
            description:
              "The ServiceAccount's name in that cluster. Default: this object's ServiceAccount, or its subjectPattern when the namespace is this object's.",
            maxLength: 253,
            pattern: DNS_SUBDOMAIN_PATTERN,
          },
        },
      },
    },
    subjectPattern: {
      type: 'string',
      description:
        "Admit every ServiceAccount of this object's namespace whose name matches (StringLike; * is any run of characters): ci-* or *. It must match the ServiceAccount the operator annotates. Off unless the operator's subjectPatternNamespaces lists the namespace.",
      maxLength: 253,
      pattern: SUBJECT_PATTERN_PATTERN,
    },
    identity: {
      type: 'string',
      description:
        'How pods get the role: IRSA (default: the OIDC trust and the ServiceAccount annotation), PodIdentity (the pods.eks.amazonaws.com trust and an EKS Pod Identity association; EKS only) or Both (the migration path). Switching converges without a moment where neither works (docs/pod-identity.md).',
      enum: [...IDENTITY_MODES],
    },
    podIdentity: {
      type: 'object',
      description: 'Settings of the EKS Pod Identity association (identity PodIdentity or Both).',
      properties: {
        targetRoleARN: {
          type: 'string',
          description:
            "A role the association's role assumes for the pods (role chaining, e.g. into another account); its trust is yours to write.",
          pattern: ROLE_ARN_PATTERN,
        },
        disableSessionTags: {
          type: 'boolean',
          description:
            'EKS adds no session tags (default false). The trust can then pin only the cluster (aws:SourceArn), not the namespace and ServiceAccount.',
        },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!has(self.attachRoleARN) || !(has(self.attachPolicyARNs) || has(self.attachPolicy) || has(self.wellKnownPolicies))',
      message: 'attachRoleARN uses an existing role as it is: remove attachPolicyARNs, attachPolicy and wellKnownPolicies',
    },
    {
      rule: '!has(self.attachRoleARN) || !(has(self.roleName) || has(self.rolePath) || has(self.roleDescription) || has(self.permissionsBoundary) || has(self.maxSessionDuration) || has(self.tags))',
      message:
        'attachRoleARN uses an existing role as it is: remove roleName, rolePath, roleDescription, permissionsBoundary, maxSessionDuration and tags',
    },
    {
      rule: '!(has(self.roleOnly) && self.roleOnly) || !(has(self.serviceAccount) || has(self.attachRoleARN) || has(self.tokenExpiration) || has(self.stsRegionalEndpoints))',
      message:
        'roleOnly never touches a ServiceAccount: remove serviceAccount, tokenExpiration and stsRegionalEndpoints (and attachRoleARN, which manages no role)',
    },
    {
      rule: "!has(self.podIdentity) || (has(self.identity) && self.identity != 'IRSA')",
      message: 'podIdentity configures the EKS Pod Identity association: set identity to PodIdentity or Both, or remove podIdentity',
    },
    {
      rule: "!has(self.identity) || self.identity == 'IRSA' || !(has(self.attachRoleARN) || (has(self.roleOnly) && self.roleOnly))",
      message: 'identity PodIdentity and Both need a role the operator manages and a ServiceAccount: remove attachRoleARN and roleOnly',
    },
    {
      rule: '!has(self.attachRoleARN) || !(has(self.additionalClusters) || has(self.subjectPattern))',
      message: 'attachRoleARN uses an existing role as it is: its trust is not written; remove additionalClusters and subjectPattern',
    },
    {
      rule: 'has(self.account) == has(oldSelf.account) && (!has(self.account) || self.account == oldSelf.account)',
      message: 'account is immutable (IAM cannot move a role between accounts): create a new IamServiceAccount for another account',
    },
    {
      rule: 'has(self.roleName) == has(oldSelf.roleName) && (!has(self.roleName) || self.roleName == oldSelf.roleName)',
      message: 'roleName is immutable: create a new IamServiceAccount for a new role',
    },
    {
      rule: 'has(self.rolePath) == has(oldSelf.rolePath) && (!has(self.rolePath) || self.rolePath == oldSelf.rolePath)',
      message: 'rolePath is immutable (IAM cannot move a role): create a new IamServiceAccount for a new path',
    },
  ],
} as const;

const conditionSchema = {
  type: 'object',
  description: 'A metav1.Condition.',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: {
      type: 'string',
      enum: [...CONDITION_TYPES],
      description: 'Condition type (kstatus: Ready, Reconciling, Stalled).',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'Condition status.' },
    reason: {
      type: 'string',
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'CamelCase reason: Synced, or what is wrong (docs/troubleshooting.md).',
    },
    message: { type: 'string', maxLength: 32768, description: 'What is wrong and what to change.' },
    observedGeneration: { type: 'integer', minimum: 0, description: 'metadata.generation the condition was computed for.' },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When status last changed.' },
  },
} as const;

export const statusSchema = {
  type: 'object',
  description: 'What the operator did and found; written by the operator only.',
  properties: {
    observedGeneration: { type: 'integer', description: 'metadata.generation of the last reconcile.' },
    roleARN: { type: 'string', description: 'ARN of the role the ServiceAccount assumes.' },
    roleName: { type: 'string', description: 'Name of that role.' },
    oidcProviderARN: { type: 'string', description: "IAM OIDC provider of the cluster's issuer, trusted by the role." },
    serviceAccountName: { type: 'string', description: 'The ServiceAccount annotated with the role (absent with roleOnly).' },
    attachedPolicyARNs: {
      type: 'array',
      items: { type: 'string' },
      description: 'Managed policies attached (attachPolicyARNs and those of wellKnownPolicies).',
    },
    podIdentityAssociationARN: { type: 'string', description: 'ARN of the EKS Pod Identity association (identity PodIdentity or Both).' },
    podIdentityAssociationID: { type: 'string', description: 'ID of that association.' },
    podsNeedingRestart: {
      type: 'object',
      description:
        'Running pods of the ServiceAccount that started before its role annotations and run without them (the webhook injects at pod creation only).',
      required: ['count', 'pods'],
      properties: {
        count: { type: 'integer', description: 'How many.' },
        pods: { type: 'array', items: { type: 'string' }, maxItems: 5, description: 'The first few by name.' },
      },
    },
    conditions: {
      type: 'array',
      description: 'Ready, RoleSynced, ServiceAccountSynced, AssociationSynced, TrustVerified, Reconciling and Stalled.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: conditionSchema,
    },
  },
} as const;

export const openAPIV3Schema = {
  type: 'object',
  description: 'IamServiceAccount gives a Kubernetes ServiceAccount an AWS IAM role (IRSA).',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
} as const;
