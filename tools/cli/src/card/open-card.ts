/**
 * Opening "the card" a command works on: the built-in simulator (`--sim`, state kept in a file)
 * or a PC/SC reader (`--reader`, else the first reader with a card), with the plugin the loader
 * chooses from the ATR, APDU counting and optional tracing.
 */

import { CardSession } from '@minidriver/core';
import { errorNamingPackage, type Resolution } from '@minidriver/loader';
import type { PcscCard, PcscContext } from '@minidriver/pcsc';
import {
  ApduRecorder,
  autosaveCard,
  type CardStateLease,
  openCardState,
  recordingTransport,
  SimTransport,
  type SimulatedCard,
} from '@minidriver/sim';
import {
  type ApduTraceHook,
  type MinidriverPlugin,
  ScardError,
  type Transport,
  traceTransport,
} from '@minidriver/spec';
import { UsageError } from '../parse/usage-error.js';
import { createCliLoader, explainTrustRefusal, type PluginChoices } from './cli-loader.js';
import { explainPcscFailure, TRY_SIMULATOR_HINT } from './pcsc-failure.js';
import { listReaderStates } from './readers.js';
import { createSimulator } from './simulators.js';
import { simulatorStateFile } from './state-directory.js';

/** Where the card is. */
export interface CardTarget {
  /** Built-in simulated card name (`piv`, `openpgp`). */
  readonly sim?: string;
  /** PC/SC reader name or index (from `minidriver readers`). */
  readonly reader?: string;
  /** Sees every APDU (redacted). */
  readonly trace?: ApduTraceHook;
  /** Simulator only: keep no state file, start factory-fresh (the demo). */
  readonly ephemeral?: boolean;
  /** Simulator only: seed for the card's non-key randomness. */
  readonly seed?: string;
  /** The plugins to use besides the CLI's own (`--plugin`, MINIDRIVER_PLUGINS, configuration, project). */
  readonly plugins?: PluginChoices;
  /** Simulator only: the state directory from the configuration file (MINIDRIVER_STATE_DIR wins). */
  readonly stateDirectory?: string;
}

/** A transport to the card, before any plugin is chosen (for `apdu`, `identify`). */
export interface ConnectedCard {
  readonly transport: Transport;
  readonly recorder: ApduRecorder;
  readonly simulated: boolean;
  readonly readerName: string;
  /**
   * Ends the connection. For a simulator with a state file: waits for the last save and releases the
   * state lock; throws only when the card's state could not be saved (see {@link useCard}).
   */
  close(): Promise<void>;
}

/** An open session on the card. */
export interface OpenedCard extends ConnectedCard {
  readonly session: CardSession;
  readonly resolution: Resolution;
}

/** Connects to the card described by `target` (no plugin yet). */
export async function connectCard(target: CardTarget): Promise<ConnectedCard> {
  const recorder = new ApduRecorder();
  if (target.sim !== undefined) return connectSimulator(target.sim, recorder, target);
  return connectReader(target.reader, recorder);
}

/**
 * The simulator with its state file: the file is locked for the whole command (concurrent invocations
 * take turns, none loses another's change), checked writable before the card runs anything, and every
 * APDU that changes the card is saved before its answer is returned.
 */
async function connectSimulator(name: string, recorder: ApduRecorder, target: CardTarget): Promise<ConnectedCard> {
  const fresh: SimulatedCard = await createSimulator(
    name,
    target.seed === undefined ? {} : { seed: target.seed },
    target.plugins,
  );
  let lease: CardStateLease | undefined;
  let card = fresh;
  if (!target.ephemeral) {
    lease = await openCardState(fresh, simulatorStateFile(name, process.env, target.stateDirectory));
    card = autosaveCard(fresh, lease.path);
  }
  const transport = new SimTransport(card, { recorder, readerName: `Simulated ${card.name} (built-in)` });
  const saving = card === fresh ? undefined : (card as ReturnType<typeof autosaveCard>);
  return {
    transport,
    recorder,
    simulated: true,
    readerName: transport.readerName,
    close: async () => {
      try {
        await transport.close();
        await saving?.flush();
      } finally {
        lease?.release();
      }
    },
  };
}

/**
 * Runs `work` on `connected` and closes it whatever happens. A close failure (a simulator whose state could
 * not be saved) never hides the work's own error: it is added to that error's message, code and retries
 * kept. After successful work it is the error, since the card's change did not reach its state file.
 */
