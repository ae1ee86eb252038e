/**
 * The base class of a minidriver built on the kit: the entry points every such plugin answers the same
 * way — the file entry points from its file system ({@link VirtualFileSystem} for a card whose files are
 * synthesised, the card's own for a card that keeps the files, {@link KitFileEntryPoints}), CardDeriveKey / CardDestroyDHAgreement
 * from its {@link DhAgreements}, CardGetProperty / CardSetProperty from the standard properties — and the
 * one wipe policy of DH agreements, applied here rather than in each plugin: agreements are wiped on
 * every CardDeauthenticateEx and on CardDeleteContext. A subclass supplies what is specific to its card.
 *
 * @packageDocumentation
 */
import type {
  AuthenticateExResult,
  CardFileInfo,
  CardPropertyName,
  CardPropertyTypes,
  ChangeAuthenticatorRequest,
  ContainerInfo,
  ContainerPropertyName,
  ContainerPropertyTypes,
  CreateContainerRequest,
  DeriveKeyRequest,
  DhAgreementRequest,
  DirectoryAccessCondition,
  DirectoryName,
  FileAccessCondition,
  PinId,
  PinSet,
  RsaDecryptRequest,
  SignDataRequest,
} from '@minidriver/spec';
import type { DhAgreements } from '../agreements/dh-agreements.js';
import type { VirtualFileSystem } from '../files/virtual-file-system.js';
import {
  getStandardProperty,
  type StandardPropertySource,
  setStandardProperty,
} from '../properties/standard-properties.js';

/**
 * The file entry points of a card (CardReadFile ... CardDeleteDirectory), as the contract has them. A
 * {@link VirtualFileSystem} is one (it ignores the initial size and access conditions: its files are fixed);
 * a card that keeps the logical files itself (GIDS) implements them on its own file system.
 */
export interface KitFileEntryPoints {
  readFile(directory: DirectoryName, name: string): Promise<Uint8Array>;
  writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void>;
  createFile(
    directory: DirectoryName,
    name: string,
    initialSize: number,
    accessCondition: FileAccessCondition,
  ): Promise<void>;
  deleteFile(directory: DirectoryName, name: string): Promise<void>;
  enumFiles(directory: DirectoryName): Promise<string[]>;
  getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo>;
  createDirectory(name: string, accessCondition: DirectoryAccessCondition): Promise<void>;
  deleteDirectory(name: string): Promise<void>;
}

/** The PIN entry points of a card (CardAuthenticateEx, CardChangeAuthenticatorEx, CardDeauthenticateEx). */
export interface KitPinEntryPoints {
  authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult>;
  changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void>;
  /** The card's logout of `pinSet` (the kit wipes the agreements before). */
  deauthenticateEx(pinSet: PinSet): Promise<void>;
  /** Forgets what a started authentication holds (an outstanding challenge); called at CardDeleteContext. */
  forgetPending?(): void;
}

/** The private-key entry points of a card and its agreements (a card without one throws UNSUPPORTED_FEATURE). */
export interface KitCryptoEntryPoints {
  readonly agreements: DhAgreements;
  signData(request: SignDataRequest): Promise<Uint8Array>;
  rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array>;
  constructDHAgreement(request: DhAgreementRequest): Promise<number>;
}

/** The container entry points of a card (a card that cannot delete keys throws UNSUPPORTED_FEATURE). */
export interface KitContainerEntryPoints {
  getContainerInfo(containerIndex: number): Promise<ContainerInfo>;
  createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void>;
  deleteContainer(containerIndex: number): Promise<void>;
  getContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<ContainerPropertyTypes[K]>;
}

/**
 * What a plugin built on the kit inherits. Implement {@link files}, {@link containers}, {@link pins}, {@link crypto},
 * {@link propertySource} (and {@link releaseContext} when the card keeps more state than its PINs' pending
 * challenge), plus the card-specific entry points of `Minidriver`
 * (capabilities, free space, key sizes).
 *
 * @example
 * ```ts
 * class MyMinidriver extends KitMinidriver implements Minidriver {
 *   protected readonly files = new VirtualFileSystem({ ... });
 *   protected readonly pins = new MyPins(...);       // KitPinEntryPoints
 *   protected readonly crypto = new MyCrypto(...);   // KitCryptoEntryPoints, with its DhAgreements
 *   ...
 * }
 * ```
 */
