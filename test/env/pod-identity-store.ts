// EKS Pod Identity associations for the test environment. moto (5.2.5, the newest) has EKS
// clusters but no pod identity association API, so the AWS proxy answers these five operations
// from this store and sends everything else to moto. It stands in for EKS's association API as
// its model (botocore's service-2.json for eks, the one the SDKs are generated from) describes
// it: every request is checked against the operation's input shape (required members, types,
// lengths, ranges, patterns) and answered with the model's error codes; the cluster must exist in
// moto (DescribeCluster); one association per ServiceAccount (ResourceInUseException); at most
// `limit` per cluster (ResourceLimitExceededException, 5,000 as on EKS); clientRequestToken makes
// a create or update idempotent (the same token with other parameters: InvalidRequestException).
// It does not stand in for what EKS does with an association (the Pod Identity agent on nodes).
import { randomBytes } from 'node:crypto';
import { shapeProblem, type Operation, type ServiceModel } from './aws-model.ts';

export const POD_IDENTITY_OPERATIONS = [
  'CreatePodIdentityAssociation',
  'DescribePodIdentityAssociation',
  'UpdatePodIdentityAssociation',
  'DeletePodIdentityAssociation',
  'ListPodIdentityAssociations',
] as const;
export type PodIdentityOperation = (typeof POD_IDENTITY_OPERATIONS)[number];

export interface StoreRequest {
  method: string;
  /** Path and query string, as on the request line. */
  url: string;
  body: string;
}

export interface StoreAnswer {
  status: number;
  /** The error code (x-amzn-ErrorType) of an error answer. */
  errorType?: string;
  body: Record<string, unknown>;
}

interface Association {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationArn: string;
  associationId: string;
  tags?: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  disableSessionTags: boolean;
  targetRoleArn?: string;
  externalId?: string;
  policy?: string;
}

export interface StoreOptions {
  /** The cluster's ARN, or undefined when EKS (moto) has no cluster of that name. */
  cluster: (name: string) => Promise<string | undefined>;
  /** Associations per cluster (EKS: 5,000). */
  limit?: number;
  now?: () => number;
}

class EksError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** One route per operation, from the model's requestUri: `/clusters/{name}/...` -> a RegExp and its labels. */
interface Route {
  operation: PodIdentityOperation;
  method: string;
  pattern: RegExp;
  labels: string[];
}

export class PodIdentityStore {
  private readonly model: ServiceModel;
  private readonly opts: StoreOptions;
  private readonly routes: Route[];
  private readonly associations = new Map<string, Association>();
  /** `<operation> <cluster> <token>` -> the parameters it was first used with and the association id. */
  private readonly tokens = new Map<string, { params: string; id: string }>();
  limit: number;

  constructor(model: ServiceModel, opts: StoreOptions) {
    this.model = model;
    this.opts = opts;
    this.limit = opts.limit ?? 5000;
    this.routes = POD_IDENTITY_OPERATIONS.map((operation) => {
      const op = this.operation(operation);
      const labels: string[] = [];
      const source = op.http.requestUri.replace(/\{(\w+)\}/g, (_m, label: string) => {
        labels.push(label);
        return '([^/]+)';
      });
      return { operation, method: op.http.method, pattern: new RegExp(`^${source}$`), labels };
    });
  }

  private operation(name: PodIdentityOperation): Operation {
    const op = this.model.operations[name];
    if (!op) throw new Error(`the EKS model has no operation ${name}`);
    return op;
  }

  /** The operation a request is for, when it is one of the store's. */
  route(method: string, url: string): { operation: PodIdentityOperation; labels: Record<string, string> } | undefined {
    const path = url.split('?')[0] ?? '';
    for (const r of this.routes) {
      const m = r.method === method ? r.pattern.exec(path) : null;
      if (m) return { operation: r.operation, labels: Object.fromEntries(r.labels.map((l, i) => [l, decodeURIComponent(m[i + 1] ?? '')])) };
    }
    return undefined;
  }

  /** Every association, for tests that look behind the operator's back. */
  all(): Association[] {
    return [...this.associations.values()].map((a) => structuredClone(a));
  }