export async function useCard<C extends ConnectedCard, T>(connected: C, work: (card: C) => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work(connected);
  } catch (error) {
    const closeError = await connected.close().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (closeError === undefined) throw error;
    const original = ScardError.from(error);
    throw new ScardError(original.code, `${messageOf(original)}; also: ${messageOf(ScardError.from(closeError))}`, {
      ...(original.retriesLeft === undefined ? {} : { retriesLeft: original.retriesLeft }),
      ...(original.statusWord === undefined ? {} : { statusWord: original.statusWord }),
      cause: error,
    });
  }
  await connected.close();
  return result;
}

function messageOf(error: ScardError): string {
  return error.message.startsWith(`${error.name}: `) ? error.message.slice(error.name.length + 2) : error.message;
}

async function connectReader(reader: string | undefined, recorder: ApduRecorder): Promise<ConnectedCard> {
  let context: PcscContext;
  try {
    const { PcscContext } = await import('@minidriver/pcsc');
    context = await PcscContext.establish();
  } catch (error) {
    throw explainPcscFailure(error);
  }
  let card: PcscCard;
  try {
    const readerName = await chooseReader(context, reader);
    card = await context.connect(readerName, { share: 'shared' });
  } catch (error) {
    await context.release().catch(() => undefined);
    throw explainPcscFailure(error);
  }
  return {
    transport: recordingTransport(card, recorder),
    recorder,
    simulated: false,
    readerName: card.readerName,
    close: async () => {
      await card.close().catch(() => undefined);
      await context.release().catch(() => undefined);
    },
  };
}

/** `--reader` as an index or a name; without it, the first reader with a card. */
async function chooseReader(context: PcscContext, reader: string | undefined): Promise<string> {
  const states = await listReaderStates(context);
  if (states.length === 0) throw new ScardError('SCARD_E_NO_READERS_AVAILABLE', 'no reader');
  if (reader !== undefined) {
    if (/^\d+$/.test(reader)) {
      const byIndex = states[Number(reader)];
      if (!byIndex) throw new UsageError(`there are only ${states.length} reader(s) (run \`minidriver readers\`)`);
      return byIndex.name;
    }
    const byName = states.find((state) => state.name === reader) ?? states.find((state) => state.name.includes(reader));
    if (!byName)
      throw new ScardError('SCARD_E_UNKNOWN_READER', `no reader named "${reader}" (run \`minidriver readers\`)`);
    return byName.name;
  }
  const withCard = states.find((state) => state.cardPresent);
  if (!withCard)
    throw new ScardError('SCARD_E_NO_SMARTCARD', `no card in any of ${states.length} reader(s); ${TRY_SIMULATOR_HINT}`);
  return withCard.name;
}

/** Connects, chooses the plugin by ATR (or AID probe), and opens a CardSession at `version`. */
export async function openCardSession(
  target: CardTarget,
  options: {
    readonly version?: number;
    /** Replaces the loaded plugin (the demo uses the same package's factory with a session cache). */
    readonly adaptPlugin?: (plugin: MinidriverPlugin, resolution: Resolution) => MinidriverPlugin;
  } = {},
): Promise<OpenedCard> {
  const connected = await connectCard(target);
  try {
    const loader = await createCliLoader(target.plugins);
    const resolution = await loader.choosePlugin(connected.transport);
    const loaded = await loader.loadPlugin(resolution).catch(async (error: unknown) => {
      throw await explainTrustRefusal(error, loader, target.plugins ?? {});
    });
    const plugin = options.adaptPlugin ? options.adaptPlugin(loaded, resolution) : loaded;
    const session = await CardSession.open(plugin, connected.transport, {
      cardName: resolution.cardName,
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(target.trace ? { trace: target.trace } : {}),
    }).catch((error: unknown) => {
      throw errorNamingPackage(resolution.packageName, error);
    });
    return {
      ...connected,
      // The CLI's own exchanges (PIN retry probes) are traced like the session's.
      transport: target.trace
        ? traceTransport(connected.transport, target.trace, plugin.secretApdus ?? [])
        : connected.transport,
      session,
      resolution,
      close: async () => {
        try {
          await session.close();
        } finally {
          await connected.close();
        }
      },
    };
  } catch (error) {
    // The error of opening is the one to report; the card changed nothing worth a second message.
    await connected.close().catch(() => undefined);
    throw error;
  }
}
