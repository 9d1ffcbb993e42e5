// The TLS certificate chain an OIDC issuer presents, for IAM's thumbprint (policy/provider.ts).
// The chain is verified like any TLS client would (Node's CA store, plus the configured CA bundle
// of a self-managed issuer): a thumbprint taken from an unverified connection would pin whatever a
// machine in the middle presented.
import { connect, rootCertificates } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { issuerThumbprint, type ChainCertificate } from '../policy/provider.ts';

const TIMEOUT_MS = 10_000;

/** The chain the issuer's server presents, leaf first, completed up to its root where Node knows it. */
export function issuerChain(issuerUrl: string, extraCa?: string): Promise<ChainCertificate[]> {
  const url = new URL(issuerUrl);
  const isIp = /^[0-9.]+$|^\[/.test(url.hostname);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      ...(isIp ? {} : { servername: url.hostname }),
      ...(extraCa === undefined ? {} : { ca: [...rootCertificates, extraCa] }),
      timeout: TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const chain: ChainCertificate[] = [];
      for (let cert: X509Certificate | undefined = socket.getPeerX509Certificate(); cert; cert = nextIssuer(cert)) {
        chain.push({ subject: cert.subject, issuer: cert.issuer, sha1: cert.fingerprint });
        if (chain.length > 10) break;
      }
      socket.end();
      resolve(chain);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake with ${url.host} within ${TIMEOUT_MS} ms`)));
    socket.once('error', (e: Error) => reject(new Error(`cannot read the certificate chain of the OIDC issuer ${url.host}: ${e.message}`)));
  });
}

/** The certificate that issued `cert`, unless it issued itself (a root). */
function nextIssuer(cert: X509Certificate): X509Certificate | undefined {
  const up = cert.issuerCertificate;
  return up && up.fingerprint256 !== cert.fingerprint256 ? up : undefined;
}

/** IAM's thumbprint of the issuer, from the chain it presents now. */
export async function fetchThumbprint(issuerUrl: string, extraCa?: string): Promise<string> {
  return issuerThumbprint(await issuerChain(issuerUrl, extraCa));
}
