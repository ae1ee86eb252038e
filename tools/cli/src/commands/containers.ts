/**
 * @module `minidriver containers` (index, GUID, flags, key type and size, public key fingerprint) and
 * `minidriver certs` (container, subject, issuer, validity, SHA-256 fingerprint).
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  CONTAINER_MAP_DEFAULT_CONTAINER,
  CONTAINER_MAP_VALID_CONTAINER,
  decodeCertificateFile,
  decodeContainerMap,
  parseCertificateFileName,
  ScardError,
  toPem,
} from '@minidriver/core';
import { containerNames } from '../card/card-management.js';
import { containerKeys } from '../card/container-keys.js';
import type { OpenedCard } from '../card/open-card.js';
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
  readonly keys: { readonly type: string; readonly bits: number; readonly spkiSha256: string }[];
}

function flagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & CONTAINER_MAP_VALID_CONTAINER) names.push('valid');
  if (flags & CONTAINER_MAP_DEFAULT_CONTAINER) names.push('default');
  return names;
}

/** The valid containers of the card's cmapfile, with their public keys. */
export async function listContainers(opened: OpenedCard): Promise<ContainerListing[]> {
  const names = await containerNames(opened.session.pluginName);
  const nameOf = (index: number) => [...names].find(([, candidate]) => candidate === index)?.[0] ?? null;
  const records = decodeContainerMap(await opened.session.readFile('mscp', 'cmapfile'));
  const listings: ContainerListing[] = [];
  for (const [index, record] of records.entries()) {
    if ((record.flags & CONTAINER_MAP_VALID_CONTAINER) === 0) continue;
    let keys: ContainerListing['keys'] = [];
    try {
      keys = (await containerKeys(opened.session, index)).map((key) => ({
        type:
          key.algorithm === 'RSA' ? `RSA ${key.certificateKind === 'ksc' ? 'signature' : 'exchange'}` : key.algorithm,
        bits: key.bits,
        spkiSha256: createHash('sha256')
          .update(key.publicKey.export({ type: 'spki', format: 'der' }))
          .digest('hex'),
      }));
    } catch (error) {
      if (!ScardError.hasCode(error, 'SCARD_E_NO_KEY_CONTAINER')) throw error;
    }
    listings.push({ index, name: nameOf(index), guid: record.guid, flags: flagNames(record.flags), keys });
  }
  return listings;
}

export const containersCommand: Command = {
  name: 'containers',
  usage: '',
  summary: 'list key containers: index, GUID, flags, key type and size, public key fingerprint',
  examples: ['minidriver containers                    # slots shown by name on PIV (9a, 9c, 9d, 9e)'],
  options: {},
  run: (context) =>
    withCard(context, async (opened) => {
      const containers = await listContainers(opened);
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
      const files = await opened.session.enumFiles('mscp');
      for (const name of files) {
        const parsed = parseCertificateFileName(name);
        if (!parsed) continue;
        let bytes: Uint8Array;
        try {
          bytes = await opened.session.readFile('mscp', name);
        } catch (error) {
          // A slot without a certificate: the file is listed but empty or absent.
          if (ScardError.hasCode(error, 'SCARD_E_FILE_NOT_FOUND')) continue;
          throw error;
        }
        if (bytes.length === 0) continue;
        const der = decodeCertificateFile(bytes);
        const certificate = new X509Certificate(der);
        certificates.push({
          container: parsed.containerIndex,
          containerName: nameOf(parsed.containerIndex),
          file: `mscp/${name}`,
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
