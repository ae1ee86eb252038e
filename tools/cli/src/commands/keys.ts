/**
 * @packageDocumentation
 * Key containers: `keygen`, `import-key`, `import-cert`, `rm-container`. Containers are named by index or,
 * where the card names them, by slot (`9a`, `sig`). They need the admin (PIV management key, GIDS admin
 * key, OpenPGP PW3), asked for only when the card refuses without it. Replacing or deleting a key says
 * what it destroys and needs `--force` or a typed confirmation.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate, toPem } from '@minidriver/core';
import { KEY_ALGORITHM_NAMES, type Key, type KeyAlgorithmName, type KeyUsage, type Token } from '@minidriver/keystore';
import { CARD_CREATE_CONTAINER_KEY_IMPORT, ScardError, wipe } from '@minidriver/spec';
import {
  CONTAINER_OPTION,
  checkContainerText,
  containerLabel,
  containerNameOf,
  pivModule,
  resolveContainer,
} from '../card/card-management.js';
import { cardToken, containerKeys, keyKind } from '../card/card-token.js';
import {
  PIN_POLICY_NAMES,
  POLICY_OPTIONS,
  pinIdOfPolicy,
  policyOption,
  TOUCH_POLICY_NAMES,
} from '../card/key-policy.js';
import type { OpenedCard } from '../card/open-card.js';
import { keyImportOf, parsePrivateKey } from '../card/private-key-blob.js';
import { confirmDestruction, FORCE_OPTION } from '../input/confirm.js';
import { CERTIFICATE_INPUT, outputName, readInputFile, writeOutputFile } from '../input/local-files.js';
import { withSpinner } from '../output/spinner.js';
import { UsageError } from '../parse/usage-error.js';
import { derFromPemOrDer } from '../x509/pem.js';
import type { Command } from './command.js';
import { type CommandContext, requireOption, requirePositional, stringOption } from './context.js';
import { withCard, withRole } from './session-helpers.js';

/** The most a private key file may be (an RSA-4096 PKCS #8 PEM is about 3.3 KB). */
const PRIVATE_KEY_INPUT = { maxBytes: 16 * 1024, what: 'a private key file' } as const;

function describeKey(key: Key): string {
  return `${keyKind(key)} ${key.algorithm.bits}`;
}

/** `--alg` values: the key store's algorithm names. */
function checkAlgorithm(algorithm: string): KeyAlgorithmName {
  if (!(KEY_ALGORITHM_NAMES as readonly string[]).includes(algorithm)) {
    throw new UsageError(`--alg must be one of ${KEY_ALGORITHM_NAMES.join(', ')}`);
  }
  return algorithm as KeyAlgorithmName;
}

/** `--usage sign|exchange` as a key store usage: exchange is decryption for RSA, ECDH for EC keys. */
function keyUsageOf(usage: string | undefined, algorithm: KeyAlgorithmName): KeyUsage | undefined {
  if (usage === undefined) return undefined;
  if (usage !== 'sign' && usage !== 'exchange') throw new UsageError('--usage must be sign or exchange');
  return usage === 'sign' ? 'sign' : algorithm.startsWith('rsa') ? 'decrypt' : 'derive';
}

/** The keys of a container, none when it is empty (or the card cannot say). */
async function keysIn(context: CommandContext, opened: OpenedCard, index: number): Promise<Key[]> {
  try {
    return await containerKeys(await cardToken(context.credentials, opened), index);
  } catch (error) {
    if (ScardError.isInstance(error)) return [];
    throw error;
  }
}

/** When container `index` holds a key, says what replacing it destroys and asks (or needs --force). */
async function confirmReplace(context: CommandContext, opened: OpenedCard, index: number, verb: string): Promise<void> {
  const keys = await keysIn(context, opened, index);
  if (keys.length === 0) return;
  const label = await containerLabel(opened, index);
  await confirmDestruction(
    context,
    `the ${keys.map(describeKey).join(' and ')} key in container ${label} and its certificate (${verb} replaces them)`,
  );
}

/** The key the container now holds after a change this token did not make (the one of `keySpec` first). */
async function keyAfter(token: Token, index: number, keySpec: number | undefined): Promise<Key> {
  const keys = (await token.keys({ refresh: true })).filter((key) => key.container === index);
  const key = keys.find((candidate) => candidate.keySpec === keySpec) ?? keys[0];
  if (!key) throw new ScardError('SCARD_E_NO_KEY_CONTAINER', `container ${index} has no key after the operation`);
  return key;
}

