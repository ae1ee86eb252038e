/**
 * The card application administration key (PIV key reference 9B): its algorithm, the block cipher
 * the challenge-response protocols use, and the YubiKey defaults.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ScardError } from '@minidriver/spec';

/** Symmetric algorithms a 9B management key can have. */
export type ManagementKeyAlgorithm = '3des' | 'aes128' | 'aes192' | 'aes256';

/** Algorithm details: PIV algorithm id (SP 800-78), key length, cipher block length, node cipher name. */
interface ManagementAlgorithmInfo {
  readonly id: number;
  readonly keyLength: number;
  readonly blockLength: number;
  readonly cipher: string;
}

const ALGORITHMS: Readonly<Record<ManagementKeyAlgorithm, ManagementAlgorithmInfo>> = {
  '3des': { id: 0x03, keyLength: 24, blockLength: 8, cipher: 'des-ede3-ecb' },
  aes128: { id: 0x08, keyLength: 16, blockLength: 16, cipher: 'aes-128-ecb' },
  aes192: { id: 0x0a, keyLength: 24, blockLength: 16, cipher: 'aes-192-ecb' },
  aes256: { id: 0x0c, keyLength: 32, blockLength: 16, cipher: 'aes-256-ecb' },
};

/** The well-known YubiKey factory management key (3DES): 01 02 03 04 05 06 07 08 three times. */
export const DEFAULT_MANAGEMENT_KEY: Uint8Array = Uint8Array.from([
  1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
]);

/** The PIV algorithm identifier of a management key algorithm (03, 08, 0A or 0C). */
export function managementAlgorithmId(algorithm: ManagementKeyAlgorithm): number {
  return ALGORITHMS[algorithm].id;
}

/** The management key algorithm for a PIV algorithm identifier, or undefined when it is not symmetric. */
export function managementAlgorithmFromId(id: number): ManagementKeyAlgorithm | undefined {
  for (const [name, info] of Object.entries(ALGORITHMS)) {
    if (info.id === id) return name as ManagementKeyAlgorithm;
  }
  return undefined;
}

/** Key length in bytes the algorithm requires. */
export function managementKeyLength(algorithm: ManagementKeyAlgorithm): number {
  return ALGORITHMS[algorithm].keyLength;
}

/** Block length in bytes: the size of witnesses, challenges and responses in GENERAL AUTHENTICATE. */
export function managementBlockLength(algorithm: ManagementKeyAlgorithm): number {
  return ALGORITHMS[algorithm].blockLength;
}

/** A management key held by the card. The key bytes never leave this object except through saveState. */
export class ManagementKey {
  readonly algorithm: ManagementKeyAlgorithm;
  readonly #key: Uint8Array;
  /** YubiKey touch requirement (SET MANAGEMENT KEY P2 FE); recorded and reported, never enforced. */
  readonly touchRequired: boolean;

  constructor(algorithm: ManagementKeyAlgorithm, key: Uint8Array, touchRequired = false) {
    const info = ALGORITHMS[algorithm];
    if (info === undefined) {
      throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown management key algorithm ${String(algorithm)}`);
    }
    if (key.length !== info.keyLength) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `a ${algorithm} management key is ${info.keyLength} bytes, got ${key.length}`,
      );
    }
    this.algorithm = algorithm;
    this.#key = Uint8Array.from(key);
    this.touchRequired = touchRequired;
  }

  /** The PIV algorithm identifier of this key. */
  get algorithmId(): number {
    return ALGORITHMS[this.algorithm].id;
  }

  /** The cipher block length. */
  get blockLength(): number {
    return ALGORITHMS[this.algorithm].blockLength;
  }

  /** True when this is the factory default key (3DES 0102..08 x3), as GET METADATA reports it. */
  isDefault(): boolean {
    return this.algorithm === '3des' && timingSafeEqualBytes(this.#key, DEFAULT_MANAGEMENT_KEY);
  }

  /** Encrypts exactly one block in ECB mode without padding. */
  encryptBlock(block: Uint8Array): Uint8Array {
    const cipher = createCipheriv(ALGORITHMS[this.algorithm].cipher, this.#key, null);
    cipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
  }

  /** Decrypts exactly one block in ECB mode without padding. */
  decryptBlock(block: Uint8Array): Uint8Array {
    const decipher = createDecipheriv(ALGORITHMS[this.algorithm].cipher, this.#key, null);
    decipher.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([decipher.update(block), decipher.final()]));
  }

  /** A copy of the key bytes, for persistence only. */
  exportKey(): Uint8Array {
    return Uint8Array.from(this.#key);
  }
}

/** Constant-time comparison of two byte arrays (length is not secret). */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a[index]! ^ b[index]!;
  return difference === 0;
}