export abstract class KitMinidriver {
  /** The card's logical file system. */
  protected abstract readonly files: KitFileEntryPoints;
  /** The card's container entry points. */
  protected abstract readonly containers: KitContainerEntryPoints;
  /** The card's PIN entry points. */
  protected abstract readonly pins: KitPinEntryPoints;
  /** The card's private-key entry points and the DH agreements of this context. */
  protected abstract readonly crypto: KitCryptoEntryPoints;
  /** What the standard properties are answered from. */
  protected abstract propertySource(): StandardPropertySource;
  /**
   * Releases the card-specific state of the context (CardDeleteContext, after the agreements and the PINs'
   * pending challenge are forgotten); nothing by default.
   */
  protected async releaseContext(): Promise<void> {}

  /** CardDeleteContext: agreements wiped, a pending challenge forgotten, then the card's own state released. */
  async deleteContext(): Promise<void> {
    this.crypto.agreements.clear();
    this.pins.forgetPending?.();
    await this.releaseContext();
  }

  /** CardGetContainerInfo. */
  getContainerInfo(containerIndex: number): Promise<ContainerInfo> {
    return this.containers.getContainerInfo(containerIndex);
  }

  /** CardCreateContainerEx (the session serves CardCreateContainer from it). */
  createContainerEx(containerIndex: number, request: CreateContainerRequest): Promise<void> {
    return this.containers.createContainerEx(containerIndex, request);
  }

  /** CardDeleteContainer. */
  deleteContainer(containerIndex: number): Promise<void> {
    return this.containers.deleteContainer(containerIndex);
  }

  /** CardGetContainerProperty. */
  getContainerProperty<K extends ContainerPropertyName>(index: number, name: K): Promise<ContainerPropertyTypes[K]> {
    return this.containers.getContainerProperty(index, name);
  }

  /** CardAuthenticateEx. */
  authenticateEx(pinId: PinId, flags: number, pinData: Uint8Array | undefined): Promise<AuthenticateExResult> {
    return this.pins.authenticateEx(pinId, flags, pinData);
  }

  /** CardChangeAuthenticatorEx. */
  changeAuthenticatorEx(request: ChangeAuthenticatorRequest): Promise<void> {
    return this.pins.changeAuthenticatorEx(request);
  }

  /** CardDeauthenticateEx: agreements were computed under an authentication, so they are wiped first. */
  async deauthenticateEx(pinSet: PinSet): Promise<void> {
    this.crypto.agreements.clear();
    await this.pins.deauthenticateEx(pinSet);
  }

  /** CardSignData. */
  signData(request: SignDataRequest): Promise<Uint8Array> {
    return this.crypto.signData(request);
  }

  /** CardRSADecrypt. */
  rsaDecrypt(request: RsaDecryptRequest): Promise<Uint8Array> {
    return this.crypto.rsaDecrypt(request);
  }

  /** CardConstructDHAgreement. */
  constructDHAgreement(request: DhAgreementRequest): Promise<number> {
    return this.crypto.constructDHAgreement(request);
  }

  readFile(directory: DirectoryName, name: string): Promise<Uint8Array> {
    return this.files.readFile(directory, name);
  }

  writeFile(directory: DirectoryName, name: string, data: Uint8Array): Promise<void> {
    return this.files.writeFile(directory, name, data);
  }

  createFile(
    directory: DirectoryName,
    name: string,
    initialSize: number,
    accessCondition: FileAccessCondition,
  ): Promise<void> {
    return this.files.createFile(directory, name, initialSize, accessCondition);
  }

  deleteFile(directory: DirectoryName, name: string): Promise<void> {
    return this.files.deleteFile(directory, name);
  }

  enumFiles(directory: DirectoryName): Promise<string[]> {
    return this.files.enumFiles(directory);
  }

  getFileInfo(directory: DirectoryName, name: string): Promise<CardFileInfo> {
    return this.files.getFileInfo(directory, name);
  }

  createDirectory(name: string, accessCondition: DirectoryAccessCondition): Promise<void> {
    return this.files.createDirectory(name, accessCondition);
  }

  deleteDirectory(name: string): Promise<void> {
    return this.files.deleteDirectory(name);
  }

  /** CardDeriveKey on one of this context's agreements. */
  async deriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
    return this.crypto.agreements.derive(request);
  }

  /** CardDestroyDHAgreement. */
  async destroyDHAgreement(agreementIndex: number): Promise<void> {
    this.crypto.agreements.destroy(agreementIndex);
  }

  /** CardGetProperty: the standard card properties. */
  getProperty<K extends CardPropertyName>(name: K, flags: number): Promise<CardPropertyTypes[K]> {
    return getStandardProperty(this.propertySource(), name, flags);
  }

  /** CardSetProperty: CP_PARENT_WINDOW and CP_PIN_CONTEXT_STRING accepted, the rest unsupported. */
  async setProperty<K extends CardPropertyName>(name: K): Promise<void> {
    setStandardProperty(name);
  }
}
