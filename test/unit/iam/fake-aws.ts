// IAM, STS and EKS as SDK clients that answer from a small in-memory account and record, for each
// command the operator's AWS layer sends, the authorization request IAM would evaluate for it:
// the action, the resource ARN and the context keys (request tags, boundary, the role's own tags).
// The requests come from the code's real commands and inputs, so a scenario cannot drift from it.
import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { requestTagContext, roleRequest, type Context, type RoleFacts, type SimRequest } from './simulate.ts';

/** A role as the fake account holds it. Documents are stored as IAM returns them (URL-encoded). */
export interface FakeRole {
  name: string;
  path: string;
  description: string;
  maxSessionDuration: number;
  boundary?: string | undefined;
  trust: string;
  tags: Record<string, string>;
  managed: string[];
  inline: Record<string, string>;
  /** Whether GetRole returns the tags (AWS does; some endpoints need ListRoleTags). */
  tagsInGetRole: boolean;
}

export interface FakeAccount {
  partition: string;
  account: string;
  region: string;
  issuer: string;
  roles: FakeRole[];
  /** Managed policies, AWS's and the customer's: ARN to default version document. */
  policies: Record<string, string>;
  /** OIDC providers made by someone else (untagged), accepting sts.amazonaws.com. */
  oidcProviders: string[];
  /** Trust policies of roles in other accounts the operator may assume, by role ARN. */
  trusts?: Record<string, unknown>;
  /** EKS Pod Identity associations of the cluster, by id. */
  associations?: FakeAssociation[];
}

/** Just enough of the SDK's middleware stack for FakeAws.plugin. */
interface InterceptPlugin {
  applyToStack: (stack: {
    add: (
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: Input }) => Promise<{ output: unknown; response: unknown }>,
      options: { step: 'initialize' },
    ) => void;
  }) => void;
}

/** An OIDC provider as the fake account holds it. */
interface FakeProvider {
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
}

/** An EKS Pod Identity association as the fake cluster holds it. */
export interface FakeAssociation {
  id: string;
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags: Record<string, string>;
}

/** A request recorded with the SDK command that caused it. */
export interface SentRequest extends SimRequest {
  command: string;
}

type Input = Readonly<Record<string, unknown>>;
interface SdkCommand {
  input: Input;
}

function str(input: Input, field: string): string {
  const v = input[field];
  if (typeof v !== 'string') throw new Error(`the command has no string ${field}`);
  return v;
}

