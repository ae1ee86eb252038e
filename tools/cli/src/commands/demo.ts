/**
 * `minidriver demo`: the whole stack on a built-in simulated card (`--sim piv`, the default, or
 * `--sim openpgp`), with no reader and no daemon — ATR detection, plugin loading, card info, PIN, admin
 * authentication as the card's PIN_INFO asks, key generation, a self-signed certificate signed by the card
 * and stored in the container's certificate file, a signature verified with node:crypto, and the
 * APDU/cache counts of the run. Nothing in here is specific to one card: what differs comes from the
 * minidriver contract or, for the simulators' factory secrets, from the simulator table.
 */

import { createHash, verify, X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate } from '@minidriver/core';
import { openToken } from '@minidriver/keystore';
import { KeySpec, ROLE_USER, toHex, wipe } from '@minidriver/spec';
import { type AdminMethod, authenticateAdmin } from '../card/admin-authentication.js';
import { summariseCard } from '../card/card-summary.js';
import { keyKind } from '../card/card-token.js';
import { createCliLoader } from '../card/cli-loader.js';
import { openCardSession } from '../card/open-card.js';
import { pluginJson } from '../card/plugin-json.js';
import { type SimulatorProfile, simulatorProfile } from '../card/simulators.js';
import type { CredentialSource } from '../input/credentials.js';
import { withSpinner } from '../output/spinner.js';
import { renderPairs } from '../output/table.js';
import { UsageError } from '../parse/usage-error.js';
import type { Command } from './command.js';
import { stringOption } from './context.js';

const DEFAULT_SIMULATOR = 'piv';
/** Container 0: PIV 9A (authentication), OpenPGP signature key — both sign. */
const DEMO_CONTAINER = 0;
const DEMO_ALGORITHM = 'rsa2048';
const DEMO_MESSAGE = 'Hello from minidriver';

/** The simulator's factory secrets as a credential source, for {@link authenticateAdmin}. */
function factoryCredentials(profile: SimulatorProfile): CredentialSource {
  return {
    secret: async (_label, envOption) => {
      const value = envOption === 'admin-pin-env' ? profile.factoryAdmin.pin : undefined;
      if (value === undefined)
        throw new UsageError(`the demo knows no factory ${profile.factoryAdmin.name} for this simulated card`);
      return new TextEncoder().encode(value);
    },
    adminKey: () => (profile.factoryAdmin.key === undefined ? undefined : { kind: profile.factoryAdmin.key }),
  };
}

function describeAdmin(method: AdminMethod, profile: SimulatorProfile): string {
  const name = profile.factoryAdmin.name;
  switch (method) {
    case 'default-admin-key':
      return `Admin authenticated by challenge/response (PIN_INFO: ChallengeResponsePinType) with the well-known DEFAULT ${name} (fine for a fresh simulated card; never on a real one).`;
    case 'admin-pin':
      return `Admin authenticated with the simulated card's factory ${name} (PIN_INFO: AlphaNumericPinType; not shown; never keep a factory PIN on a real card).`;
    default:
      return `Admin authenticated with the simulated card's factory ${name}.`;
  }
}

