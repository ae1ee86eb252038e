/**
 * @packageDocumentation
 * CK_ATTRIBUTE on the wire. Each attribute type has a value kind that fixes its encoding (p11-kit's
 * `map_attribute_to_value_type`): CK_BBOOL-like types are one byte, CK_ULONG types a uint64, dates an
 * 8-character byte array, templates a nested attribute array, CKA_ALLOWED_MECHANISMS an array of
 * uint64, and everything else (including unknown types) a byte array. An attribute is written as its type
 * (uint32), a validity byte, and for a valid one its native length (uint32) and the encoded value.
 */
import { CKA } from '../pkcs11/constants.js';
import { RpcProtocolError, type WireReader, type WireWriter } from './wire.js';

/** How a value of each attribute type travels. */
export type AttributeKind = 'byte' | 'ulong' | 'bytes' | 'date' | 'attributes' | 'mechanisms';

/** A decoded attribute value. */
export type AttributeValue = number | Uint8Array | readonly Attribute[] | readonly number[];

/** One attribute: `value` is undefined for an attribute marked invalid (length CK_UNAVAILABLE_INFORMATION). */
export interface Attribute {
  readonly type: number;
  readonly value: AttributeValue | undefined;
}

/** The size of CK_ULONG and CK_ATTRIBUTE in the client (LP64): native lengths are counted in these. */
const ULONG_SIZE = 8;
const ATTRIBUTE_SIZE = 24;
/** p11-kit's P11_RPC_MAX_RECURSION_DEPTH for nested templates. */
const MAX_DEPTH = 8;

const BYTE_TYPES = new Set<number>([
  CKA.TOKEN,
  CKA.PRIVATE,
  CKA.TRUSTED,
  CKA.SENSITIVE,
  CKA.ENCRYPT,
  CKA.DECRYPT,
  CKA.WRAP,
  CKA.UNWRAP,
  CKA.SIGN,
  CKA.SIGN_RECOVER,
  CKA.VERIFY,
  CKA.VERIFY_RECOVER,
  CKA.DERIVE,
  CKA.EXTRACTABLE,
  CKA.LOCAL,
  CKA.NEVER_EXTRACTABLE,
  CKA.ALWAYS_SENSITIVE,
  CKA.MODIFIABLE,
  CKA.COPYABLE,
  CKA.SECONDARY_AUTH,
  CKA.ALWAYS_AUTHENTICATE,
  CKA.WRAP_WITH_TRUSTED,
  CKA.RESET_ON_INIT,
  CKA.HAS_RESET,
  CKA.COLOR,
]);

const ULONG_TYPES = new Set<number>([
  CKA.CLASS,
  CKA.CERTIFICATE_TYPE,
  CKA.CERTIFICATE_CATEGORY,
  CKA.JAVA_MIDP_SECURITY_DOMAIN,
  CKA.KEY_TYPE,
  CKA.MODULUS_BITS,
  CKA.PRIME_BITS,
  CKA.SUBPRIME_BITS,
  CKA.VALUE_BITS,
  CKA.VALUE_LEN,
  CKA.KEY_GEN_MECHANISM,
  CKA.AUTH_PIN_FLAGS,
  CKA.HW_FEATURE_TYPE,
  CKA.PIXEL_X,
  CKA.PIXEL_Y,
  CKA.RESOLUTION,
  CKA.CHAR_ROWS,
  CKA.CHAR_COLUMNS,
  CKA.BITS_PER_PIXEL,
  CKA.MECHANISM_TYPE,
]);

/** The value kind of an attribute type (unknown types are byte arrays, as in p11-kit). */
export function attributeKind(type: number): AttributeKind {
  if (BYTE_TYPES.has(type)) return 'byte';
  if (ULONG_TYPES.has(type)) return 'ulong';
  if (type === CKA.WRAP_TEMPLATE || type === CKA.UNWRAP_TEMPLATE || type === CKA.DERIVE_TEMPLATE) return 'attributes';
  if (type === CKA.ALLOWED_MECHANISMS) return 'mechanisms';
  if (type === CKA.START_DATE || type === CKA.END_DATE) return 'date';
  return 'bytes';
}

