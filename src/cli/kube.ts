// The cluster as the CLI reaches it: the user's kubeconfig (KUBECONFIG, ~/.kube/config, or
// --kubeconfig and --context, as kubectl reads them), and the few typed reads doctor and import make.
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import type { Command } from 'commander';
import { UnreachableError } from './output.ts';

export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export function kubeOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)');
}

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  admission: AdmissionregistrationV1Api;
  /** -n, else the context's namespace, else default (as kubectl). */
  namespace: string;
}

export function connect(opts: KubeOptions): Kube {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
    if (opts.context) kc.setCurrentContext(opts.context);
  } catch (e) {
    throw new UnreachableError(`cannot load the kubeconfig: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!kc.getCurrentCluster()) throw new UnreachableError('the kubeconfig names no cluster (set KUBECONFIG or --kubeconfig)');
  const contextNs = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    namespace: opts.namespace ?? contextNs ?? 'default',
  };
}

export function kubeStatus(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** The object, or undefined on 404; other failures say what could not be read (exit 3). */
export async function readOrUndefined<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (kubeStatus(e) === 404) return undefined;
    throw new UnreachableError(`cannot read ${what}: ${describeKubeError(e)}`);
  }
}

export function describeKubeError(e: unknown): string {
  if (e instanceof ApiException) {
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    const message = /"message":"([^"]*)"/.exec(body)?.[1];
    return `HTTP ${e.code}${message ? `: ${message}` : ''}`;
  }
  return e instanceof Error ? e.message : String(e);
}
