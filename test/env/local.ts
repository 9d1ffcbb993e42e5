// `npm start`: the operator against an embedded default: a local kube-apiserver with the real pod
// identity webhook and a local IAM endpoint (moto), with the cluster's OIDC provider already in
// IAM. Ctrl-C stops everything.
import { join } from 'node:path';
import { createOidcProvider, REPO, runKubectl, startEnv, TEST_CLUSTER, TEST_ISSUER, TEST_REGION } from './cluster.ts';
import { startProcess, waitFor } from './processes.ts';

const say = (line: string) => process.stdout.write(`[irsa local] ${line}\n`);

const env = await startEnv(say, { webhook: true });
const credentials = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: TEST_REGION };
await createOidcProvider(env.motoUrl);
await runKubectl(env, ['create', 'namespace', 'demo']);

const httpPort = process.env.IRSA_HTTP_PORT ?? '8080';
const operator = startProcess(process.execPath, [join(REPO, 'src/main.ts')], {
  env: {
    ...credentials,
    KUBECONFIG: env.operatorKubeconfig,
    IRSA_CLUSTER_NAME: TEST_CLUSTER,
    IRSA_OIDC_ISSUER: TEST_ISSUER,
    IRSA_AWS_ENDPOINT: env.awsEndpoint,
    IRSA_HTTP_PORT: httpPort,
    IRSA_LOG_LEVEL: process.env.IRSA_LOG_LEVEL ?? 'info',
  },
});
await waitFor('the operator to be ready', async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok, 60_000, 100);

say(`operator ready (pid ${operator.child.pid ?? '?'}); metrics on http://127.0.0.1:${httpPort}/metrics`);
say('try it in another shell:');
say(`  export KUBECONFIG=${env.adminKubeconfig}`);
say(`  alias kubectl=${env.kubectl}`);
say(`  kubectl apply -n demo -f ${join(REPO, 'examples/s3-reader.yaml')}`);
say('  kubectl get iamsa -n demo        # READY True, with the role ARN');
say('  kubectl get sa s3-reader -n demo -o yaml');
say(`  AWS_ENDPOINT_URL=${env.motoUrl} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws iam list-roles   # the IAM side`);
say('once Ready, a pod of that ServiceAccount gets its role from the pod identity webhook (no kubelet: it stays Pending):');
say(`  kubectl run app -n demo --image=busybox --restart=Never --overrides='{"spec":{"serviceAccountName":"s3-reader"}}'`);
say(`  kubectl get pod app -n demo -o jsonpath='{.spec.containers[0].env[?(@.name=="AWS_ROLE_ARN")].value}{"\\n"}'`);
say(`  kubectl get pod app -n demo -o jsonpath='{.spec.volumes[?(@.name=="aws-iam-token")].projected}{"\\n"}'`);
say('and a token for it is one moto accepts (moto checks neither its signature nor the trust policy):');
say(
  `  AWS_ENDPOINT_URL=${env.motoUrl} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${TEST_REGION} aws sts assume-role-with-web-identity ` +
    `--role-session-name app --role-arn "$(kubectl get iamsa s3-reader -n demo -o jsonpath='{.status.roleARN}')" ` +
    `--web-identity-token "$(kubectl create token s3-reader -n demo --audience sts.amazonaws.com)"`,
);
say('Ctrl-C stops the operator, the webhook, the apiserver, etcd and moto.');

operator.child.once('exit', (code) => {
  say(`operator exited (${String(code)}); stopping`);
  void env.stop().then(() => process.exit(code ?? 1));
});
