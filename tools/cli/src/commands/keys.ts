/**
 * @module Key containers: `keygen`, `import-cert`, `rm-container`. They need the admin (PIV management
 * key, GIDS admin key, OpenPGP PW3), asked for only when the card refuses without it.
 */

import { X509Certificate } from 'node:crypto';
import { certificateFileName, createSelfSignedCertificate, ScardError, toPem } from '@minidriver/core';
import { certificateSigner, containerKeys, generateContainerKey, keySpecFor } from '../card/container-keys.js';
import { CERTIFICATE_INPUT, readInputFile, writeOutputFile } from '../input/local-files.js';
import { withSpinner } from '../output/spinner.js';
import { UsageError } from '../parse/usage-error.js';
import { derFromPemOrDer } from '../x509/pem.js';
import type { Command } from './command.js';
import { integerOption, requireOption, requirePositional, stringOption } from './context.js';
import { withCard, withRole } from './session-helpers.js';

export const keygenCommand: Command = {
  name: 'keygen',
  usage:
    '--container <n> --alg rsa2048|rsa3072|rsa4096|p256|p384 [--usage sign|exchange] [--out pub.pem] [--self-signed CN]',
  summary: 'generate a key pair on the card and print (or write) its public key as PEM',
  examples: [
    'minidriver keygen --container 9a --alg p256 --out pub.pem',
    'minidriver keygen --container 9c --alg rsa2048 --pin-policy always --touch-policy cached --self-signed Alice',
    'minidriver keygen --container 9a --alg p256 --force   # replace a key without asking',
  ],
  options: {
    container: { type: 'string', placeholder: '<n>', description: 'container index' },
    alg: { type: 'string', placeholder: 'rsa2048|rsa3072|rsa4096|p256|p384', description: 'key algorithm and size' },
    usage: {
      type: 'string',
      placeholder: 'sign|exchange',
      description:
        'key usage (RSA default exchange, which also signs; EC default sign; without it, the other usage when the container takes only that)',
    },
    out: { type: 'string', placeholder: '<file>', description: 'write the public key PEM here' },
    'self-signed': {
      type: 'string',
      placeholder: '<CN>',
      description: 'also store a self-signed certificate (signed by the card) for the key',
    },
  },
  async run(context) {
    const index = integerOption(context, 'container');
    const algorithm = requireOption(context, 'alg');
    const usage = stringOption(context, 'usage');
    keySpecFor(algorithm, usage); // usage errors before the card is opened
    return withCard(context, async (opened) => {
      const keySpec = await withRole(context, opened, 'admin', () =>
        withSpinner(`generating ${algorithm} on the card`, () =>
          generateContainerKey(opened.session, index, algorithm, usage),
        ),
      );
      const key =
        (await containerKeys(opened.session, index)).find((candidate) => candidate.keySpec === keySpec) ??
        (await containerKeys(opened.session, index))[0];
      if (!key) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no key after generation`);
      const pem = toPem(new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })), 'PUBLIC KEY');
      const commonName = stringOption(context, 'self-signed');
      let certificate: { file: string; sha256: string } | undefined;
      if (commonName !== undefined) {
        if (key.algorithm === 'ECDH') throw new UsageError('an ECDH key cannot sign its own certificate');
        const now = new Date();
        const der = await withRole(context, opened, 'user', () =>
          createSelfSignedCertificate({
            commonName,
            publicKey: key.publicKey,
            notBefore: now,
            notAfter: new Date(now.getTime() + 365 * 86_400_000),
            sign: certificateSigner(opened.session, index, key),
          }),
        );
        const parsed = new X509Certificate(der);
        if (!parsed.verify(key.publicKey))
          throw new ScardError('SCARD_E_UNEXPECTED', 'the card produced a certificate signature that does not verify');
        const name = certificateFileName(key.certificateKind, index);
        await withRole(context, opened, 'admin', () => opened.session.writeFile('mscp', name, der));
        certificate = { file: `mscp/${name}`, sha256: parsed.fingerprint256.replace(/:/g, '').toLowerCase() };
        context.print(`self-signed certificate "CN=${commonName}" written to ${certificate.file}`);
      }
      const out = stringOption(context, 'out');
      if (out !== undefined) {
        await writeOutputFile(out, pem);
        context.print(`${key.algorithm} ${key.bits} key generated in container ${index}; public key written to ${out}`);
      } else {
        context.print(pem.trimEnd());
      }
      return {
        container: index,
        algorithm: key.algorithm,
        bits: key.bits,
        publicKey: pem,
        ...(out === undefined ? {} : { out }),
        ...(certificate === undefined ? {} : { certificate }),
      };
    });
  },
};

export const importCertCommand: Command = {
  name: 'import-cert',
  usage: '--container <n> <file.pem|der>',
  summary: "store a certificate in a container (its public key must match the container's)",
  examples: [
    'minidriver import-cert --container 9a cert.pem',
    'openssl x509 -in cert.pem | minidriver import-cert --container 9a -',
  ],
  options: { container: { type: 'string', placeholder: '<n>', description: 'container index' } },
  async run(context) {
    const index = integerOption(context, 'container');
    const file = requirePositional(context, 0, '<file.pem|der>');
    const der = derFromPemOrDer(await readInputFile(file, CERTIFICATE_INPUT), 'CERTIFICATE');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      throw new UsageError(`${file} is not an X.509 certificate`);
    }
    return withCard(context, async (opened) => {
      const keys = await containerKeys(opened.session, index);
      const key = keys.find((candidate) => candidate.publicKey.equals(certificate.publicKey));
      if (!key) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `the certificate's public key is not the key of container ${index}`,
        );
      }
      const name = certificateFileName(key.certificateKind, index);
      await withRole(context, opened, 'admin', () => opened.session.writeFile('mscp', name, der));
      context.print(`certificate "${certificate.subject.replace(/\n/g, ', ')}" written to mscp/${name}`);
      return {
        container: index,
        file: `mscp/${name}`,
        subject: certificate.subject,
        sha256: certificate.fingerprint256,
      };
    });
  },
};

export const rmContainerCommand: Command = {
  name: 'rm-container',
  usage: '<n>',
  summary: 'delete a key container',
  examples: ['minidriver rm-container 9a --force'],
  options: {},
  async run(context) {
    const text = requirePositional(context, 0, '<n>');
    if (!/^\d+$/.test(text) || Number(text) > 255) throw new UsageError('the container index must be 0..255');
    const index = Number(text);
    return withCard(context, async (opened) => {
      await withRole(context, opened, 'admin', () => opened.session.deleteContainer(index));
      context.print(`container ${index} deleted`);
      return { container: index, deleted: true };
    });
  },
};
