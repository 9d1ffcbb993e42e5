// A throwaway certificate authority and a serving certificate for a loopback IP, made with
// node:crypto alone (Node signs but has no API to issue X.509 certificates, so this writes the few
// DER structures RFC 5280 needs): the test environment needs no openssl or cfssl.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const TAG = { integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, utf8: 0x0c, utcTime: 0x17, seq: 0x30, set: 0x31 };

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  if (body.length < 0x80) return Buffer.concat([Buffer.from([tag, body.length]), body]);
  const len: number[] = [];
  for (let v = body.length; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | len.length, ...len]), body]);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    bytes.push(...groups);
  }
  return der(TAG.oid, Buffer.from(bytes));
}

const bool = (v: boolean) => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
const explicit = (n: number, inner: Buffer) => der(0xa0 | n, inner);
const bitString = (bytes: Buffer) => der(TAG.bitString, Buffer.from([0]), bytes);
const name = (cn: string) => der(TAG.seq, der(TAG.set, der(TAG.seq, oid('2.5.4.3'), der(TAG.utf8, Buffer.from(cn)))));
const utcTime = (d: Date) => der(TAG.utcTime, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`));
const ECDSA_SHA256 = der(TAG.seq, oid('1.2.840.10045.4.3.2'));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der(TAG.seq, oid(id), ...(critical ? [bool(true)] : []), der(TAG.octetString, value));
}

/** keyUsage bits as RFC 5280 numbers them (0 digitalSignature, 5 keyCertSign, 6 cRLSign). */
function keyUsage(bits: number[]): Buffer {
  const byte = bits.reduce((acc, b) => acc | (0x80 >> b), 0);
  const unused = Math.min(...bits.map((b) => 7 - b));
  return der(TAG.bitString, Buffer.from([unused, byte]));
}

interface CertSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signer: KeyObject;
  extensions: Buffer[];
  days: number;
}

function certificate(spec: CertSpec): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, and minimal DER (Go's parser insists)
  const now = Date.now();
  const tbs = der(
    TAG.seq,
    explicit(0, der(TAG.integer, Buffer.from([2]))), // v3
    der(TAG.integer, serial),
    ECDSA_SHA256,
    name(spec.issuer),
    der(TAG.seq, utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + spec.days * 86_400_000))),
    name(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, der(TAG.seq, ...spec.extensions)),
  );
  const cert = der(TAG.seq, tbs, ECDSA_SHA256, bitString(sign('sha256', tbs, spec.signer)));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

export interface ServingCert {
  /** The CA certificate (PEM): what a client trusts, e.g. a webhook's caBundle. */
  ca: string;
  /** The serving certificate (PEM), issued by `ca`, for `ip` alone. */
  cert: string;
  /** Its private key (PKCS#8 PEM). */
  key: string;
}

const CA_EXTENSIONS = [
  extension('2.5.29.19', true, der(TAG.seq, bool(true))), // basicConstraints: CA
  extension('2.5.29.15', true, keyUsage([5, 6])),
];

function ipv4(ip: string): number[] {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return octets;
}

/** A server certificate for `ip` alone, issued by `issuer` with `signer`. */
function serverCertificate(ip: string, issuer: string, publicKey: KeyObject, signer: KeyObject, days: number): string {
  return certificate({
    subject: ip,
    issuer,
    publicKey,
    signer,
    days,
    extensions: [
      extension('2.5.29.19', true, der(TAG.seq)), // basicConstraints: not a CA
      extension('2.5.29.15', true, keyUsage([0])),
      extension('2.5.29.37', false, der(TAG.seq, oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      extension('2.5.29.17', false, der(TAG.seq, der(0x87, Buffer.from(ipv4(ip))))), // subjectAltName: iPAddress
    ],
  });
}

const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** A new CA and a server certificate for `ip` (ECDSA P-256, valid for `days`); the CA's key is discarded. */
export function servingCertificate(ip = '127.0.0.1', days = 30): ServingCert {
  ipv4(ip);
  const caKeys = ecKeys();
  const serverKeys = ecKeys();
  const caName = `irsa-testenv-ca@${Date.now()}`;
  const ca = certificate({
    subject: caName,
    issuer: caName,
    publicKey: caKeys.publicKey,
    signer: caKeys.privateKey,
    days,
    extensions: CA_EXTENSIONS,
  });
  const cert = serverCertificate(ip, caName, serverKeys.publicKey, caKeys.privateKey, days);
  return { ca, cert, key: serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A chain as public issuers have one: a root CA, an intermediate CA it signed, and a server certificate the intermediate signed. */
export interface ServingChain {
  /** What a client trusts. */
  root: string;
  /** The top intermediate CA: the certificate of IAM's thumbprint. */
  intermediate: string;
  /** The server certificate for the IP alone. */
  leaf: string;
  /** The leaf's private key (PKCS#8 PEM). */
  key: string;
}

/** A new root -> intermediate -> server chain for `ip` (ECDSA P-256, valid for `days`); the CAs' keys are discarded. */
export function servingChain(ip = '127.0.0.1', days = 30): ServingChain {
  ipv4(ip);
  const [rootKeys, intermediateKeys, serverKeys] = [ecKeys(), ecKeys(), ecKeys()];
  const stamp = Date.now();
  const rootName = `irsa-testenv-root@${stamp}`;
  const intermediateName = `irsa-testenv-intermediate@${stamp}`;
  const root = certificate({
    subject: rootName,
    issuer: rootName,
    publicKey: rootKeys.publicKey,
    signer: rootKeys.privateKey,
    days,
    extensions: CA_EXTENSIONS,
  });
  const intermediate = certificate({
    subject: intermediateName,
    issuer: rootName,
    publicKey: intermediateKeys.publicKey,
    signer: rootKeys.privateKey,
    days,
    extensions: CA_EXTENSIONS,
  });
  const leaf = serverCertificate(ip, intermediateName, serverKeys.publicKey, intermediateKeys.privateKey, days);
  return { root, intermediate, leaf, key: serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
