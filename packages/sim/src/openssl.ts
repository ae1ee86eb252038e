/**
 * The openssl command for interop suites: a certificate from a throwaway CA for a public key whose private
 * key lives on a card (for client tools that cannot self-sign — yubico-piv-tool 2.2 with OpenSSL 3,
 * Yubico/yubico-piv-tool#388 — or store only certificates, like pkcs11-tool --write-object), and the
 * verification of a signature a client made with the card.
 *
 * @packageDocumentation
 */
import { join } from 'node:path';
import { type RunToolOptions, runTool, type ToolRun } from './run-tool.js';

/** The `req -newkey` arguments of each CA key type. */
const CA_KEY_ARGUMENTS = {
  'rsa-2048': ['-newkey', 'rsa:2048'],
  'p-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
} as const;

/** What {@link issueCertificateWithOpenssl} makes. */
export interface OpensslCertificateRequest {
  /** PEM public key the certificate is for. */
  readonly publicKeyPath: string;
  /** The subject's CN. */
  readonly commonName: string;
  readonly outputPath: string;
  /** PEM (default) or DER. */
  readonly outputFormat?: 'PEM' | 'DER';
  /** Where the CA key, the CA certificate, the placeholder key and the request are written. */
  readonly workDirectory: string;
  /** Key type of the CA (and of the throwaway request key). */
  readonly caKey: keyof typeof CA_KEY_ARGUMENTS;
  /** The CA's CN. Default "interop test CA". */
  readonly caCommonName?: string;
}

/**
 * Issues a two-day certificate for the public key at `request.publicKeyPath` from a new self-signed CA
 * (`openssl req -x509`, a request signed with a placeholder key, `openssl x509 -req -force_pubkey`). Throws
 * with openssl's output when a step fails.
 */
export async function issueCertificateWithOpenssl(request: OpensslCertificateRequest): Promise<void> {
  const file = (name: string) => join(request.workDirectory, name);
  const newKey = CA_KEY_ARGUMENTS[request.caKey];
  const ca = [
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-subj',
    `/CN=${request.caCommonName ?? 'interop test CA'}`,
  ];
  const placeholder = [
    '-keyout',
    file('placeholder.key'),
    '-out',
    file('request.csr'),
    '-subj',
    `/CN=${request.commonName}`,
  ];
  const signer = ['-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial'];
  const output = ['-outform', request.outputFormat ?? 'PEM', '-out', request.outputPath];
  const steps = [
    ['req', '-x509', ...newKey, '-nodes', ...ca, '-days', '2'],
    ['req', '-new', ...newKey, '-nodes', ...placeholder],
    [
      'x509',
      '-req',
      '-in',
      file('request.csr'),
      ...signer,
      '-force_pubkey',
      request.publicKeyPath,
      ...output,
      '-days',
      '2',
    ],
  ];
  for (const step of steps) {
    const result = await runTool('openssl', step);
    if (result.code !== 0) throw new Error(`openssl ${step[0]} failed: ${result.output}`);
  }
}

/** What {@link opensslVerify} checks. */
export interface OpensslSignatureCheck {
  /** The digest the signature was made over: sha1, sha256, sha384 ... */
  readonly digest: string;
  /** PEM public key. */
  readonly publicKeyPath: string;
  readonly signaturePath: string;
  readonly dataPath: string;
}

/**
 * `openssl dgst -<digest> -verify <key> -signature <signature> <data>`: openssl prints "Verified OK" (exit 0)
 * when the signature is good. Never rejects: the caller asserts on the run.
 */
export function opensslVerify(check: OpensslSignatureCheck, options: RunToolOptions = {}): Promise<ToolRun> {
  const { digest, publicKeyPath, signaturePath, dataPath } = check;
  return runTool(
    'openssl',
    ['dgst', `-${digest}`, '-verify', publicKeyPath, '-signature', signaturePath, dataPath],
    options,
  );
}