async function selfSign(
  context: CommandContext,
  token: Token,
  key: Key,
  commonName: string,
): Promise<{ file: string; sha256: string }> {
  if (!key.usages.includes('sign')) throw new UsageError('an ECDH key cannot sign its own certificate');
  const now = new Date();
  const der = await createSelfSignedCertificate({
    commonName,
    publicKey: key.publicKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
    sign: (tbsCertificate) => key.sign(tbsCertificate, { hash: 'sha256' }),
  });
  const parsed = new X509Certificate(der);
  if (!parsed.verify(key.publicKey))
    throw new ScardError('SCARD_E_UNEXPECTED', 'the card produced a certificate signature that does not verify');
  const stored = await token.importCertificate(key.container, der);
  context.print(`self-signed certificate "CN=${commonName}" written to ${stored.certificateFile}`);
  return { file: stored.certificateFile, sha256: parsed.fingerprint256.replace(/:/g, '').toLowerCase() };
}

export const keygenCommand: Command = {
  name: 'keygen',
  usage:
    '--container <n|slot> --alg rsa2048|rsa3072|rsa4096|p256|p384 [--usage sign|exchange] [--pin-policy p] [--touch-policy p] [--out pub.pem] [--self-signed CN] [--force]',
  summary: 'generate a key pair on the card and print (or write) its public key as PEM',
  examples: [
    'minidriver keygen --container 9a --alg p256 --out pub.pem',
    'minidriver keygen --container 9c --alg rsa2048 --pin-policy always --touch-policy cached --self-signed Alice',
    'minidriver keygen --container 9a --alg p256 --force   # replace a key without asking',
  ],
  options: {
    ...CONTAINER_OPTION,
    alg: { type: 'string', placeholder: 'rsa2048|rsa3072|rsa4096|p256|p384', description: 'key algorithm and size' },
    usage: {
      type: 'string',
      placeholder: 'sign|exchange',
      description:
        'key usage (RSA default exchange, which also signs; EC default sign; without it, the other usage when the container takes only that)',
    },
    ...POLICY_OPTIONS,
    out: { type: 'string', placeholder: '<file>', description: 'write the public key PEM here (- for stdout)' },
    'self-signed': {
      type: 'string',
      placeholder: '<CN>',
      description: 'also store a self-signed certificate (signed by the card) for the key',
    },
    ...FORCE_OPTION,
  },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    // Usage errors before the card is opened.
    const algorithm = checkAlgorithm(requireOption(context, 'alg'));
    const usage = keyUsageOf(stringOption(context, 'usage'), algorithm);
    const pinPolicy = policyOption(stringOption(context, 'pin-policy'), PIN_POLICY_NAMES, 'pin-policy');
    const touchPolicy = policyOption(stringOption(context, 'touch-policy'), TOUCH_POLICY_NAMES, 'touch-policy');
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      await confirmReplace(context, opened, index, 'the new key');
      const token = await cardToken(context.credentials, opened);
      let key: Key;
      if (touchPolicy !== 'default' || (pinPolicy === 'never' && opened.session.pluginName === 'PIV')) {
        // A touch policy, or no PIN at all, is outside the contract: the PIV package's management generates
        // with both policies.
        const { PivManagement, KEY_ALGORITHMS } = await pivModule(opened);
        if (!Object.hasOwn(KEY_ALGORITHMS, algorithm)) throw new UsageError(`--alg ${algorithm} is not a PIV key`);
        await withRole(context, opened, 'admin', () =>
          withSpinner(`generating ${algorithm} on the card`, () =>
            opened.session.manage((access) =>
              PivManagement.of(access).generateKey(index, algorithm as keyof typeof KEY_ALGORITHMS, {
                pinPolicy,
                touchPolicy,
              }),
            ),
          ),
        );
        key = await keyAfter(token, index, undefined);
      } else {
        const pinId = await pinIdOfPolicy(opened.session, pinPolicy);
        key = await withSpinner(`generating ${algorithm} on the card`, () =>
          token.generateKey(index, algorithm, {
            ...(usage === undefined ? {} : { usage }),
            ...(pinId === undefined ? {} : { pin: pinId }),
          }),
        );
      }
      const pem = toPem(new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })), 'PUBLIC KEY');
      const commonName = stringOption(context, 'self-signed');
      const certificate = commonName === undefined ? undefined : await selfSign(context, token, key, commonName);
      const out = stringOption(context, 'out');
      const label = await containerLabel(opened, index);
      if (out !== undefined) {
        await writeOutputFile(out, pem);
        if (out !== '-') {
          context.print(
            `${describeKey(key)} key generated in container ${label}; public key written to ${outputName(out)}`,
          );
        }
      } else {
        context.print(pem.trimEnd());
      }
      return {
        container: index,
        containerName: (await containerNameOf(opened, index)) ?? null,
        algorithm: keyKind(key),
        bits: key.algorithm.bits,
        pinPolicy,
        touchPolicy,
        publicKey: pem,
        ...(out === undefined ? {} : { out }),
        ...(certificate === undefined ? {} : { certificate }),
      };
    });
  },
};

