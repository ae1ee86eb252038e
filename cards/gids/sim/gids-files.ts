/**
 * @packageDocumentation
 * The files of the simulated GIDS application (docs/spec/gids.md §2-3): BER-TLV "DO files" (FDB `39`) holding
 * data objects, and key files (FDB `18`) holding one asymmetric key or the admin key, each created from its
 * FCP (`62 { 82 FDB, 83 FID, 8C compact ACL, A5 templates }`). DO files keep at most 30 objects, as GidsApplet
 * does; an empty PUT DATA stores an empty object, and a second empty PUT DATA deletes it.
 */

import { failWith } from '@minidriver/card-kit/sim';
import { decodeTlv, encodeTlv, findTlvValue, SW, type TlvNode } from '@minidriver/iso7816';
import { CompactAcl } from './gids-acl.js';
import { GidsKey, type GidsKeyState } from './gids-keys.js';

/** GidsApplet's limit of data objects per DO file. */
export const MAX_OBJECTS_PER_FILE = 30;

/** File descriptor bytes. */
export const FileDescriptor = { berTlv: 0x39, key: 0x18 } as const;

/** One algorithm template of a key file (`A4` authentication, `B6` signature, `B8` confidentiality). */
export interface KeyTemplate {
  readonly crt: number;
  readonly algorithm: number;
  readonly keyReference: number;
}

/** A DO file. */
export class DoFile {
  readonly kind = 'do';
  readonly fid: number;
  readonly fcp: Uint8Array;
  readonly acl: CompactAcl;
  readonly objects = new Map<number, Uint8Array>();

  constructor(fid: number, fcp: Uint8Array, acl: CompactAcl) {
    this.fid = fid;
    this.fcp = fcp;
    this.acl = acl;
  }

  /** Bytes used by the objects' values. */
  get size(): number {
    let total = 0;
    for (const value of this.objects.values()) total += value.length;
    return total;
  }

  /** Stores `value` under `tag` (see the module comment for empty values); 6A84 past the object limit. */
  put(tag: number, value: Uint8Array): void {
    const existing = this.objects.get(tag);
    if (existing !== undefined && existing.length === 0 && value.length === 0) {
      this.objects.delete(tag);
      return;
    }
    if (existing === undefined && this.objects.size >= MAX_OBJECTS_PER_FILE) failWith(SW.NOT_ENOUGH_MEMORY);
    existing?.fill(0);
    this.objects.set(tag, Uint8Array.from(value));
  }
}

/** A key file: its templates, and the key once generated or imported. */
export class KeyFile {
  readonly kind = 'key';
  readonly fid: number;
  readonly fcp: Uint8Array;
  readonly acl: CompactAcl;
  readonly templates: readonly KeyTemplate[];
  key: GidsKey | undefined;
  /** The admin (symmetric) key value, for a key file with an `A4` template of algorithm 02. */
  symmetricKey: Uint8Array | undefined;

  constructor(fid: number, fcp: Uint8Array, acl: CompactAcl, templates: readonly KeyTemplate[]) {
    this.fid = fid;
    this.fcp = fcp;
    this.acl = acl;
    this.templates = templates;
  }

  /** The key reference of this file (low byte of its FID). */
  get keyReference(): number {
    return this.fid & 0xff;
  }

  /** True when a template of `crt` allows `algorithm` (full algorithm reference byte). */
  allows(crt: number, algorithm: number): boolean {
    return this.templates.some((template) => template.crt === crt && template.algorithm === algorithm);
  }

  /** True when some template names mechanism `mechanism` (the low nibble of its algorithm byte). */
  allowsMechanism(mechanism: number): boolean {
    return this.templates.some((template) => template.crt !== 0xa4 && (template.algorithm & 0x0f) === mechanism);
  }

  /** True for the admin key file (an authentication template with the 3DES algorithm 02). */
  get isSymmetric(): boolean {
    return this.templates.some((template) => template.crt === 0xa4 && template.algorithm === 0x02);
  }
}

export type GidsFile = DoFile | KeyFile;