/** The length the client's C structure has for this value (what C_GetAttributeValue reports). */
export function nativeLength(type: number, value: AttributeValue): number {
  switch (attributeKind(type)) {
    case 'byte':
      return 1;
    case 'ulong':
      return ULONG_SIZE;
    case 'attributes':
      return (value as readonly Attribute[]).length * ATTRIBUTE_SIZE;
    case 'mechanisms':
      return (value as readonly number[]).length * ULONG_SIZE;
    default:
      return (value as Uint8Array).length;
  }
}

function readValue(reader: WireReader, type: number, depth: number): AttributeValue {
  switch (attributeKind(type)) {
    case 'byte':
      return reader.byte();
    case 'ulong':
      return reader.uint64();
    case 'attributes':
      return readAttributes(reader, depth + 1);
    case 'mechanisms': {
      const count = reader.uint32();
      if (count * 8 > reader.remaining) throw new RpcProtocolError('mechanism array longer than the message');
      return Array.from({ length: count }, () => reader.uint64());
    }
    case 'date': {
      const date = reader.byteArray() ?? new Uint8Array(0);
      if (date.length !== 0 && date.length !== 8) throw new RpcProtocolError('a date is 8 characters');
      return date;
    }
    default:
      return reader.byteArray() ?? new Uint8Array(0);
  }
}

/** Reads one attribute (type, validity, length, value). */
export function readAttribute(reader: WireReader, depth = 0): Attribute {
  const type = reader.uint32();
  const validity = reader.byte();
  if (validity === 0) return { type, value: undefined };
  reader.uint32(); // the client's native length: the value's own encoding says how much to read
  return { type, value: readValue(reader, type, depth) };
}

/** Reads an attribute array: a uint32 count, then the attributes. Bounded in count and nesting depth. */
export function readAttributes(reader: WireReader, depth = 0): Attribute[] {
  if (depth >= MAX_DEPTH) throw new RpcProtocolError('attribute templates nested too deep');
  const count = reader.uint32();
  // Every attribute takes at least 5 bytes: a count larger than the message allows is a lie.
  if (count * 5 > reader.remaining) throw new RpcProtocolError('attribute count larger than the message');
  const attributes: Attribute[] = [];
  for (let index = 0; index < count; index++) attributes.push(readAttribute(reader, depth));
  return attributes;
}

/** Writes one attribute; `value` undefined writes it as invalid. */
export function writeAttribute(writer: WireWriter, attribute: Attribute): void {
  writer.uint32(attribute.type);
  if (attribute.value === undefined) {
    writer.byte(0);
    return;
  }
  writer.byte(1);
  writer.uint32(nativeLength(attribute.type, attribute.value));
  writeValue(writer, attribute.type, attribute.value);
}

function writeValue(writer: WireWriter, type: number, value: AttributeValue): void {
  switch (attributeKind(type)) {
    case 'byte':
      writer.byte(value as number);
      return;
    case 'ulong':
      writer.uint64(value as number);
      return;
    case 'attributes':
      writeAttributes(writer, value as readonly Attribute[]);
      return;
    case 'mechanisms':
      writer.uint32((value as readonly number[]).length);
      for (const mechanism of value as readonly number[]) writer.uint64(mechanism);
      return;
    default:
      writer.byteArray(value as Uint8Array);
  }
}

/** Writes an attribute array (count, then each attribute). */
export function writeAttributes(writer: WireWriter, attributes: readonly Attribute[]): void {
  writer.uint32(attributes.length);
  for (const attribute of attributes) writeAttribute(writer, attribute);
}

/**
 * Writes an attribute whose value the client only asked the length of (its buffer was NULL): valid, the
 * native length, and an empty value of the kind (p11-kit's encoders given a NULL pointer).
 */
export function writeAttributeLength(writer: WireWriter, type: number, length: number): void {
  writer.uint32(type).byte(1).uint32(length);
  switch (attributeKind(type)) {
    case 'byte':
      writer.byte(0);
      return;
    case 'ulong':
      writer.uint64(0);
      return;
    case 'attributes':
      writer.uint32(0);
      return;
    case 'mechanisms':
      writer.uint32(0);
      return;
    default:
      writer.byteArray(null);
  }
}