function tagList(input: Input, field: string): Record<string, string> {
  const v = input[field];
  if (!Array.isArray(v)) return {};
  return Object.fromEntries((v as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
}

function noSuchEntity(what: string): Error {
  const e = new Error(`${what} cannot be found`);
  e.name = 'NoSuchEntity';
  return e;
}

export class FakeAws {
  readonly sent: SentRequest[] = [];
  private readonly acct: FakeAccount;
  private readonly roles: Map<string, FakeRole>;
  private readonly providers: Map<string, FakeProvider>;
  private readonly associations: Map<string, FakeAssociation>;

  constructor(account: FakeAccount) {
    this.acct = account;
    this.roles = new Map(account.roles.map((r) => [r.name, structuredClone(r)]));
    this.associations = new Map((account.associations ?? []).map((a) => [a.id, structuredClone(a)]));
    this.providers = new Map(
      account.oidcProviders.map((arn) => [arn, { clientIds: ['sts.amazonaws.com'], thumbprints: ['0'.repeat(40)], tags: {} }]),
    );
  }

  /** Puts a provider into the account (tagged as the operator's, say). */
  addProvider(arn: string, provider: FakeProvider): void {
    this.providers.set(arn, structuredClone(provider));
  }

  private providerArn(url: string): string {
    return `arn:${this.acct.partition}:iam::${this.acct.account}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
  }

  /** A provider's own tags, as aws:ResourceTag/<key>. */
  private providerTagContext(arn: string): Context {
    const tags = this.providers.get(arn)?.tags ?? {};
    return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
  }

  // The AWS layer only calls send(); these are clients in that one respect.
  iam(): IAMClient {
    return { send: (c: SdkCommand) => this.handle('iam', c) } as unknown as IAMClient;
  }
  sts(): STSClient {
    return { send: (c: SdkCommand) => this.handle('sts', c) } as unknown as STSClient;
  }
  eks(): EKSClient {
    return { send: (c: SdkCommand) => this.handle('eks', c) } as unknown as EKSClient;
  }

  roleArn(path: string, name: string): string {
    return `arn:${this.acct.partition}:iam::${this.acct.account}:role${path}${name}`;
  }

  /** What IAM knows of a role named in a request. A role that does not exist has no path, tags or boundary. */
  roleFacts(name: string): RoleFacts {
    const r = this.roles.get(name);
    return r
      ? { arn: this.roleArn(r.path, r.name), tags: { ...r.tags }, boundary: r.boundary }
      : { arn: this.roleArn('/', name), tags: {} };
  }

  /**
   * A client plugin that answers every command of the SDK client it is given to from this account
   * (before the client signs or sends anything): for clients the operator's code makes itself, such
   * as the STS client of fromTemporaryCredentials.
   */
  plugin(service: string): InterceptPlugin {
    return {
      applyToStack: (stack) =>
        stack.add(
          (_next, context) => async (args) => ({
            output: await this.handleOperation(service, (context.commandName ?? '').replace(/Command$/, ''), args.input),
            response: {},
          }),
          // No name: fromTemporaryCredentials applies the plugins again on each renewal.
          { step: 'initialize' },
        ),
    };
  }

  private handle(service: string, command: SdkCommand): Promise<unknown> {
    return this.handleOperation(service, command.constructor.name.replace(/Command$/, ''), command.input);
  }

  private handleOperation(service: string, operation: string, input: Input): Promise<unknown> {
    const action = `${service}:${operation}`;
    const request = this.requestFor(action, input);
    this.sent.push({ command: operation, ...request });
    // EKS authorizes passing the role as well (test/unit/iam/aws-calls.ts, IMPLIED).
    if (action === 'eks:CreatePodIdentityAssociation' || action === 'eks:UpdatePodIdentityAssociation') {
      const role = this.roleFacts(str(input, 'roleArn').split('/').pop() ?? '');
      this.sent.push({ command: operation, ...roleRequest('iam:PassRole', role, { 'iam:PassedToService': 'pods.eks.amazonaws.com' }) });
    }
    try {
      return Promise.resolve(this.answer(action, input));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The authorization request IAM evaluates for this call, before the call changes anything. */
  private requestFor(action: string, input: Input): SimRequest {
    const { partition, account, region } = this.acct;
    switch (action) {
      case 'sts:GetCallerIdentity':
        return { action, resource: '*', context: {} };
      case 'sts:AssumeRole':
        return {
          action,
          resource: str(input, 'RoleArn'),
          context: typeof input.ExternalId === 'string' ? { 'sts:ExternalId': input.ExternalId } : {},
          ...(this.acct.trusts?.[str(input, 'RoleArn')] === undefined ? {} : { resourcePolicy: this.acct.trusts[str(input, 'RoleArn')] }),
        };
      case 'eks:DescribeCluster':
        return { action, resource: `arn:${partition}:eks:${region}:${account}:cluster/${str(input, 'name')}`, context: {} };
      case 'iam:GetOpenIDConnectProvider':
        return { action, resource: str(input, 'OpenIDConnectProviderArn'), context: {} };
      case 'iam:CreateOpenIDConnectProvider':
        return { action, resource: this.providerArn(str(input, 'Url')), context: requestTagContext(tagList(input, 'Tags')) };
      case 'iam:AddClientIDToOpenIDConnectProvider':
      case 'iam:UpdateOpenIDConnectProviderThumbprint': {
        const arn = str(input, 'OpenIDConnectProviderArn');
        return { action, resource: arn, context: this.providerTagContext(arn) };
      }
      case 'iam:GetPolicy':
      case 'iam:GetPolicyVersion':
        return { action, resource: str(input, 'PolicyArn'), context: {} };
      case 'iam:GetAccountAuthorizationDetails':
      case 'iam:ListRoles':
        return { action, resource: '*', context: {} };
      case 'eks:ListPodIdentityAssociations':
        return { action, resource: this.clusterArn(str(input, 'clusterName')), context: {} };
      case 'eks:CreatePodIdentityAssociation':
        return {
          action,
          resource: this.clusterArn(str(input, 'clusterName')),
          context: requestTagContext(input.tags as Record<string, string>),
        };
      case 'eks:DescribePodIdentityAssociation':
      case 'eks:UpdatePodIdentityAssociation':
      case 'eks:DeletePodIdentityAssociation': {
        const id = str(input, 'associationId');
        const tags = this.associations.get(id)?.tags ?? {};
        const context = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
        return { action, resource: this.associationArn(str(input, 'clusterName'), id), context };
      }
      case 'iam:CreateRole': {
        const boundary: Context =
          typeof input.PermissionsBoundary === 'string' ? { 'iam:PermissionsBoundary': input.PermissionsBoundary } : {};
        const tags = tagList(input, 'Tags');
        const tagContext = Object.keys(tags).length > 0 ? requestTagContext(tags) : {};
        return { action, resource: this.roleArn(str(input, 'Path'), str(input, 'RoleName')), context: { ...tagContext, ...boundary } };
      }
      default:
        return this.roleActionRequest(action, input);
    }
  }

  /** Requests on an existing role, with what the call adds to the context. */
  private roleActionRequest(action: string, input: Input): SimRequest {
    if (typeof input.RoleName !== 'string') {
      throw new Error(`test/unit/iam/fake-aws.ts does not know ${action}: teach it the call's resource and answer`);
    }
    const role = this.roleFacts(input.RoleName);
    switch (action) {
      case 'iam:TagRole':
        return roleRequest(action, role, requestTagContext(tagList(input, 'Tags')));
      case 'iam:UntagRole':
        return roleRequest(action, role, { 'aws:TagKeys': input.TagKeys as string[] });
      case 'iam:PutRolePermissionsBoundary':
        return roleRequest(action, role, { 'iam:PermissionsBoundary': str(input, 'PermissionsBoundary') });
      case 'iam:AttachRolePolicy':
      case 'iam:DetachRolePolicy':
        return roleRequest(action, role, { 'iam:PolicyARN': str(input, 'PolicyArn') });
      default:
        return roleRequest(action, role);
    }
  }

  private answer(action: string, input: Input): unknown {
    switch (action) {
      case 'sts:GetCallerIdentity':
        return { Account: this.acct.account };
      case 'sts:AssumeRole':
        return {
          Credentials: {
            AccessKeyId: 'ASIAFAKE',
            SecretAccessKey: 'fake',
            SessionToken: 'fake',
            Expiration: new Date(Date.now() + 3_600_000),
          },
        };
      case 'eks:DescribeCluster':
        return {
          cluster: { name: input.name, arn: this.clusterArn(str(input, 'name')), identity: { oidc: { issuer: this.acct.issuer } } },
        };
      case 'eks:ListPodIdentityAssociations':
      case 'eks:CreatePodIdentityAssociation':
      case 'eks:DescribePodIdentityAssociation':
      case 'eks:UpdatePodIdentityAssociation':
      case 'eks:DeletePodIdentityAssociation':
        return this.associationAnswer(action, input);
      case 'iam:GetOpenIDConnectProvider': {
        const p = this.providers.get(str(input, 'OpenIDConnectProviderArn'));
        if (!p) throw noSuchEntity('OIDC provider');
        return {
          ClientIDList: [...p.clientIds],
          ThumbprintList: [...p.thumbprints],
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })),
        };
      }
      case 'iam:CreateOpenIDConnectProvider': {
        const arn = this.providerArn(str(input, 'Url'));
        const list = (field: string) => (Array.isArray(input[field]) ? (input[field] as string[]) : []);
        this.providers.set(arn, { clientIds: list('ClientIDList'), thumbprints: list('ThumbprintList'), tags: tagList(input, 'Tags') });
        return { OpenIDConnectProviderArn: arn };
      }
      case 'iam:AddClientIDToOpenIDConnectProvider':
      case 'iam:UpdateOpenIDConnectProviderThumbprint': {
        const p = this.providers.get(str(input, 'OpenIDConnectProviderArn'));
        if (!p) throw noSuchEntity('OIDC provider');
        if (action === 'iam:AddClientIDToOpenIDConnectProvider') p.clientIds.push(str(input, 'ClientID'));
        else p.thumbprints = [...(input.ThumbprintList as string[])];
        return {};
      }
      case 'iam:GetPolicy':
      case 'iam:GetPolicyVersion':
        return this.policyAnswer(str(input, 'PolicyArn'));
      case 'iam:GetAccountAuthorizationDetails':
        return { IsTruncated: false, RoleDetailList: [...this.roles.values()].map((r) => this.roleDetail(r)) };
      case 'iam:ListRoles': {
        const prefix = typeof input.PathPrefix === 'string' ? input.PathPrefix : '/';
        const roles = [...this.roles.values()].filter((r) => r.path.startsWith(prefix));
        return { IsTruncated: false, Roles: roles.map((r) => ({ ...this.sdkRole(r), Tags: undefined, PermissionsBoundary: undefined })) };
      }
      default:
        return this.roleAnswer(action, input);
    }
  }

  clusterArn(name: string): string {
    return `arn:${this.acct.partition}:eks:${this.acct.region}:${this.acct.account}:cluster/${name}`;
  }

  associationArn(cluster: string, id: string): string {
    return `arn:${this.acct.partition}:eks:${this.acct.region}:${this.acct.account}:podidentityassociation/${cluster}/${id}`;
  }

  private associationAnswer(action: string, input: Input): unknown {
    const sdk = (a: FakeAssociation) => ({
      associationId: a.id,
      associationArn: this.associationArn(a.cluster, a.id),
      clusterName: a.cluster,
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
      roleArn: a.roleArn,
      tags: a.tags,
    });
    if (action === 'eks:ListPodIdentityAssociations') {
      const found = [...this.associations.values()].filter(
        (a) => a.namespace === input.namespace && a.serviceAccount === input.serviceAccount,
      );
      return { associations: found.map(sdk) };
    }
    if (action === 'eks:CreatePodIdentityAssociation') {
      const id = `a-${String(this.associations.size + 1).padStart(17, '0')}`;
      const made = {
        id,
        cluster: str(input, 'clusterName'),
        namespace: str(input, 'namespace'),
        serviceAccount: str(input, 'serviceAccount'),
        roleArn: str(input, 'roleArn'),
        tags: { ...(input.tags as Record<string, string>) },
      };
      this.associations.set(id, made);
      return { association: sdk(made) };
    }
    const a = this.associations.get(str(input, 'associationId'));
    if (!a) throw Object.assign(new Error('association not found'), { name: 'ResourceNotFoundException' });
    if (action === 'eks:DeletePodIdentityAssociation') this.associations.delete(a.id);
    if (action === 'eks:UpdatePodIdentityAssociation') a.roleArn = str(input, 'roleArn');
    return { association: sdk(a) };
  }

  private policyAnswer(arn: string): unknown {
    const document = this.acct.policies[arn];
    if (document === undefined) throw noSuchEntity(`policy ${arn}`);
    return { Policy: { Arn: arn, DefaultVersionId: 'v1' }, PolicyVersion: { VersionId: 'v1', Document: document } };
  }

  private roleAnswer(action: string, input: Input): unknown {
    const name = str(input, 'RoleName');
    if (action === 'iam:CreateRole') {
      this.roles.set(name, {
        name,
        path: str(input, 'Path'),
        description: str(input, 'Description'),
        maxSessionDuration: Number(input.MaxSessionDuration),
        boundary: input.PermissionsBoundary as string | undefined,
        trust: encodeURIComponent(str(input, 'AssumeRolePolicyDocument')),
        tags: tagList(input, 'Tags'),
        managed: [],
        inline: {},
        tagsInGetRole: true,
      });
      return {};
    }
    const role = this.roles.get(name);
    if (!role) throw noSuchEntity(`role ${name}`);
    return this.existingRoleAnswer(action, role, input);
  }

  private existingRoleAnswer(action: string, role: FakeRole, input: Input): unknown {
    switch (action) {
      case 'iam:GetRole':
        return { Role: this.sdkRole(role) };
      case 'iam:ListAttachedRolePolicies':
        return { AttachedPolicies: role.managed.map((PolicyArn) => ({ PolicyArn })), IsTruncated: false };
      case 'iam:ListRolePolicies':
        return { PolicyNames: Object.keys(role.inline), IsTruncated: false };
      case 'iam:GetRolePolicy':
        return { PolicyDocument: role.inline[str(input, 'PolicyName')] };
      case 'iam:ListRoleTags':
        return { Tags: Object.entries(role.tags).map(([Key, Value]) => ({ Key, Value })), IsTruncated: false };
      default:
        this.write(action, role, input);
        return {};
    }
  }

  /** The writes change what later requests see: the role's tags, its boundary, its existence. */
  private write(action: string, role: FakeRole, input: Input): void {
    switch (action) {
      case 'iam:TagRole':
        Object.assign(role.tags, tagList(input, 'Tags'));
        return;
      case 'iam:UntagRole': {
        const keys = input.TagKeys as string[];
        role.tags = Object.fromEntries(Object.entries(role.tags).filter(([k]) => !keys.includes(k)));
        return;
      }
      case 'iam:PutRolePermissionsBoundary':
        role.boundary = str(input, 'PermissionsBoundary');
        return;
      case 'iam:DeleteRolePermissionsBoundary':
        role.boundary = undefined;
        return;
      case 'iam:DeleteRole':
        this.roles.delete(role.name);
        return;
    }
  }

  /** GetAccountAuthorizationDetails' RoleDetail: policies and tags, no description or session duration. */
  private roleDetail(r: FakeRole): Record<string, unknown> {
    const { Description: _d, MaxSessionDuration: _m, ...rest } = this.sdkRole(r);
    return {
      ...rest,
      Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })),
      AttachedManagedPolicies: r.managed.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
      RolePolicyList: Object.entries(r.inline).map(([PolicyName, PolicyDocument]) => ({ PolicyName, PolicyDocument })),
    };
  }

  private sdkRole(r: FakeRole): Record<string, unknown> {
    return {
      RoleName: r.name,
      Path: r.path,
      Arn: this.roleArn(r.path, r.name),
      Description: r.description,
      MaxSessionDuration: r.maxSessionDuration,
      AssumeRolePolicyDocument: r.trust,
      ...(r.boundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: r.boundary } } : {}),
      ...(r.tagsInGetRole ? { Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    };
  }
}
