/**
 * @packageDocumentation
 * `minidriver csr --container <n|slot> --subject "CN=..." [--out req.pem]`: a PKCS #10 certification
 * request for a container's key, signed on the card (SHA-256; RSA PKCS #1 v1.5 or ECDSA), for a CA to
 * issue the certificate `import-cert` then stores.
 */
import { type KeyObject, verify } from 'node:crypto';
import { toPem } from '@minidriver/core';
import { ScardError } from '@minidriver/spec';
import { CONTAINER_OPTION, checkContainerText, containerLabel, resolveContainer } from '../card/card-management.js';
import { cardToken, signingKey } from '../card/card-token.js';
import { outputName, STDIO, writeOutputFile } from '../input/local-files.js';
import { createCertificationRequest } from '../x509/certification-request.js';
import type { Command } from './command.js';
import { requireOption, stringOption } from './context.js';
import { withCard } from './session-helpers.js';

export const csrCommand: Command = {
  name: 'csr',
  usage: '--container <n|slot> --subject "CN=...,O=..." [--out req.pem]',
  summary: "make a certificate signing request (PKCS #10) signed by a container's key",
  examples: [
    'minidriver csr --container 9a --subject "CN=Alice,O=Example,C=FR" --out alice.csr',
    'openssl req -in alice.csr -noout -verify -subject',
  ],
  options: {
    ...CONTAINER_OPTION,
    subject: { type: 'string', placeholder: '<DN>', description: 'CN=...,O=...,OU=...,L=...,ST=...,C=..' },
    out: { type: 'string', placeholder: '<file>', description: 'write the PEM here (- for stdout)' },
  },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    const subject = requireOption(context, 'subject');
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      const key = await signingKey(await cardToken(context.credentials, opened), index);
      const der = await createCertificationRequest({
        subject,
        publicKey: key.publicKey,
        sign: (info) => key.sign(info, { hash: 'sha256' }),
      });
      const pem = toPem(der, 'CERTIFICATE REQUEST');
      // Check the card's signature before handing the request on: a CA would refuse it anyway.
      if (!verifiesItself(der, key.publicKey)) {
        throw new ScardError('SCARD_E_UNEXPECTED', 'the card produced a request signature that does not verify');
      }
      const out = stringOption(context, 'out');
      if (out !== undefined) await writeOutputFile(out, pem);
      if (out === undefined) context.print(pem.trimEnd());
      else if (out !== STDIO)
        context.print(`request for container ${await containerLabel(opened, index)} written to ${outputName(out)}`);
      return { container: index, subject, pem, ...(out === undefined ? {} : { out }) };
    });
  },
};

/** Verifies a request's signature over its CertificationRequestInfo with `publicKey`. */
function verifiesItself(der: Uint8Array, publicKey: KeyObject): boolean {
  // SEQUENCE { info SEQUENCE, algorithm SEQUENCE, signature BIT STRING }: walk the outer header.
  const headerLength = (offset: number): [number, number] => {
    const first = der[offset + 1] as number;
    if (first < 0x80) return [2, first];
    const count = first & 0x7f;
    let length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] as number);
    return [2 + count, length];
  };
  const [outerHeader] = headerLength(0);
  const [infoHeader, infoLength] = headerLength(outerHeader);
  const info = der.subarray(outerHeader, outerHeader + infoHeader + infoLength);
  let offset = outerHeader + infoHeader + infoLength;
  const [algorithmHeader, algorithmLength] = headerLength(offset);
  offset += algorithmHeader + algorithmLength;
  const [bitsHeader, bitsLength] = headerLength(offset);
  const signature = der.subarray(offset + bitsHeader + 1, offset + bitsHeader + bitsLength);
  return verify('sha256', info, publicKey, signature);
}
