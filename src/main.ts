// Entry point: configuration from IRSA_CONFIG and the environment, Kubernetes credentials from
// the in-cluster ServiceAccount or KUBECONFIG, AWS credentials from the default chain (IRSA).
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config.ts';
import { errorMessage } from './errors.ts';
import { makeLogger } from './log.ts';
import { Operator } from './operator.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = makeLogger(config.logLevel);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const operator = new Operator(config, kc, log, {
    onLeadershipLost: () => {
      log.error('lost leadership; exiting so that a restart starts clean');
      process.exit(1);
    },
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    operator.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { error: errorMessage(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await operator.start();
}

main().catch((e: unknown) => {
  console.error(`irsa-operator failed to start: ${errorMessage(e)}`);
  process.exit(1);
});
