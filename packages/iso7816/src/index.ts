/**
 * `@minidriver/iso7816` — the ISO/IEC 7816 toolkit every card plugin uses: command and response
 * APDUs (cases 1-4, short and extended), the card channel (chaining, 61xx GET RESPONSE, 6Cxx),
 * status words and their mapping to `ScardError`, BER-TLV, and ATR parsing and matching.
 *
 * @packageDocumentation
 */
export * from './apdu.js';
export * from './atr.js';
export * from './channel.js';
export * from './status-words.js';
export * from './tlv.js';
