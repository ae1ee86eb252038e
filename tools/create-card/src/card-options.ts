/**
 * What a new card package is made from: the card's name, ATR and AID as the vendor gives them, checked,
 * and the names derived from them (npm package, simulator name).
 *
 * @packageDocumentation
 */

/** A usage mistake: the message says what to change; the program exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What the vendor asks for. */
export interface CardRequest {
  /** The directory to create (must not exist, or be empty). */
  readonly directory: string;
  /** The card's name, e.g. "Acme Token". */
  readonly name: string;
  /** The card's ATR in hex (default: one made from the name, for the example simulator). */
  readonly atr?: string;
  /** The card application's AID in hex (default: a proprietary AID made from the name). */
  readonly aid?: string;
  /** The npm package name (default: `minidriver-card-<name>`). */
  readonly packageName?: string;
}

/** Everything the templates need, checked. */
export interface CardProfile {
  readonly directory: string;
  readonly name: string;
  readonly packageName: string;
  /** The simulator's name for `minidriver --sim` (lowercase, dashes). */
  readonly simulatorName: string;
  /** Lowercase hex bytes separated by spaces. */
  readonly atr: string;
  readonly aid: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9 ._-]{0,39}$/;
// npm's rules: lowercase, at most 214 characters, URL-safe, an optional @scope/.
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** `Acme Token` -> `acme-token`. */
export function kebabCase(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Hex text (spaces or colons allowed) to bytes; undefined when it is not whole hex bytes. */
export function parseHex(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\s:]/g, '');
  if (compact.length === 0 || compact.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(compact)) return undefined;
  return Uint8Array.from(compact.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** Bytes as lowercase hex separated by spaces. */
export function spacedHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/**
 * The default ATR of an example card: direct convention, T=0, no interface bytes, and the name's first
 * 15 ASCII letters and digits as historical bytes (`3B 0n` + n bytes, ISO/IEC 7816-3 §8.2). A real card
 * has its own: pass `--atr`.
 */
export function defaultAtr(name: string): Uint8Array {
  const historical = new TextEncoder().encode(name.replace(/[^A-Za-z0-9]/g, '').slice(0, 15) || 'CARD');
  return Uint8Array.of(0x3b, historical.length, ...historical);
}

/**
 * The default AID: `F0` (a proprietary, unregistered RID, ISO/IEC 7816-5) then "MD" and the name's first
 * 8 letters and digits, 5 to 11 bytes.
 */
export function defaultAid(name: string): Uint8Array {
  const tail = new TextEncoder().encode(`MD${name.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}`);
  const aid = Uint8Array.of(0xf0, ...tail);
  return aid.length >= 5 ? aid : Uint8Array.of(...aid, ...new Uint8Array(5 - aid.length));
}

/** Checks a request and derives the profile; a mistake is a UsageError saying what is wrong. */
export function cardProfile(request: CardRequest): CardProfile {
  const name = request.name?.trim() ?? '';
  if (!NAME.test(name)) {
    throw new UsageError(
      `--name "${request.name ?? ''}" must start with a letter and have at most 40 letters, digits, spaces, dots, dashes or underscores`,
    );
  }
  const packageName = request.packageName ?? `minidriver-card-${kebabCase(name)}`;
  if (!PACKAGE_NAME.test(packageName) || packageName.length > 214) {
    throw new UsageError(`--package "${packageName}" is not a valid npm package name (lowercase, optional @scope/)`);
  }
  const simulatorName = kebabCase(name).slice(0, 32).replace(/-+$/, '');
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(simulatorName)) {
    throw new UsageError(`--name "${name}" gives no usable simulator name`);
  }
  let atr = defaultAtr(name);
  if (request.atr !== undefined) {
    const parsed = parseHex(request.atr);
    if (!parsed) throw new UsageError(`--atr "${request.atr}" is not hex bytes`);
    if (parsed.length < 2 || parsed.length > 33) {
      throw new UsageError(`--atr has ${parsed.length} bytes; an ATR has 2 to 33 (ISO/IEC 7816-3)`);
    }
    if (parsed[0] !== 0x3b && parsed[0] !== 0x3f) {
      throw new UsageError(
        `--atr must start with TS = 3B (direct) or 3F (inverse), not ${spacedHex(parsed.slice(0, 1))}`,
      );
    }
    atr = parsed;
  }
  let aid = defaultAid(name);
  if (request.aid !== undefined) {
    const parsed = parseHex(request.aid);
    if (!parsed) throw new UsageError(`--aid "${request.aid}" is not hex bytes`);
    if (parsed.length < 5 || parsed.length > 16) {
      throw new UsageError(`--aid has ${parsed.length} bytes; an AID has 5 to 16 (ISO/IEC 7816-4)`);
    }
    aid = parsed;
  }
  if (typeof request.directory !== 'string' || request.directory.trim() === '') {
    throw new UsageError(
      'give the directory to create, e.g. `npm create minidriver-card@latest my-card -- --name "My Card"`',
    );
  }
  return { directory: request.directory, name, packageName, simulatorName, atr: spacedHex(atr), aid: spacedHex(aid) };
}
