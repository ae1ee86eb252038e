/**
 * What must hold on a card after any fault (docs/spec/minidriver.md §3.7, §4.3, §4.8): cmapfile agrees with the containers
 * (every valid record has a key of the recorded sizes), and every certificate file certifies the key its
 * container holds now: no certificate of an old key, no certificate of a container without a key.
 */
import { X509Certificate } from 'node:crypto';
import { decodeCertificateFile, publicKeyBlobToKeyObject } from '@minidriver/card-kit';
import { CONTAINER_MAP_VALID_CONTAINER, ScardError } from '@minidriver/spec';
import { ConformanceFailure, check, describeError, must, type Rig } from './harness.js';
import { expectedRecordSizes, readContainerMap } from './provision.js';

const CERTIFICATE_FILE = /^k(s|x)c([0-9a-f]{2})$/;

/** cmapfile agrees with the containers: every valid record has a key of the recorded sizes (docs/spec/minidriver.md §3.7). */
export async function checkContainerMap(rig: Rig, when: string): Promise<void> {
  const records = await readContainerMap(rig.session);
  for (const [index, record] of records.entries()) {
    if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) continue;
    const info = await must(
      rig.session.getContainerInfo(index),
      `docs/spec/minidriver.md §3.7 ${when}: cmapfile lists container ${index}, so it must have a key`,
    );
    const sizes = expectedRecordSizes(info);
    check(
      record.signatureKeySizeBits === sizes.signature && record.keyExchangeKeySizeBits === sizes.keyExchange,
      `docs/spec/minidriver.md §3.7 ${when}: cmapfile key sizes of container ${index} match its keys`,
      `record ${record.signatureKeySizeBits}/${record.keyExchangeKeySizeBits}, keys ${sizes.signature}/${sizes.keyExchange}`,
    );
  }
}

/** Every certificate file in mscp certifies the public key its container holds (docs/spec/minidriver.md §4.3). */
export async function checkCertificatesMatchKeys(rig: Rig, when: string): Promise<void> {
  const names = await must(
    rig.session.enumFiles('mscp'),
    `docs/spec/minidriver.md §5.3.6 ${when}: CardEnumFiles("mscp")`,
  );
  for (const name of names) {
    const match = CERTIFICATE_FILE.exec(name);
    if (!match) continue;
    const index = Number.parseInt(match[2] as string, 16);
    const contents = await must(
      rig.session.readFile('mscp', name),
      `docs/spec/minidriver.md §5.3.4 ${when}: reading the listed mscp/${name}`,
    );
    if (contents.length === 0) continue;
    let certified: Buffer;
    try {
      certified = new X509Certificate(decodeCertificateFile(contents)).publicKey.export({
        type: 'spki',
        format: 'der',
      });
    } catch (error) {
      throw new ConformanceFailure(
        `docs/spec/minidriver.md §4.3 ${when}: mscp/${name} does not hold a certificate (${describeError(error)})`,
      );
    }
    let info: Awaited<ReturnType<typeof rig.session.getContainerInfo>>;
    try {
      info = await rig.session.getContainerInfo(index);
    } catch (error) {
      if (ScardError.hasCode(error, 'SCARD_E_NO_KEY_CONTAINER')) {
        throw new ConformanceFailure(
          `docs/spec/minidriver.md §4.3 ${when}: mscp/${name} certifies a key, but container ${index} holds none`,
        );
      }
      throw new ConformanceFailure(
        `docs/spec/minidriver.md §5.4.4 ${when}: CardGetContainerInfo(${index}): ${describeError(error)}`,
      );
    }
    const blob = match[1] === 's' ? info.signaturePublicKey : info.keyExchangePublicKey;
    if (blob === undefined) {
      throw new ConformanceFailure(
        `docs/spec/minidriver.md §4.3 ${when}: mscp/${name} certifies a ${match[1] === 's' ? 'signature' : 'key-exchange'} key, but container ${index} has none`,
      );
    }
    const held = publicKeyBlobToKeyObject(blob).export({ type: 'spki', format: 'der' });
    check(
      held.equals(certified),
      `docs/spec/minidriver.md §4.3 ${when}: mscp/${name} must certify the key container ${index} holds now`,
      'it certifies another key (an old one)',
    );
  }
}

/** Both checks: the logical file system is consistent. */
export async function checkCardConsistent(rig: Rig, when: string): Promise<void> {
  await checkContainerMap(rig, when);
  await checkCertificatesMatchKeys(rig, when);
}
