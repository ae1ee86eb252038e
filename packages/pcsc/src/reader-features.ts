/**
 * PC/SC part 10 reader features: the answer to CM_IOCTL_GET_FEATURE_REQUEST is a list of
 * TLV entries `tag (1 byte) | length (1 byte, always 4) | control code (4 bytes, big-endian)`.
 */
import type { ReaderFeatures } from '@minidriver/spec';
import { ScardError } from '@minidriver/spec';
import { FEATURE_MODIFY_PIN_DIRECT, FEATURE_VERIFY_PIN_DIRECT } from './constants.js';

/** Every feature a reader announced, by PC/SC part 10 tag, with the control code to use. */
export type ReaderFeatureMap = ReadonlyMap<number, number>;

/**
 * Parses a CM_IOCTL_GET_FEATURE_REQUEST response. Throws SCARD_E_INVALID_VALUE when an entry is truncated
 * or its length is not 4.
 */
export function parseFeatureList(response: Uint8Array): ReaderFeatureMap {
  const features = new Map<number, number>();
  let offset = 0;
  while (offset < response.length) {
    const tag = response[offset] as number;
    const length = response[offset + 1];
    if (length === undefined || offset + 2 + length > response.length) {
      throw new ScardError(
        'SCARD_E_INVALID_VALUE',
        `feature list entry 0x${tag.toString(16)} at offset ${offset} is truncated`,
      );
    }
    if (length !== 4) {
      throw new ScardError('SCARD_E_INVALID_VALUE', `feature 0x${tag.toString(16)} has length ${length}, expected 4`);
    }
    const view = new DataView(response.buffer, response.byteOffset + offset + 2, 4);
    features.set(tag, view.getUint32(0, false));
    offset += 6;
  }
  return features;
}

/** Encodes a feature map the way a reader sends it (the inverse of {@link parseFeatureList}). */
export function encodeFeatureList(features: ReaderFeatureMap): Uint8Array {
  const encoded = new Uint8Array(features.size * 6);
  let offset = 0;
  for (const [tag, code] of features) {
    encoded[offset] = tag & 0xff;
    encoded[offset + 1] = 4;
    new DataView(encoded.buffer).setUint32(offset + 2, code >>> 0, false);
    offset += 6;
  }
  return encoded;
}

/** The secure PIN entry features core's Transport exposes, taken from a feature map. */
export function toReaderFeatures(features: ReaderFeatureMap): ReaderFeatures {
  const verifyPinDirect = features.get(FEATURE_VERIFY_PIN_DIRECT);
  const modifyPinDirect = features.get(FEATURE_MODIFY_PIN_DIRECT);
  return {
    ...(verifyPinDirect === undefined ? {} : { verifyPinDirect }),
    ...(modifyPinDirect === undefined ? {} : { modifyPinDirect }),
  };
}
