/**
 * `minidriver containers` (index, GUID, flags, key type and size, public key fingerprint) and
 * `minidriver certs` (container, subject, issuer, validity, SHA-256 fingerprint), from the key store's
 * keys and their certificates.
 */
import { createHash } from 'node:crypto';
import { toPem } from '@minidriver/core';
import type { Key } from '@minidriver/keystore';
import { KeySpec } from '@minidriver/spec';
import { containerNames } from '../card/card-management.js';
import { cardKeys, keyKind } from '../card/card-token.js';
import type { OpenedCard } from '../card/open-card.js';
import type { CredentialSource } from '../input/credentials.js';
import { renderTable } from '../output/table.js';
import type { Command } from './command.js';
import { withCard } from './session-helpers.js';

/** One container as listed. */
export interface ContainerListing {
  readonly index: number;
  /** The card family's name of the container (`9a`, `sig`), null when it has none. */
  readonly name: string | null;
  readonly guid: string;
  readonly flags: string[];
  readonly keys: { type: string; bits: number; spkiSha256: string }[];
}

function keyType(key: Key): string {
  if (key.algorithm.type !== 'rsa') return keyKind(key);
  return key.keySpec === KeySpec.AT_SIGNATURE ? 'RSA signature' : 'RSA exchange';
}

/** The containers holding keys, with their public keys (signature half first). */
export async function listContainers(credentials: CredentialSource, opened: OpenedCard): Promise<ContainerListing[]> {
  const names = await containerNames(opened.session.pluginName);
  const nameOf = (index: number) => [...names].find(([, candidate]) => candidate === index)?.[0] ?? null;
  const listings = new Map<number, ContainerListing>();
  for (const key of await cardKeys(credentials, opened)) {
    let listing = listings.get(key.container);
    if (!listing) {
      listing = {
        index: key.container,
        name: nameOf(key.container),
        guid: key.containerName,
        flags: key.defaultContainer ? ['valid', 'default'] : ['valid'],
        keys: [],
      };
      listings.set(key.container, listing);
    }
    listing.keys.push({
      type: keyType(key),
      bits: key.algorithm.bits,
      spkiSha256: createHash('sha256')
        .update(key.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    });
  }
  return [...listings.values()].sort((a, b) => a.index - b.index);
}

export const containersCommand: Command = {
  name: 'containers',
  usage: '',
  summary: 'list key containers: index, GUID, flags, key type and size, public key fingerprint',
  examples: ['minidriver containers                    # slots shown by name on PIV (9a, 9c, 9d, 9e)'],
  options: {},
  run: (context) =>
    withCard(context, async (opened) => {
      const containers = await listContainers(context.credentials, opened);
      if (containers.length === 0) context.print('no containers');
      else {
        context.print(
          renderTable(
            ['#', 'slot', 'GUID', 'flags', 'key', 'SPKI SHA-256'],
            containers.flatMap((container) =>
              (container.keys.length ? container.keys : [{ type: '-', bits: 0, spkiSha256: '-' }]).map((key) => [
                String(container.index),
                container.name ?? '-',
                container.guid,
                container.flags.join(','),
                key.bits ? `${key.type} ${key.bits}` : key.type,
                key.spkiSha256,
              ]),
            ),
            context.colours.bold,
          ),
        );
      }
      return { containers };
    }),
};

/** One certificate as listed. */
export interface CertificateListing {
  readonly container: number;
  /** The container's name on this card (`9a`, `sig`), null when it has none. */
  readonly containerName: string | null;
  readonly file: string;
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly sha256: string;
}

export const certsCommand: Command = {
  name: 'certs',
  usage: '[--pem]',
  summary: 'list certificates: container, subject, issuer, validity, SHA-256 fingerprint (or all as PEM)',
  examples: ['minidriver certs', 'minidriver certs --pem > certificates.pem   # every certificate as PEM'],
  options: { pem: { type: 'boolean', description: 'print every certificate as PEM (a bundle openssl reads)' } },
  run: (context) =>
    withCard(context, async (opened) => {
      const pem = context.options['pem'] === true;
      const names = await containerNames(opened.session.pluginName);
      const nameOf = (index: number) => [...names].find(([, candidate]) => candidate === index)?.[0] ?? null;
      const certificates: (CertificateListing & { pem?: string })[] = [];
      for (const key of await cardKeys(context.credentials, opened)) {
        const certificate = key.certificate;
        if (certificate === undefined) continue;
        const der = new Uint8Array(certificate.raw);
        certificates.push({
          container: key.container,
          containerName: nameOf(key.container),
          file: key.certificateFile,
          subject: certificate.subject.replace(/\n/g, ', '),
          issuer: certificate.issuer.replace(/\n/g, ', '),
          validFrom: new Date(certificate.validFrom).toISOString(),
          validTo: new Date(certificate.validTo).toISOString(),
          sha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
          ...(pem ? { pem: toPem(der, 'CERTIFICATE') } : {}),
        });
      }
      if (pem) {
        for (const entry of certificates) context.print((entry.pem as string).trimEnd());
      } else if (certificates.length === 0) context.print('no certificates');
      else {
        context.print(
          renderTable(
            ['#', 'slot', 'file', 'subject', 'issuer', 'valid from', 'valid to', 'SHA-256'],
            certificates.map((entry) => [
              String(entry.container),
              entry.containerName ?? '-',
              entry.file,
              entry.subject,
              entry.issuer,
              entry.validFrom.slice(0, 10),
              entry.validTo.slice(0, 10),
              entry.sha256,
            ]),
            context.colours.bold,
          ),
        );
      }
      return { certificates };
    }),
};
