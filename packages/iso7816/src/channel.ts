/**
 * The card channel: sends command APDUs over a `Transport` and does what neither WinSCard
 * nor pcsc-lite does (docs/spec/iso7816.md §2): command chaining for long data, GET RESPONSE after `61xx`,
 * re-issue with the right Le after `6Cxx`. Each job is one small processor wrapping the next, so
 * each can be tested alone.
 *
 * The channel takes no transaction: the caller (CardSession) holds one around every multi-APDU
 * sequence, so chains and GET RESPONSE loops are never interleaved with another application's commands.
 */
import {
  concatBytes,
  createSecretApduTracker,
  redactCommand,
  redactResponse,
  ScardError,
  type SecretApdu,
  type Transport,
  wipe,
} from '@minidriver/spec';
import {
  CLA_CHAINING,
  type CommandApdu,
  encodeCommandApdu,
  MAX_EXTENDED_DATA,
  MAX_EXTENDED_LE,
  MAX_SHORT_DATA,
  MAX_SHORT_LE,
  parseResponseApdu,
  type ResponseApdu,
} from './apdu.js';
import { SW, statusWordToScardError } from './status-words.js';

/** Anything that sends one command APDU and returns its response. */
export interface ApduSender {
  /** Sends `apdu`; resolves with the (final) response, whatever its status word. Throws only ScardError. */
  send(apdu: CommandApdu): Promise<ResponseApdu>;
}

/** An {@link ApduSender} with the full response handling of docs/spec/iso7816.md §2. */
export interface CardChannel extends ApduSender {
  /**
   * Sends `apdu` and returns the response data when the status word is `9000`; otherwise throws
   * the ScardError of {@link statusWordToScardError} (PIN counter semantics for VERIFY, CHANGE
   * REFERENCE DATA and RESET RETRY COUNTER).
   *
   * @param context Short description for the error message (never a PIN or key).
   */
  transmitOk(apdu: CommandApdu, context?: string): Promise<Uint8Array>;
}

/** Options for {@link createCardChannel}. */
export interface CardChannelOptions {
  /**
   * Use extended-length APDUs when a command needs them (card and reader must both support them;
   * see card capabilities in the ATR). Default false: long data is chained, long responses are
   * fetched with GET RESPONSE. Ignored over T=0, where extended APDUs do not work (docs/spec/iso7816.md §1.2).
   */
  readonly extendedLength?: boolean;
  /** Largest data block of one short command; longer data is chained in blocks of this size (default 255). */
  readonly maxShortData?: number;
  /** INS of GET RESPONSE (default 0xC0). */
  readonly getResponseIns?: number;
  /**
   * The card's secret-bearing commands beyond the ISO ones (the plugin's `secretApdus`): their command buffer
   * is wiped once sent, their raw response once parsed, and `trace` sees them redacted.
   */
  readonly secretApdus?: readonly SecretApdu[];
  /**
   * Sees every APDU exchanged on the wire, redacted by core's redactCommand (VERIFY / CHANGE REFERENCE DATA /
   * RESET RETRY COUNTER data and the `secretApdus` zeroed; secret response data zeroed).
   */
  readonly trace?: (command: Uint8Array, response: Uint8Array) => void;
}

/** INS codes whose data field is a secret (PINs, PUKs): VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER. */
const PIN_INSTRUCTIONS: ReadonlySet<number> = new Set([0x20, 0x24, 0x2c]);

/**
 * Upper bound on GET RESPONSE rounds: the largest response (65,536 bytes) in 256-byte pieces, twice over. A card
 * that answers 61xx forever, or dribbles a few bytes per round, cannot hold the caller for long.
 */
const MAX_GET_RESPONSE_ROUNDS = 512;

/**
 * The most response bytes one command may gather through GET RESPONSE: its Le when the caller asked for a
 * precise length (below 256, or an extended Le), otherwise the extended-length maximum (65,536). A short Le of
 * 256 (`00`) means "all there is" (docs/spec/iso7816.md §2 step 2), so it is bounded by the extended maximum only.
 */
export function responseLimitOf(apdu: Pick<CommandApdu, 'le'>): number {
  const le = apdu.le;
  if (le === undefined || le === MAX_SHORT_LE || le > MAX_EXTENDED_LE || le < 1) return MAX_EXTENDED_LE;
  return le;
}

