// Wires the operator together: informers feed keys to the work queue, workers reconcile them.
// Constructors do nothing; start() starts, stop() drains in-flight keys and stops.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type V1ServiceAccount } from '@kubernetes/client-node';
import { GROUP, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_ANNOTATION, PLURAL, VERSION, type IamServiceAccount } from './api/types.ts';
import { WriteBudget } from './aws/budget.ts';
import { DEFAULT_CALL_OPTIONS } from './aws/call.ts';
import { destroyAwsClients, makeAwsClients, type AwsClients } from './aws/clients.ts';
import { IamRoles } from './aws/iam.ts';
import { resolveIdentity } from './aws/identity.ts';
import type { OperatorConfig } from './config.ts';
import { Reconciler } from './controller/reconciler.ts';
import { errorMessage } from './errors.ts';
import { KubeApi } from './kube/client.ts';
import { ResilientInformer } from './kube/informer.ts';
import { PooledKubeConfig } from './kube/kubeconfig.ts';
import { LeaderElector, type LeaseTimings } from './kube/leader.ts';
import { WorkQueue } from './kube/queue.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import type { ClusterIdentity } from './policy/desired.ts';

const SA_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export interface OperatorHooks {
  /** Called when this replica loses the lease after having led: the process should exit. */
  onLeadershipLost?: () => void;
  leaseTimings?: LeaseTimings;
}

export class Operator {
  readonly metrics = new Metrics(() => [...this.objectInformers.values()].flatMap((i) => i.list()));
  private readonly config: OperatorConfig;
  private readonly kc: KubeConfig;
  private readonly log: Logger;
  private readonly hooks: OperatorHooks;
  private elector: LeaderElector | undefined;
  private leadingPromise: Promise<void> = Promise.resolve();
  private aws: AwsClients | undefined;
  private queue: WorkQueue | undefined;
  private reconciler: Reconciler | undefined;
  /** Informers by namespace; '' when all namespaces are watched. */
  private readonly objectInformers = new Map<string, ResilientInformer<IamServiceAccount>>();
  private readonly saInformers = new Map<string, ResilientInformer<V1ServiceAccount>>();
  private server: Server | undefined;
  private ready = false;

  constructor(config: OperatorConfig, kc: KubeConfig, log: Logger, hooks: OperatorHooks = {}) {
    this.config = config;
    this.kc = kc;
    this.log = log;
    this.hooks = hooks;
  }

  /** Resolves when this replica reconciles: at once without leader election, else once it leads. */
  get leading(): Promise<void> {
    return this.leadingPromise;
  }

