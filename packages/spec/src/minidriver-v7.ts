/**
 * Entry points added by CARD_DATA version 7 (docs/spec/minidriver.md §3.1 slots 54-63): CardCreateContainerEx and the
 * optional secure key injection family (docs/spec/minidriver.md §5.8).
 * Section numbers (§) refer to docs/spec/minidriver.md.
 *
 * @packageDocumentation
 */
import type { MinidriverV6 } from './minidriver-v6.js';
import type { CardEncryptedData, CardKeyHandle, CreateContainerRequest } from './structures.js';

export interface MinidriverV7 extends MinidriverV6 {
  /** CardCreateContainerEx: like createContainer, binding the key to `request.pinId`. */
  createContainerEx?(containerIndex: number, request: CreateContainerRequest): Promise<void>;

  /** MDImportSessionKey (SKI, no-card mode allowed). */
  mdImportSessionKey?(blobType: string, algorithmId: string, input: Uint8Array): Promise<CardKeyHandle>;
  /** MDEncryptData (SKI). */
  mdEncryptData?(
    key: CardKeyHandle,
    secureFunction: string,
    input: Uint8Array,
    flags: number,
  ): Promise<CardEncryptedData[]>;
  /** CardImportSessionKey (SKI). */
  importSessionKey?(
    containerIndex: number,
    padding: unknown,
    blobType: string,
    algorithmId: string,
    input: Uint8Array,
    flags: number,
  ): Promise<CardKeyHandle>;
  /** CardGetSharedKeyHandle (SKI). */
  getSharedKeyHandle?(input: Uint8Array): Promise<{ handle: CardKeyHandle; output?: Uint8Array }>;
  /** CardGetAlgorithmProperty (SKI). */
  getAlgorithmProperty?(algorithmId: string, property: string, flags: number): Promise<Uint8Array>;
  /** CardGetKeyProperty (SKI). */
  getKeyProperty?(key: CardKeyHandle, property: string, flags: number): Promise<Uint8Array>;
  /** CardSetKeyProperty (SKI). */
  setKeyProperty?(key: CardKeyHandle, property: string, value: Uint8Array, flags: number): Promise<void>;
  /** CardDestroyKey (SKI). */
  destroyKey?(key: CardKeyHandle): Promise<void>;
  /** CardProcessEncryptedData (SKI). */
  processEncryptedData?(
    key: CardKeyHandle,
    secureFunction: string,
    data: readonly CardEncryptedData[],
    flags: number,
  ): Promise<Uint8Array>;
}

/** Any version of the contract. */
export type Minidriver = MinidriverV7;