/** True for the commands whose data field is a PIN or PUK. */
export function isPinCommand(apdu: Pick<CommandApdu, 'ins'>): boolean {
  return PIN_INSTRUCTIONS.has(apdu.ins);
}

/**
 * The bottom processor: encodes the APDU, transmits it, parses the response. With `extended` false
 * it never emits an extended APDU: an Le above 256 is sent as `00` (256) and the rest arrives by
 * 61xx/GET RESPONSE. Data too long for the chosen form is refused (the chaining processor above
 * splits it first).
 */
export function createTransportSender(
  transport: Pick<Transport, 'transmit'>,
  options: { extended?: boolean; trace?: CardChannelOptions['trace']; secretApdus?: readonly SecretApdu[] } = {},
): ApduSender {
  const extended = options.extended === true;
  const rules = options.secretApdus ?? [];
  const secrets = createSecretApduTracker(rules);
  return {
    async send(apdu) {
      const limited: CommandApdu =
        !extended && apdu.le !== undefined && apdu.le > MAX_SHORT_LE ? { ...apdu, le: MAX_SHORT_LE } : apdu;
      if (!extended && (apdu.data?.length ?? 0) > MAX_SHORT_DATA) {
        throw new ScardError(
          'SCARD_E_INVALID_PARAMETER',
          `${apdu.data?.length} data bytes need chaining or extended length`,
        );
      }
      const command = encodeCommandApdu(limited);
      const secret = secrets.classify(command);
      // Redact before the secret command buffer is wiped below.
      const traced = options.trace ? redactCommand(command, rules, secret).command : undefined;
      let responseBytes: Uint8Array;
      try {
        responseBytes = await transport.transmit(command);
      } catch (error) {
        secrets.settle(undefined);
        throw ScardError.from(error, 'transmit');
      } finally {
        if (secret.data || isPinCommand(apdu)) wipe(command);
      }
      secrets.settle(responseBytes);
      if (options.trace && traced) {
        options.trace(traced, secret.response ? redactResponse(responseBytes) : responseBytes.slice());
      }
      try {
        return parseResponseApdu(responseBytes);
      } finally {
        // parseResponseApdu copied the data: the raw buffer of a secret answer is not left behind.
        if (secret.response) wipe(responseBytes);
      }
    },
  };
}

/**
 * Command chaining (ISO 7816-4 §5.1.1.1, docs/spec/iso7816.md §2 step 3): data longer than `maxData` goes in
 * blocks of `maxData` bytes; every block but the last has CLA | 0x10 and no Le, and must answer
 * `9000`. Any other status word fails the whole command and the rest of the chain is not sent: an error
 * or warning status word is returned at once; `61xx` or `6Cxx` (which the processors above would follow
 * and could turn into a final `9000`) throws SCARD_E_UNEXPECTED, because the card did not take the chain.
 * The last block carries the original CLA and Le.
 */
export function createChainingSender(next: ApduSender, maxData: number): ApduSender {
  if (!Number.isInteger(maxData) || maxData < 1 || maxData > MAX_EXTENDED_DATA) {
    throw new ScardError(
      'SCARD_E_INVALID_PARAMETER',
      `chaining block size must be 1..${MAX_EXTENDED_DATA}, got ${maxData}`,
    );
  }
  return {
    async send(apdu) {
      const data = apdu.data;
      if (data === undefined || data.length <= maxData) return next.send(apdu);
      let offset = 0;
      for (; data.length - offset > maxData; offset += maxData) {
        // subarray, not slice: no extra copy of possibly secret data.
        const block: CommandApdu = {
          cla: apdu.cla | CLA_CHAINING,
          ins: apdu.ins,
          p1: apdu.p1,
          p2: apdu.p2,
          data: data.subarray(offset, offset + maxData),
        };
        const response = await next.send(block);
        if (response.statusWord === SW.SUCCESS) continue;
        const group = response.statusWord >> 8;
        if (group === 0x61 || group === 0x6c) {
          wipe(response.data);
          throw new ScardError(
            'SCARD_E_UNEXPECTED',
            `card answered ${response.statusWord.toString(16).padStart(4, '0')} to block ${offset / maxData + 1} of a chained command; the command did not complete`,
          );
        }
        return response;
      }
      return next.send({ ...apdu, data: data.subarray(offset) });
    },
  };
}