export const demoCommand: Command = {
  name: 'demo',
  usage: '[--sim piv|openpgp]',
  summary: 'run the whole stack on a built-in simulated card (default piv; no reader, no daemon)',
  examples: ['minidriver demo', 'minidriver demo --sim openpgp --json'],
  options: {},
  async run(context) {
    if (stringOption(context, 'reader') !== undefined)
      throw new UsageError(
        'demo runs on a built-in simulated card: use --sim piv, --sim openpgp or --sim gids, not --reader',
      );
    const simulator = stringOption(context, 'sim') ?? DEFAULT_SIMULATOR;
    const profile = simulatorProfile(simulator);
    const { colours } = context;
    const heading = (text: string): void => context.print(`\n${colours.bold(colours.cyan(text))}`);
    context.print(
      colours.yellow(`This card is SIMULATED: an in-process ${profile.description}, no reader and no pcscd involved.`),
    );

    const demoPlugin = profile.demoPlugin ? await profile.demoPlugin() : undefined;
    const opened = await openCardSession(
      {
        sim: simulator,
        ephemeral: true,
        seed: 'minidriver-demo',
        ...(context.trace ? { trace: context.trace } : {}),
      },
      demoPlugin ? { adaptPlugin: () => demoPlugin } : {},
    );
    try {
      const { session, transport } = opened;
      heading('1. Detect the card by its ATR');
      const identification = await (await createCliLoader(context.plugins)).identify(transport.atr);
      context.print(
        renderPairs([
          ['ATR', toHex(transport.atr, ' ')],
          ['plugin', `${opened.resolution.packageName} (${opened.resolution.cardName})`],
          ['why', opened.resolution.reason],
          ['protocols', identification.atr.protocols?.map((protocol) => `T=${protocol}`).join(', ') ?? '-'],
        ]),
      );

      heading('2. Card info');
      const summary = await summariseCard(session);
      context.print(
        renderPairs([
          ['CARD_DATA version', String(summary.version)],
          ['card GUID', summary.guid ?? '-'],
          ['serial', summary.serial ?? '-'],
          ['key generation', summary.capabilities ? String(summary.capabilities.keyGeneration) : '-'],
          ['cache mode', summary.cacheMode],
          ['PINs', summary.pins.map((pin) => `${pin.role} (${pin.type})`).join(', ')],
        ]),
      );

      // The factory user PIN, kept only as long as the demo needs it (a signature PIN may be asked again).
      const userPin = new TextEncoder().encode(profile.factoryUserPin);
      try {
        heading('3. Verify the user PIN');
        await session.authenticatePin('user', userPin);
        context.print(
          `PIN verified (the simulated card's factory PIN, not shown); the session now holds the ${(session.authenticatedPins & (1 << ROLE_USER)) !== 0 ? 'user' : 'no'} role`,
        );

        heading('4. Generate a key on the card');
        const adminMethod = await authenticateAdmin(session, factoryCredentials(profile));
        context.print(describeAdmin(adminMethod, profile));
        // The key store does the rest; it answers any PIN the card asks again with the factory PIN.
        const token = await openToken(session, {
          resolution: opened.resolution,
          readerName: opened.readerName,
          atr: transport.atr,
          prompt: () => userPin.slice(),
        });
        const key = await withSpinner('generating an RSA 2048 key on the card', () =>
          token.generateKey(DEMO_CONTAINER, DEMO_ALGORITHM),
        );
        const keySpec = key.keySpec;
        const fingerprint = createHash('sha256')
          .update(key.publicKey.export({ type: 'spki', format: 'der' }))
          .digest('hex');
        context.print(
          renderPairs([
            ['container', String(DEMO_CONTAINER)],
            [
              'key',
              `${keyKind(key)} ${key.algorithm.bits} (${keySpec === KeySpec.AT_SIGNATURE ? 'AT_SIGNATURE' : 'AT_KEYEXCHANGE'})`,
            ],
            ['SPKI SHA-256', fingerprint],
          ]),
        );

        // A card may want its signature PIN again before every signature (PIN_INFO PinCacheAlwaysPrompt):
        // the key store asks its prompt each time.
        const keyPin = (await token.pins()).find((pin) => pin.id === key.pinId);
        const signaturePin = keyPin?.cachePolicy.type === 'always-prompt' ? key.pinId : undefined;
        if (signaturePin !== undefined) {
          context.print(
            `PIN ${signaturePin} is verified again before each signature (its PIN_INFO cache policy is PinCacheAlwaysPrompt).`,
          );
        }

        heading('5. Self-signed certificate, signed by the card');
        const notBefore = new Date();
        const notAfter = new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
        const certificate = await createSelfSignedCertificate({
          commonName: `minidriver demo (simulated ${session.pluginName})`,
          publicKey: key.publicKey,
          notBefore,
          notAfter,
          sign: (tbsCertificate) => key.sign(tbsCertificate, { hash: 'sha256' }),
        });
        const x509 = new X509Certificate(certificate);
        const certificateValid = x509.verify(key.publicKey);
        // The file follows the key's half: ksc for AT_SIGNATURE, kxc for AT_KEYEXCHANGE.
        const certificatePath = (await token.importCertificate(DEMO_CONTAINER, certificate)).certificateFile;
        const [certificateDirectory, certificateFile] = certificatePath.split('/') as [string, string];
        const readBack = await session.readFile(certificateDirectory, certificateFile);
        context.print(
          renderPairs([
            ['subject', x509.subject.replace(/\n/g, ', ')],
            [
              'signature',
              certificateValid
                ? colours.green('verified with node:crypto X509Certificate.verify')
                : colours.red('INVALID'),
            ],
            ['written to', `${certificatePath} (${certificate.length} bytes, read back ${readBack.length} bytes)`],
          ]),
        );

        heading('6. Sign a message and verify the signature');
        const message = new TextEncoder().encode(DEMO_MESSAGE);
        const signature = await key.sign(message, { hash: 'sha256' });
        const signatureValid = verify('sha256', message, key.publicKey, signature);
        context.print(
          renderPairs([
            ['message', JSON.stringify(DEMO_MESSAGE)],
            ['signature', `${signature.length} bytes, RSA PKCS#1 v1.5 / SHA-256`],
            ['verified', signatureValid ? colours.green('yes (node:crypto)') : colours.red('NO')],
          ]),
        );

        // Reading the certificate again is answered from the data cache when the plugin keeps one.
        await session.readFile(certificateDirectory, certificateFile);
        const totals = opened.recorder.totals();
        const stats = session.stats();
        context.print('');
        context.print(
          colours.bold(
            `APDUs: ${totals.apdus} (${totals.bytesSent + totals.bytesReceived} bytes), cache hits: ${stats.cacheHits}`,
          ),
        );
        return {
          simulated: true,
          simulator,
          atr: toHex(transport.atr),
          plugin: pluginJson(opened.resolution),
          card: summary,
          adminAuthentication: adminMethod,
          container: DEMO_CONTAINER,
          key: {
            algorithm: keyKind(key),
            bits: key.algorithm.bits,
            keySpec: keySpec === KeySpec.AT_SIGNATURE ? 'AT_SIGNATURE' : 'AT_KEYEXCHANGE',
            spkiSha256: fingerprint,
          },
          ...(signaturePin === undefined ? {} : { pinBeforeEachSignature: signaturePin }),
          certificate: {
            file: certificatePath,
            subject: x509.subject,
            verified: certificateValid,
            sha256: x509.fingerprint256,
          },
          signature: { message: DEMO_MESSAGE, bytes: signature.length, verified: signatureValid },
          apdus: totals.apdus,
          bytes: totals.bytesSent + totals.bytesReceived,
          cacheHits: stats.cacheHits,
        };
      } finally {
        wipe(userPin);
      }
    } finally {
      await opened.close();
    }
  },
};
