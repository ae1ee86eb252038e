import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithTools } from './describe-with-tools.js';
import { issueCertificateWithOpenssl, opensslVerify } from './openssl.js';

describeWithTools(['openssl'], 'openssl: issueCertificateWithOpenssl, opensslVerify', () => {
  const directory = mkdtempSync(join(tmpdir(), 'openssl-ca-test-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const subject = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(directory, 'subject.pub.pem'), subject.publicKey.export({ type: 'spki', format: 'pem' }));

  it('certifies the given public key (not the placeholder) from a CA of its own, in PEM or DER', async () => {
    for (const [format, caKey] of [
      ['PEM', 'p-256'],
      ['DER', 'rsa-2048'],
    ] as const) {
      const outputPath = join(directory, `certificate.${format}`);
      await issueCertificateWithOpenssl({
        publicKeyPath: join(directory, 'subject.pub.pem'),
        commonName: `subject ${format}`,
        outputPath,
        outputFormat: format,
        workDirectory: directory,
        caKey,
        caCommonName: 'test CA',
      });
      const bytes = readFileSync(outputPath);
      expect(bytes.subarray(0, 5).toString() === '-----').toBe(format === 'PEM');
      const certificate = new X509Certificate(bytes);
      expect(certificate.subject).toBe(`CN=subject ${format}`);
      expect(certificate.issuer).toBe('CN=test CA');
      expect(certificate.publicKey.equals(subject.publicKey)).toBe(true);
      const ca = new X509Certificate(readFileSync(join(directory, 'ca.pem')));
      expect(certificate.verify(ca.publicKey)).toBe(true);
    }
  });

  it('throws with what openssl said when a step fails', async () => {
    await expect(
      issueCertificateWithOpenssl({
        publicKeyPath: join(directory, 'no-such-key.pem'),
        commonName: 'nobody',
        outputPath: join(directory, 'never.pem'),
        workDirectory: directory,
        caKey: 'p-256',
      }),
    ).rejects.toThrow(/openssl x509 failed: .+/s);
  });

  it('opensslVerify says Verified OK for a good signature and fails a signature over other data', async () => {
    const data = join(directory, 'data');
    const signature = join(directory, 'data.sig');
    writeFileSync(data, 'signed');
    writeFileSync(signature, sign('sha256', Buffer.from('signed'), subject.privateKey));
    const check = { digest: 'sha256', publicKeyPath: join(directory, 'subject.pub.pem'), signaturePath: signature };
    const good = await opensslVerify({ ...check, dataPath: data });
    expect(good.code, good.output).toBe(0);
    expect(good.output).toContain('Verified OK');
    writeFileSync(join(directory, 'other'), 'not signed');
    const bad = await opensslVerify({ ...check, dataPath: join(directory, 'other') });
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('Verification failure');
  });
});