  async handle(req: StoreRequest): Promise<StoreAnswer> {
    const routed = this.route(req.method, req.url);
    if (!routed) return this.error('InvalidRequestException', `no pod identity operation for ${req.method} ${req.url}`);
    try {
      const input = this.input(routed.operation, routed.labels, req);
      const problem = shapeProblem(this.model, this.operation(routed.operation).input?.shape ?? '', input, '');
      if (problem !== undefined) throw new EksError('InvalidParameterException', problem);
      return { status: 200, body: await this.answer(routed.operation, input) };
    } catch (e) {
      if (e instanceof EksError) return this.error(e.code, e.message);
      throw e;
    }
  }

  private error(code: string, message: string): StoreAnswer {
    return { status: this.model.shapes[code]?.error?.httpStatusCode ?? 400, errorType: code, body: { message } };
  }

  /** The operation's input from the URI labels, the query string and the JSON body, as the model binds them. */
  private input(operation: PodIdentityOperation, labels: Record<string, string>, req: StoreRequest): Record<string, unknown> {
    const shape = this.model.shapes[this.operation(operation).input?.shape ?? ''];
    let body: Record<string, unknown> = {};
    if (req.body.trim() !== '') {
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        throw new EksError('InvalidParameterException', 'the request body is not JSON');
      }
    }
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    const input: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(shape?.members ?? {})) {
      const bound = member.locationName ?? name;
      if (member.location === 'uri') input[name] = labels[bound];
      else if (member.location === 'querystring') {
        const v = query.get(bound);
        if (v !== null) input[name] = this.model.shapes[member.shape]?.type === 'integer' ? (/^-?\d+$/.test(v) ? Number(v) : v) : v;
      } else if (body[name] !== undefined) input[name] = body[name];
    }
    const unknown = Object.keys(body).filter((k) => !(k in (shape?.members ?? {})) || shape?.members?.[k]?.location !== undefined);
    if (unknown.length > 0) throw new EksError('InvalidParameterException', `unknown member ${unknown.join(', ')}`);
    return input;
  }

  private async answer(operation: PodIdentityOperation, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const cluster = input.clusterName as string;
    const clusterArn = await this.opts.cluster(cluster);
    if (clusterArn === undefined) throw new EksError('ResourceNotFoundException', `No cluster found for name: ${cluster}.`);
    switch (operation) {
      case 'CreatePodIdentityAssociation':
        return { association: this.create(clusterArn, input) };
      case 'DescribePodIdentityAssociation':
        return { association: this.find(cluster, input.associationId as string) };
      case 'UpdatePodIdentityAssociation':
        return { association: this.update(cluster, input) };
      case 'DeletePodIdentityAssociation': {
        const a = this.find(cluster, input.associationId as string);
        this.associations.delete(a.associationId);
        return { association: a };
      }
      case 'ListPodIdentityAssociations':
        return this.list(cluster, input);
    }
  }

  private find(cluster: string, id: string): Association {
    const a = this.associations.get(id);
    if (!a || a.clusterName !== cluster) {
      throw new EksError('ResourceNotFoundException', `Association ${id} not found in cluster ${cluster}.`);
    }
    return structuredClone(a);
  }

  /** The same token with the same parameters answers what the first request made; with others it is refused. */
  private idempotent(operation: string, cluster: string, input: Record<string, unknown>): Association | undefined {
    const token = input.clientRequestToken;
    if (typeof token !== 'string') return undefined;
    const { clientRequestToken: _t, ...params } = input;
    const seen = this.tokens.get(`${operation} ${cluster} ${token}`);
    if (!seen) return undefined;
    if (seen.params !== JSON.stringify(params)) {
      throw new EksError('InvalidRequestException', `clientRequestToken ${token} was already used with other parameters`);
    }
    return this.associations.get(seen.id);
  }

  private remember(operation: string, cluster: string, input: Record<string, unknown>, id: string): void {
    const token = input.clientRequestToken;
    if (typeof token !== 'string') return;
    const { clientRequestToken: _t, ...params } = input;
    this.tokens.set(`${operation} ${cluster} ${token}`, { params: JSON.stringify(params), id });
  }

  private checkRoles(input: Record<string, unknown>): void {
    for (const field of ['roleArn', 'targetRoleArn'] as const) {
      const v = input[field];
      if (typeof v === 'string' && v !== '' && !ROLE_ARN.test(v))
        throw new EksError('InvalidParameterException', `${field} ${v} is not an IAM role ARN`);
    }
    if (input.policy !== undefined && input.disableSessionTags !== true) {
      throw new EksError('InvalidRequestException', 'a policy needs disableSessionTags set to true');
    }
  }

  private create(clusterArn: string, input: Record<string, unknown>): Association {
    const cluster = input.clusterName as string;
    const again = this.idempotent('Create', cluster, input);
    if (again) return structuredClone(again);
    this.checkRoles(input);
    const [namespace, serviceAccount] = [input.namespace as string, input.serviceAccount as string];
    const inCluster = [...this.associations.values()].filter((a) => a.clusterName === cluster);
    const taken = inCluster.find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
    if (taken) {
      throw new EksError(
        'ResourceInUseException',
        `Association already exists: ${taken.associationId} for ${namespace}/${serviceAccount}.`,
      );
    }
    if (inCluster.length >= this.limit) {
      throw new EksError(
        'ResourceLimitExceededException',
        `Cluster ${cluster} has reached the limit of ${this.limit} pod identity associations.`,
      );
    }
    const id = `a-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const now = this.now();
    const association: Association = {
      clusterName: cluster,
      namespace,
      serviceAccount,
      roleArn: input.roleArn as string,
      associationArn: `${clusterArn.replace(':cluster/', ':podidentityassociation/')}/${id}`,
      associationId: id,
      ...(input.tags === undefined ? {} : { tags: { ...(input.tags as Record<string, string>) } }),
      createdAt: now,
      modifiedAt: now,
      disableSessionTags: input.disableSessionTags === true,
      ...(typeof input.targetRoleArn === 'string' && input.targetRoleArn !== ''
        ? { targetRoleArn: input.targetRoleArn, externalId: randomBytes(16).toString('hex') }
        : {}),
      ...(typeof input.policy === 'string' ? { policy: input.policy } : {}),
    };
    this.associations.set(id, association);
    this.remember('Create', cluster, input, id);
    return structuredClone(association);
  }

  private update(cluster: string, input: Record<string, unknown>): Association {
    const again = this.idempotent('Update', cluster, input);
    if (again) return structuredClone(again);
    const a = this.associations.get(this.find(cluster, input.associationId as string).associationId);
    if (!a) throw new EksError('ResourceNotFoundException', `Association ${String(input.associationId)} not found.`);
    this.checkRoles(input);
    if (typeof input.roleArn === 'string') a.roleArn = input.roleArn;
    if (typeof input.disableSessionTags === 'boolean') a.disableSessionTags = input.disableSessionTags;
    if (typeof input.policy === 'string') a.policy = input.policy;
    if (input.targetRoleArn === '') {
      delete a.targetRoleArn;
      delete a.externalId;
    } else if (typeof input.targetRoleArn === 'string') {
      a.targetRoleArn = input.targetRoleArn;
      a.externalId ??= randomBytes(16).toString('hex');
    }
    a.modifiedAt = this.now();
    this.remember('Update', cluster, input, a.associationId);
    return structuredClone(a);
  }

  private list(cluster: string, input: Record<string, unknown>): Record<string, unknown> {
    const max = (input.maxResults as number | undefined) ?? 100;
    let start = 0;
    if (typeof input.nextToken === 'string') {
      start = Number(Buffer.from(input.nextToken, 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0) throw new EksError('InvalidParameterException', 'nextToken is not one this API returned');
    }
    const matching = [...this.associations.values()].filter(
      (a) =>
        a.clusterName === cluster &&
        (input.namespace === undefined || a.namespace === input.namespace) &&
        (input.serviceAccount === undefined || a.serviceAccount === input.serviceAccount),
    );
    const page = matching.slice(start, start + max).map((a) => ({
      clusterName: a.clusterName,
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
      associationArn: a.associationArn,
      associationId: a.associationId,
    }));
    const next = start + max < matching.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { associations: page, ...(next === undefined ? {} : { nextToken: next }) };
  }

  private now(): number {
    return Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
  }
}