  /** Port of /healthz, /readyz and /metrics once started. */
  get httpPort(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const { config, log, metrics } = this;
    this.server = await this.serveHttp();
    const aws = (this.aws = makeAwsClients(config));
    const callOpts = {
      ...DEFAULT_CALL_OPTIONS,
      observer: (service: string, operation: string, outcome: string) => metrics.awsCalls.inc({ service, operation, outcome }),
      throttleObserver: (service: string, operation: string) => metrics.awsThrottles.inc({ service, operation }),
    };
    const roles = new IamRoles(aws.iam, callOpts, new WriteBudget(config.iamWritesPerSecond));
    const kube = new KubeApi(this.kc, (write, ok) => metrics.kubeWrites.inc({ write, ok: String(ok) }));

    let identity: Promise<ClusterIdentity> | undefined;
    const getIdentity = (): Promise<ClusterIdentity> => {
      identity ??= resolveIdentity(config, aws, callOpts).catch((e: unknown) => {
        identity = undefined;
        throw e;
      });
      return identity;
    };

    const namespaces = config.watchNamespaces.length > 0 ? config.watchNamespaces : [''];
    const informerKey = (ns: string) => (config.watchNamespaces.length > 0 ? ns : '');

    const reconciler = (this.reconciler = new Reconciler(kube, roles, log, {
      policy: config,
      adoptExistingRoles: config.adoptExistingRoles,
      objectsInNamespace: (ns) => this.objectInformers.get(informerKey(ns))?.list(ns) ?? [],
      driftPeriodMs: config.driftPeriodSeconds * 1000,
      waitMs: 15_000,
      identity: getIdentity,
      cachedObject: (ns, name) => this.objectInformers.get(informerKey(ns))?.get(name, ns),
      cachedServiceAccount: (ns, name) => this.saInformers.get(informerKey(ns))?.get(name, ns),
      cachedServiceAccounts: (ns) => this.saInformers.get(informerKey(ns))?.list(ns) ?? [],
    }));
    const queue = (this.queue = new WorkQueue(
      async (key) => {
        const end = metrics.reconcileSeconds.startTimer();
        const verdict = await reconciler.reconcile(key);
        end();
        metrics.reconciles.inc({ result: verdict.kind });
        metrics.queueDepth.set(queue.depth);
        return verdict;
      },
      {
        concurrency: config.concurrency,
        baseDelayMs: 5,
        maxDelayMs: 300_000,
        onPickup: (_key, waitedMs) => {
          metrics.queueWaitSeconds.observe(waitedMs / 1000);
          metrics.queueDepth.set(queue.depth);
        },
      },
    ));

    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const core = this.kc.makeApiClient(CoreV1Api);
    const enqueue = (o: IamServiceAccount) => queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
    const enqueueOwner = (sa: V1ServiceAccount) => {
      const owner = sa.metadata?.annotations?.[OWNER_ANNOTATION];
      if (owner && sa.metadata?.namespace) queue.add(`${sa.metadata.namespace}/${owner}`);
    };
    const restarted = (informer: string) => (err: unknown, delayMs: number) => {
      metrics.informerRestarts.inc({ informer });
      log.warn('informer stopped; restarting', { informer, delayMs, error: errorMessage(err) });
    };
    for (const ns of namespaces) {
      const objPath = ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
      this.objectInformers.set(
        ns,
        new ResilientInformer<IamServiceAccount>(
          this.kc,
          objPath,
          async ({ limit, continueToken }) =>
            (ns
              ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, limit, _continue: continueToken })
              : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, limit, _continue: continueToken })) as KubernetesListObject<IamServiceAccount>,
          { onChange: enqueue, onDelete: enqueue, onRestart: restarted('iamserviceaccounts') },
        ),
      );
      this.saInformers.set(
        ns,
        new ResilientInformer<V1ServiceAccount>(
          this.kc,
          ns ? `/api/v1/namespaces/${ns}/serviceaccounts` : '/api/v1/serviceaccounts',
          ({ limit, continueToken }) =>
            ns
              ? core.listNamespacedServiceAccount({ namespace: ns, labelSelector: SA_SELECTOR, limit, _continue: continueToken })
              : core.listServiceAccountForAllNamespaces({ labelSelector: SA_SELECTOR, limit, _continue: continueToken }),
          { onChange: enqueueOwner, onDelete: enqueueOwner, onRestart: restarted('serviceaccounts') },
          SA_SELECTOR,
        ),
      );
    }
    // Workers start only once every cache has listed: decisions are never made on a partial view.
    await Promise.all([...this.objectInformers.values(), ...this.saInformers.values()].map((i) => i.start()));
    this.ready = true;
    log.info('operator started', { namespaces: config.watchNamespaces, concurrency: config.concurrency, httpPort: this.httpPort, leaderElection: config.leaderElection });
    if (!config.leaderElection) {
      metrics.leader.set(1);
      queue.start();
      return;
    }
    // Followers keep their caches warm and serve probes; only the leader's workers run.
    const elector = (this.elector = new LeaderElector(this.kc, config.leaderElectionNamespace, 'irsa-operator', `${hostname()}-${randomUUID().slice(0, 8)}`, log, this.hooks.leaseTimings));
    this.leadingPromise = elector.run(() => {
      metrics.leader.set(0);
      void this.stop().then(() => this.hooks.onLeadershipLost?.());
    }).then(() => {
      if (!elector.isLeader) return;
      metrics.leader.set(1);
      queue.start();
    });
  }

  private async serveHttp(): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200).end('ok');
      } else if (path === '/readyz') {
        res.writeHead(this.ready ? 200 : 503).end(this.ready ? 'ok' : 'informers not synced');
      } else if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body),
          (e: unknown) => res.writeHead(500).end(errorMessage(e)),
        );
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, resolve);
    });
    return server;
  }

  /** Finishes in-flight keys, then stops informers, AWS clients and the HTTP server. */
  async stop(): Promise<void> {
    this.ready = false;
    await this.queue?.shutdown();
    await this.reconciler?.flush();
    await this.elector?.release();
    this.metrics.leader.set(0);
    await Promise.all([...this.objectInformers.values(), ...this.saInformers.values()].map((i) => i.stop()));
    this.objectInformers.clear();
    this.saInformers.clear();
    if (this.aws) destroyAwsClients(this.aws);
    if (this.kc instanceof PooledKubeConfig) await this.kc.closeConnections();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    server?.closeAllConnections();
    this.log.info('operator stopped');
  }
}
