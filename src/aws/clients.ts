// The AWS SDK clients, all pointed at the configured region and (for local endpoints) endpoint.
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { OperatorConfig } from '../config.ts';
import { RETRY } from '../retry.ts';

export interface AwsClients {
  iam: IAMClient;
  sts: STSClient;
  eks: EKSClient;
}

export const AWS_CONNECT_TIMEOUT_MS = 5_000;
export const AWS_REQUEST_TIMEOUT_MS = 30_000;

/** What every SDK client of the operator shares: region, endpoint, attempts and deadlines. */
export function sdkConfig(config: Pick<OperatorConfig, 'region' | 'awsEndpoint'>) {
  return {
    region: config.region,
    // Layer 1 of the retry stack (src/retry.ts).
    maxAttempts: RETRY.sdkMaxAttempts,
    // The SDK waits forever by default; a call lost with its connection must fail and be retried.
    requestHandler: { connectionTimeout: AWS_CONNECT_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS },
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
  };
}

export function makeAwsClients(config: OperatorConfig): AwsClients {
  const common = sdkConfig(config);
  return { iam: new IAMClient(common), sts: new STSClient(common), eks: new EKSClient(common) };
}

export function destroyAwsClients(c: AwsClients): void {
  c.iam.destroy();
  c.sts.destroy();
  c.eks.destroy();
}
