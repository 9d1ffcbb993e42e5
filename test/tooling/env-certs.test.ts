// The test environment's certificates (test/env/certs.ts): X.509 written by hand, so check them
// with OpenSSL (through node:crypto and a real TLS handshake) rather than trust the encoder.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { servingCertificate } from '../env/certs.ts';

test('servingCertificate: a CA, and a server certificate it issued for the IP alone', () => {
  const { ca, cert } = servingCertificate('127.0.0.1', 2);
  const caCert = new X509Certificate(ca);
  const leaf = new X509Certificate(cert);
  assert.equal(caCert.ca, true);
  assert.equal(leaf.ca, false);
  assert.equal(leaf.checkIssued(caCert), true);
  assert.equal(leaf.verify(caCert.publicKey), true);
  assert.equal(caCert.verify(caCert.publicKey), true, 'the CA is self-signed');
  assert.equal(leaf.subjectAltName, 'IP Address:127.0.0.1');
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(leaf.checkIP('127.0.0.2'), undefined);
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth');
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 1.9 && days <= 2, `valid for two days, not ${days}`);
  assert.ok(Date.parse(leaf.validFrom) < Date.now(), 'already valid');
});

test('servingCertificate: every call is a new CA; one does not verify the other', () => {
  const a = servingCertificate();
  const b = servingCertificate();
  assert.notEqual(a.ca, b.ca);
  assert.equal(new X509Certificate(a.cert).verify(new X509Certificate(b.ca).publicKey), false);
});

test('servingCertificate: a TLS client that trusts only the CA accepts the server at https://127.0.0.1', async () => {
  const { ca, cert, key } = servingCertificate('127.0.0.1');
  const server = createServer({ cert, key }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (trusted: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(`https://127.0.0.1:${port}/`, { ca: trusted, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    assert.equal(await get(ca), 'ok');
    await assert.rejects(get(servingCertificate().ca), /self-signed|unable to verify|certificate/i);
  } finally {
    server.close();
  }
});

test('servingCertificate refuses what is not an IPv4 address', () => {
  assert.throws(() => servingCertificate('localhost'), /not an IPv4 address/);
  assert.throws(() => servingCertificate('10.0.0.256'), /not an IPv4 address/);
});