/** Builds a file from the data of CREATE FILE (6A80 when the FCP is not one the card understands). */
export function fileFromFcp(data: Uint8Array): GidsFile {
  let nodes: TlvNode[];
  try {
    nodes = decodeTlv(data);
  } catch {
    return failWith(SW.INCORRECT_DATA);
  }
  if (nodes.length !== 1 || nodes[0]?.tag !== 0x62) return failWith(SW.INCORRECT_DATA);
  const descriptor = findTlvValue(nodes, 0x62, 0x82);
  const fidBytes = findTlvValue(nodes, 0x62, 0x83);
  const aclBytes = findTlvValue(nodes, 0x62, 0x8c);
  if (descriptor?.length !== 1 || fidBytes?.length !== 2 || aclBytes === undefined) {
    return failWith(SW.INCORRECT_DATA);
  }
  const fid = ((fidBytes[0] as number) << 8) | (fidBytes[1] as number);
  if (fid === 0x3fff || fid === 0x3f00 || fid === 0 || fid === 0xffff) return failWith(SW.INCORRECT_DATA);
  const acl = CompactAcl.decode(aclBytes);
  const fcp = Uint8Array.from(data);
  if (descriptor[0] === FileDescriptor.berTlv) return new DoFile(fid, fcp, acl);
  if (descriptor[0] === FileDescriptor.key) return new KeyFile(fid, fcp, acl, keyTemplates(nodes, fid));
  return failWith(SW.INCORRECT_DATA);
}

function keyTemplates(nodes: readonly TlvNode[], fid: number): KeyTemplate[] {
  const container = nodes[0]?.children?.find((node) => node.tag === 0xa5);
  const templates: KeyTemplate[] = [];
  for (const node of container?.children ?? []) {
    if (node.tag !== 0xa4 && node.tag !== 0xb6 && node.tag !== 0xb8) continue;
    const children = node.children ?? [];
    const algorithm = children.find((child) => child.tag === 0x80)?.value;
    const reference = children.find((child) => child.tag === 0x83 || child.tag === 0x84)?.value;
    if (algorithm?.length !== 1) failWith(SW.INCORRECT_DATA);
    // A template that names another key (OpenSC's signature-key template says 83 01 83) still applies to
    // this file: keys are addressed by their file.
    templates.push({ crt: node.tag, algorithm: algorithm[0] as number, keyReference: reference?.[0] ?? fid & 0xff });
  }
  if (templates.length === 0) failWith(SW.INCORRECT_DATA);
  return templates;
}

/** The persisted form of a file. */
export interface GidsFileState {
  readonly fcp: string;
  readonly objects?: Readonly<Record<string, string>>;
  readonly key?: GidsKeyState;
  readonly symmetricKey?: string;
}

/** A file's persisted form. */
export function fileToState(file: GidsFile): GidsFileState {
  const fcp = Buffer.from(file.fcp).toString('hex');
  if (file.kind === 'do') {
    const objects: Record<string, string> = {};
    for (const [tag, value] of file.objects) objects[tag.toString(16)] = Buffer.from(value).toString('hex');
    return { fcp, objects };
  }
  return {
    fcp,
    ...(file.key ? { key: file.key.toState() } : {}),
    ...(file.symmetricKey ? { symmetricKey: Buffer.from(file.symmetricKey).toString('hex') } : {}),
  };
}

/** Restores a file from its persisted form (throws on anything inconsistent). */
export function fileFromState(state: GidsFileState): GidsFile {
  const file = fileFromFcp(Uint8Array.from(Buffer.from(state.fcp, 'hex')));
  if (file.kind === 'do') {
    for (const [tag, value] of Object.entries(state.objects ?? {})) {
      file.objects.set(Number.parseInt(tag, 16), Uint8Array.from(Buffer.from(value, 'hex')));
    }
  } else {
    if (state.key) file.key = GidsKey.fromState(state.key);
    if (state.symmetricKey) file.symmetricKey = Uint8Array.from(Buffer.from(state.symmetricKey, 'hex'));
  }
  return file;
}

/** `tag L value` of one data object, as GET DATA answers it. */
export function encodeDataObject(tag: number, value: Uint8Array): Uint8Array {
  return encodeTlv(tag, value);
}
