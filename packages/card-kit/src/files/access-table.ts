/**
 * The access conditions of the standard logical files, in one table (docs/spec/minidriver.md §4.2, the
 * file table of the Smart Card Minidriver Specification). A plugin built on the kit answers
 * CardGetFileInfo from here and nowhere else.
 *
 * @packageDocumentation
 */
import { FileAccessCondition } from '@minidriver/spec';

/** The kinds of file a minidriver's logical file system holds. */
export type StandardFileKind = 'cardid' | 'cardcf' | 'cardapps' | 'cmapfile' | 'certificate' | 'msroots';

/**
 * Who may write the certificate files: on cards whose certificate objects are written under the
 * administrator's authentication (PIV: management key; OpenPGP: PW3) it is `admin`; on cards where
 * the user writes them (the specification's default) it is `user`.
 */
export type CertificateWriter = 'admin' | 'user';

/**
 * The access condition of each standard file (docs/spec/minidriver.md §4.2): `cardid` and `cardapps` E(R) A(RW); `cardcf`,
 * `cmapfile` and `msroots` E(R) U(RW) — the caller (Base CSP / KSP) rewrites them after its own
 * changes; certificate files per {@link CertificateWriter}.
 */
export function fileAccessCondition(
  kind: StandardFileKind,
  certificateWriter: CertificateWriter = 'user',
): FileAccessCondition {
  switch (kind) {
    case 'cardid':
    case 'cardapps':
      return FileAccessCondition.EveryoneReadAdminWriteAc;
    case 'cardcf':
    case 'cmapfile':
    case 'msroots':
      return FileAccessCondition.EveryoneReadUserWriteAc;
    case 'certificate':
      return certificateWriter === 'admin'
        ? FileAccessCondition.EveryoneReadAdminWriteAc
        : FileAccessCondition.EveryoneReadUserWriteAc;
  }
}

/** The table itself, for documentation and conformance checks (certificates written by the user). */
export const STANDARD_FILE_ACCESS: Readonly<Record<StandardFileKind, FileAccessCondition>> = Object.freeze({
  cardid: fileAccessCondition('cardid'),
  cardcf: fileAccessCondition('cardcf'),
  cardapps: fileAccessCondition('cardapps'),
  cmapfile: fileAccessCondition('cmapfile'),
  certificate: fileAccessCondition('certificate'),
  msroots: fileAccessCondition('msroots'),
});
