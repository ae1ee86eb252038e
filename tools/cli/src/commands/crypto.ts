/**
 * `sign` and `decrypt` with a container's private key, through the key store: signatures come out
 * as openssl expects them (RSA big-endian, ECDSA DER, or raw r||s with --format raw); ciphertext goes in
 * big-endian (as openssl pkeyutl writes it), PKCS #1 v1.5 padded.
 */
import { createHash } from 'node:crypto';
import { ScardError, wipe } from '@minidriver/spec';
import { CONTAINER_OPTION, checkContainerText, resolveContainer } from '../card/card-management.js';
import { cardToken, containerKeys, keyKind, signingKey } from '../card/card-token.js';
import {
  CIPHERTEXT_INPUT,
  MESSAGE_INPUT,
  readInputFile,
  streamInputFile,
  writeOutputFile,
} from '../input/local-files.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { requireOption, stringOption } from './context.js';
import { withCard } from './session-helpers.js';

export const signCommand: Command = {
  name: 'sign',
  usage: '--container <n> --hash sha256|sha384|sha512 [--pss] --in f --out f [--format der|raw]',
  summary: 'hash a file and sign the hash on the card',
  examples: [
    'minidriver sign --container 9c --hash sha256 --in doc.txt --out doc.sig',
    'openssl dgst -sha256 -verify pub.pem -signature doc.sig doc.txt',
  ],
  options: {
    ...CONTAINER_OPTION,
    hash: { type: 'string', placeholder: 'sha256|sha384|sha512', description: 'the hash to sign' },
    pss: { type: 'boolean', description: 'RSA-PSS (salt = hash length) instead of PKCS #1 v1.5' },
    in: { type: 'string', placeholder: '<file>', description: 'the data to sign (- for stdin)' },
    out: { type: 'string', placeholder: '<file>', description: 'where the signature goes (- for stdout)' },
    format: { type: 'string', placeholder: 'der|raw', description: 'ECDSA signature encoding (default der)' },
  },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    const hashName = requireOption(context, 'hash');
    if (!['sha256', 'sha384', 'sha512'].includes(hashName))
      throw new UsageError('--hash must be sha256, sha384 or sha512');
    const format = stringOption(context, 'format') ?? 'der';
    if (format !== 'der' && format !== 'raw') throw new UsageError('--format must be der or raw');
    const out = requireOption(context, 'out');
    // The message is hashed as it is read: bounded memory whatever its size, bounded by MESSAGE_INPUT.
    const hasher = createHash(hashName);
    await streamInputFile(requireOption(context, 'in'), MESSAGE_INPUT, (chunk) => hasher.update(chunk));
    const hash = new Uint8Array(hasher.digest());
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      const key = await signingKey(await cardToken(context.credentials, opened), index);
      const rsa = key.algorithm.type === 'rsa';
      const pss = context.options['pss'] === true;
      if (pss && !rsa) throw new UsageError('--pss applies to RSA keys only');
      const signature = await key.signDigest(hash, {
        hash: hashName as 'sha256' | 'sha384' | 'sha512',
        ...(rsa ? { padding: pss ? 'pss' : 'pkcs1' } : { format: format === 'raw' ? 'ieee-p1363' : 'der' }),
      });
      await writeOutputFile(out, signature);
      const scheme = rsa ? (pss ? 'RSA-PSS' : 'RSA PKCS#1 v1.5') : `ECDSA (${format})`;
      if (out !== '-') context.print(`${signature.length}-byte ${scheme} signature over ${hashName} written to ${out}`);
      return {
        container: index,
        algorithm: keyKind(key),
        bits: key.algorithm.bits,
        hash: hashName,
        scheme,
        bytes: signature.length,
        out,
      };
    });
  },
};

export const decryptCommand: Command = {
  name: 'decrypt',
  usage: '--container <n> --in f --out f',
  summary: 'decrypt an RSA PKCS #1 v1.5 ciphertext with the container key',
  examples: [
    'openssl pkeyutl -encrypt -pubin -inkey pub.pem -in msg -out msg.enc',
    'minidriver decrypt --container 9d --in msg.enc --out -',
  ],
  options: {
    ...CONTAINER_OPTION,
    in: { type: 'string', placeholder: '<file>', description: 'the ciphertext (big-endian, as openssl writes it)' },
    out: { type: 'string', placeholder: '<file>', description: 'where the plaintext goes (- for stdout)' },
  },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    const ciphertext = await readInputFile(requireOption(context, 'in'), CIPHERTEXT_INPUT);
    const out = requireOption(context, 'out');
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      const token = await cardToken(context.credentials, opened);
      const key = (await containerKeys(token, index)).find((candidate) => candidate.usages.includes('decrypt'));
      if (!key) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no RSA key-exchange key`);
      const plaintext = await key.decrypt(ciphertext, { padding: 'pkcs1' });
      await writeOutputFile(out, plaintext);
      if (out !== '-') context.print(`${plaintext.length} bytes decrypted to ${out}`);
      wipe(plaintext);
      return { container: index, bytes: plaintext.length, out };
    });
  },
};