export const importKeyCommand: Command = {
  name: 'import-key',
  usage: '--container <n|slot> <key.pem|der|-> [--usage sign|exchange] [--pin-policy p] [--force]',
  summary: 'import a private key (RSA, P-256, P-384) into a container (CardCreateContainer key import)',
  examples: [
    'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem',
    'minidriver import-key --container 9a key.pem',
    'openssl genrsa 2048 | minidriver import-key --container 9d - --force',
  ],
  options: {
    ...CONTAINER_OPTION,
    usage: { type: 'string', placeholder: 'sign|exchange', description: 'RSA default exchange, EC default sign' },
    'pin-policy': POLICY_OPTIONS['pin-policy'],
    ...FORCE_OPTION,
  },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    const file = requirePositional(context, 0, '<key.pem|der|->');
    const usage = stringOption(context, 'usage');
    if (usage !== undefined && usage !== 'sign' && usage !== 'exchange')
      throw new UsageError('--usage must be sign or exchange');
    const pinPolicy = policyOption(stringOption(context, 'pin-policy'), PIN_POLICY_NAMES, 'pin-policy');
    const bytes = await readInputFile(file, PRIVATE_KEY_INPUT);
    let privateKey: KeyObject;
    try {
      privateKey = parsePrivateKey(bytes, file);
    } finally {
      wipe(bytes);
    }
    const request = keyImportOf(privateKey, usage as 'sign' | 'exchange' | undefined);
    try {
      return await withCard(context, async (opened) => {
        const index = await resolveContainer(opened, containerText);
        await confirmReplace(context, opened, index, 'the imported key');
        const pinId = await pinIdOfPolicy(opened.session, pinPolicy);
        await withRole(context, opened, 'admin', () =>
          pinId === undefined
            ? opened.session.createContainer(
                index,
                CARD_CREATE_CONTAINER_KEY_IMPORT,
                request.keySpec,
                request.keySize,
                request.blob.slice(),
              )
            : opened.session.createContainerEx(
                index,
                CARD_CREATE_CONTAINER_KEY_IMPORT,
                request.keySpec,
                request.keySize,
                request.blob.slice(),
                pinId,
              ),
        );
        const key = await keyAfter(await cardToken(context.credentials, opened), index, request.keySpec);
        if (!key.publicKey.equals(request.publicKey)) {
          throw new ScardError('SCARD_E_UNEXPECTED', 'the card holds another public key than the one imported');
        }
        const label = await containerLabel(opened, index);
        context.print(`${request.algorithm} ${request.bits} private key imported into container ${label}`);
        return {
          container: index,
          algorithm: request.algorithm,
          bits: request.bits,
          pinPolicy,
          publicKey: toPem(new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })), 'PUBLIC KEY'),
        };
      });
    } finally {
      wipe(request.blob);
    }
  },
};

export const importCertCommand: Command = {
  name: 'import-cert',
  usage: '--container <n|slot> <file.pem|der|->',
  summary: "store a certificate in a container (its public key must match the container's)",
  examples: [
    'minidriver import-cert --container 9a cert.pem',
    'openssl x509 -in cert.pem | minidriver import-cert --container 9a -',
  ],
  options: { ...CONTAINER_OPTION },
  async run(context) {
    const containerText = checkContainerText(requireOption(context, 'container'));
    const file = requirePositional(context, 0, '<file.pem|der|->');
    const der = derFromPemOrDer(await readInputFile(file, CERTIFICATE_INPUT), 'CERTIFICATE');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      throw new UsageError(`${file === '-' ? 'stdin' : file} is not an X.509 certificate`);
    }
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      const token = await cardToken(context.credentials, opened);
      if (!(await containerKeys(token, index)).some((key) => key.publicKey.equals(certificate.publicKey))) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `the certificate's public key is not the key of container ${await containerLabel(opened, index)}`,
        );
      }
      const key = await token.importCertificate(index, der);
      context.print(`certificate "${certificate.subject.replace(/\n/g, ', ')}" written to ${key.certificateFile}`);
      return {
        container: index,
        file: key.certificateFile,
        subject: certificate.subject.replace(/\n/g, ', '),
        sha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
      };
    });
  },
};

export const rmContainerCommand: Command = {
  name: 'rm-container',
  usage: '<n|slot> [--force]',
  summary: 'delete a key container (its key and certificate)',
  examples: ['minidriver rm-container 9a --force'],
  options: { ...FORCE_OPTION },
  async run(context) {
    const containerText = checkContainerText(requirePositional(context, 0, '<n|slot>'), 'the container');
    return withCard(context, async (opened) => {
      const index = await resolveContainer(opened, containerText);
      const keys = await keysIn(context, opened, index);
      const label = await containerLabel(opened, index);
      // An empty container holds nothing to lose: no question.
      if (keys.length) {
        await confirmDestruction(
          context,
          `the ${keys.map(describeKey).join(' and ')} key in container ${label} and its certificate`,
        );
      }
      await (await cardToken(context.credentials, opened)).deleteContainer(index);
      context.print(`container ${label} deleted`);
      return { container: index, deleted: true };
    });
  },
};
