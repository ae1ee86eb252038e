/**
 * @module `minidriver demo`: the whole stack on the built-in simulated PIV card, with no reader and no
 * daemon — ATR detection, plugin loading, card info, PIN, key generation, a self-signed certificate
 * signed by the card, a signature verified with node:crypto, and the APDU/cache counts of the run.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { createPivPlugin } from '@minidriver/card-piv';
import {
  CARD_CREATE_CONTAINER_KEY_GEN,
  CacheMode,
  certificateFileName,
  KeySpec,
  ROLE_USER,
  toHex,
  wipe,
} from '@minidriver/core';
import { authenticateAdmin } from '../card/admin-authentication.js';
import { summariseCard } from '../card/card-summary.js';
import { createCliLoader } from '../card/cli-loader.js';
import { certificateSigner, signHash, signingKey } from '../card/container-keys.js';
import { openCardSession } from '../card/open-card.js';
import { withSpinner } from '../output/spinner.js';
import { renderPairs } from '../output/table.js';
import { createSelfSignedCertificate } from '../x509/self-signed-certificate.js';
import type { Command } from './command.js';

/** The factory PIN of the simulated card (PIV default). */
const DEMO_PIN = '123456';
const DEMO_CONTAINER = 0;
const DEMO_MESSAGE = 'Hello from minidriver';

export const demoCommand: Command = {
  name: 'demo',
  usage: '',
  summary: 'run the whole stack on the built-in simulated PIV card (no reader, no daemon)',
  options: {},
  async run(context) {
    const { colours } = context;
    const heading = (text: string): void => context.print(`\n${colours.bold(colours.cyan(text))}`);
    context.print(
      colours.yellow('This card is SIMULATED: an in-process PIV card (YubiKey-like), no reader and no pcscd involved.'),
    );

    // Nothing else can touch this in-process card, so the plugin may keep a session cache (its default is
    // NO_CACHE because a real PIV card has no cardcf to tell it when another application wrote it).
    const opened = await openCardSession(
      { sim: 'piv', ephemeral: true, seed: 'minidriver-demo', ...(context.trace ? { trace: context.trace } : {}) },
      { adaptPlugin: () => createPivPlugin({ cacheMode: CacheMode.SESSION_ONLY }) },
    );
    try {
      const { session, transport } = opened;
      heading('1. Detect the card by its ATR');
      const identification = await createCliLoader().identify(transport.atr);
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

      heading('3. Verify the user PIN');
      const pin = new TextEncoder().encode(DEMO_PIN);
      try {
        await session.authenticatePin('user', pin);
      } finally {
        wipe(pin);
      }
      context.print(
        `PIN verified (the simulated card's factory PIN, not shown); the session now holds the ${(session.authenticatedPins & (1 << ROLE_USER)) !== 0 ? 'user' : 'no'} role`,
      );

      heading('4. Generate a key on the card');
      await authenticateAdmin(session, {
        adminKey: () => ({ kind: 'default' }),
        secret: () => Promise.reject(new Error('the demo needs no other secret')),
      });
      context.print(
        'Admin authenticated with the well-known DEFAULT management key (fine for a fresh simulated card; never on a real one).',
      );
      await withSpinner('generating an RSA 2048 key on the card', () =>
        session.createContainer(DEMO_CONTAINER, CARD_CREATE_CONTAINER_KEY_GEN, KeySpec.AT_KEYEXCHANGE, 2048),
      );
      const key = await signingKey(session, DEMO_CONTAINER);
      const fingerprint = createHash('sha256')
        .update(key.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      context.print(
        renderPairs([
          ['container', String(DEMO_CONTAINER)],
          ['key', `${key.algorithm} ${key.bits}`],
          ['SPKI SHA-256', fingerprint],
        ]),
      );

      heading('5. Self-signed certificate, signed by the card');
      const notBefore = new Date();
      const notAfter = new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
      const certificate = await createSelfSignedCertificate(
        { commonName: 'minidriver demo (simulated PIV)', publicKey: key.publicKey, notBefore, notAfter },
        certificateSigner(session, DEMO_CONTAINER, key),
      );
      const x509 = new X509Certificate(certificate);
      const certificateValid = x509.verify(key.publicKey);
      const certificateFile = certificateFileName(key.certificateKind, DEMO_CONTAINER);
      await session.writeFile('mscp', certificateFile, certificate);
      const readBack = await session.readFile('mscp', certificateFile);
      context.print(
        renderPairs([
          ['subject', x509.subject.replace(/\n/g, ', ')],
          [
            'signature',
            certificateValid
              ? colours.green('verified with node:crypto X509Certificate.verify')
              : colours.red('INVALID'),
          ],
          ['written to', `mscp/${certificateFile} (${certificate.length} bytes, read back ${readBack.length} bytes)`],
        ]),
      );

      heading('6. Sign a message and verify the signature');
      const message = new TextEncoder().encode(DEMO_MESSAGE);
      const hash = new Uint8Array(createHash('sha256').update(message).digest());
      const signature = await signHash(session, DEMO_CONTAINER, key, hash, 'sha256');
      const signatureValid = verify('sha256', message, key.publicKey, signature);
      context.print(
        renderPairs([
          ['message', JSON.stringify(DEMO_MESSAGE)],
          ['signature', `${signature.length} bytes, RSA PKCS#1 v1.5 / SHA-256`],
          ['verified', signatureValid ? colours.green('yes (node:crypto)') : colours.red('NO')],
        ]),
      );

      // Reading the certificate again is answered from the data cache, not the card.
      await session.readFile('mscp', certificateFile);
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
        atr: toHex(transport.atr),
        plugin: opened.resolution.packageName,
        reason: opened.resolution.reason,
        card: summary,
        container: DEMO_CONTAINER,
        key: { algorithm: key.algorithm, bits: key.bits, spkiSha256: fingerprint },
        certificate: {
          file: `mscp/${certificateFile}`,
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
      await opened.close();
    }
  },
};