/**
 * `6Cxx` handling (docs/spec/iso7816.md §2 step 1): the card says the exact Le is xx (`00` = 256); re-send the
 * same command once with that Le.
 */
export function createWrongLengthSender(next: ApduSender): ApduSender {
  return {
    async send(apdu) {
      const response = await next.send(apdu);
      if (response.statusWord >> 8 !== 0x6c) return response;
      const exactLength = response.statusWord & 0xff || 256;
      return next.send({ ...apdu, le: exactLength });
    },
  };
}

/**
 * `61xx` handling (docs/spec/iso7816.md §2 step 2): while the card says xx more bytes are available, send
 * GET RESPONSE (`00 C0 00 00 xx`, xx = 00 meaning 256) and append the data. The final status word
 * is the one of the last GET RESPONSE. The whole response is bounded by {@link responseLimitOf} and the
 * rounds by 512: past either, SCARD_E_COMM_DATA_LOST (nothing gathered is kept).
 */
export function createGetResponseSender(next: ApduSender, getResponseIns = 0xc0): ApduSender {
  return {
    async send(apdu) {
      let response = await next.send(apdu);
      if (response.statusWord >> 8 !== 0x61) return response;
      const parts: Uint8Array[] = [response.data];
      // GET RESPONSE goes on the same logical channel, without chaining or SM bits.
      const cla = (apdu.cla & 0x80) === 0 ? apdu.cla & 0x03 : 0x00;
      const limit = responseLimitOf(apdu);
      let total = response.data.length;
      let rounds = 0;
      const giveUp = (why: string): never => {
        wipe(...parts);
        throw new ScardError('SCARD_E_COMM_DATA_LOST', why);
      };
      while (response.statusWord >> 8 === 0x61) {
        // 61xx announces at least one more byte.
        if (total >= limit) giveUp(`card response exceeds ${limit} bytes`);
        if (++rounds > MAX_GET_RESPONSE_ROUNDS) {
          giveUp(`card still answers 61xx after ${MAX_GET_RESPONSE_ROUNDS} GET RESPONSE`);
        }
        const available = response.statusWord & 0xff || 256;
        response = await next.send({ cla, ins: getResponseIns, p1: 0, p2: 0, le: available });
        parts.push(response.data);
        total += response.data.length;
      }
      if (total > limit) giveUp(`card response exceeds ${limit} bytes`);
      const data = concatBytes(...parts);
      // The parts may hold secrets (decrypted keys); only the concatenation survives.
      wipe(...parts);
      return { data, statusWord: response.statusWord };
    },
  };
}

/**
 * Builds the channel every plugin uses: GET RESPONSE over 6Cxx re-issue over chaining over the
 * transport. Over T=0 extended length is never used.
 */
export function createCardChannel(transport: Transport, options: CardChannelOptions = {}): CardChannel {
  const maxShortData = options.maxShortData ?? MAX_SHORT_DATA;
  if (!Number.isInteger(maxShortData) || maxShortData < 1 || maxShortData > MAX_SHORT_DATA) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `maxShortData must be 1..${MAX_SHORT_DATA}, got ${maxShortData}`);
  }
  const getResponseIns = options.getResponseIns ?? 0xc0;
  if (!Number.isInteger(getResponseIns) || getResponseIns < 0 || getResponseIns > 0xff) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', `getResponseIns must be a byte, got ${getResponseIns}`);
  }
  const extended = options.extendedLength === true && transport.protocol !== 'T0';
  const wire = createTransportSender(transport, {
    extended,
    ...(options.trace ? { trace: options.trace } : {}),
    ...(options.secretApdus ? { secretApdus: options.secretApdus } : {}),
  });
  const chained = createChainingSender(wire, extended ? MAX_EXTENDED_DATA : maxShortData);
  const sender = createGetResponseSender(createWrongLengthSender(chained), getResponseIns);
  return {
    send: (apdu) => sender.send(apdu),
    async transmitOk(apdu, context) {
      const response = await sender.send(apdu);
      if (response.statusWord === SW.SUCCESS) return response.data;
      wipe(response.data);
      throw statusWordToScardError(response.statusWord, context, { pinCommand: isPinCommand(apdu) });
    },
  };
}
