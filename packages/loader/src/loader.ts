/**
 * The Loader: discovers plugin manifests, resolves a card's ATR (then its AIDs) to one plugin,
 * applies the trust policy, imports only that plugin, and opens a CardSession with it.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CardSession } from '@minidriver/core';
import { type ParsedAtr, parseAtr } from '@minidriver/iso7816';
import type { ApduTraceHook, ManifestSimulator, MinidriverPlugin, PluginManifest, Transport } from '@minidriver/spec';
import { requireParameter, ScardError, toHex } from '@minidriver/spec';
import { type ProbeStep, planKey, planProbe, probeAids } from './aid-probe.js';
import { findApplicationRoot } from './application-root.js';
import { AtrIndex } from './atr-index.js';
import { describeAtrPattern } from './atr-pattern.js';
import { DEFAULT_CARD_DATABASE, loadCardDatabase } from './card-database.js';
import {
  DEFAULT_DEPENDENCY_FIELDS,
  discoverDirectory,
  discoverInstalled,
  findPackageDir,
  findUndeclaredPlugins,
  readPackageJson,
  recordFromPackage,
} from './discovery.js';
import { problemOf, validateManifest } from './manifest.js';
import { openReader } from './owned-reader.js';
import { DEFAULT_CONDITIONS, resolvePackageSubpath, resolvePluginEntry } from './package-entry.js';
import { errorNamingPackage, guardPlugin } from './plugin-guard.js';
import type { LoaderWarning, PluginModule, PluginRecord, PluginSource } from './plugin-record.js';
import { type AtrCandidate, describeChoice, rankCandidates, tiedWithWinner } from './precedence.js';
import { assertTrusted, type TrustPolicy } from './trust.js';

/** Options of a {@link Loader}. */
export interface LoaderOptions {
  /**
   * The application's directory (its package.json lists the dependencies to scan). Default: the nearest
   * package.json above the program's entry point (see {@link findApplicationRoot}), else process.cwd().
   */
  readonly applicationRoot?: string;
  /** Read installed dependencies' manifests. Default true. */
  readonly discoverInstalled?: boolean;
  /** Dependency fields of the application's package.json to read. Default: dependencies, optionalDependencies, devDependencies. */
  readonly dependencyFields?: readonly string[];
  /** Directories whose package folders (and `@scope/` folders) hold plugin packages. */
  readonly pluginDirectories?: readonly string[];
  /** Which plugins may be imported. Default `'installed'`. */
  readonly trust?: TrustPolicy;
  /** Export conditions to try first when resolving a plugin's main export (e.g. `['source']` in a monorepo). */
  readonly conditions?: readonly string[];
  /** Path of pcsc-tools' smartcard_list.txt for {@link Loader.identify}. Default /usr/share/pcsc/smartcard_list.txt. */
  readonly cardDatabase?: string;
  /** Receives every warning (malformed manifests, ATR conflicts ...). Default: process.emitWarning. */
  readonly onWarning?: (warning: LoaderWarning) => void;
}

/** Options of {@link Loader.openCard}. */
export interface OpenCardOptions {
  /** The CARD_DATA version to request; negotiated down to the plugin's current version. Default 7. */
  readonly version?: number;
  /** APDU trace hook handed to the session. */
  readonly trace?: ApduTraceHook;
}

/** A plugin the loader knows, as shown to applications. */
export interface PluginInfo {
  readonly packageName: string;
  readonly packageVersion?: string;
  readonly packageDir?: string;
  readonly source: PluginSource;
  readonly manifest: PluginManifest;
}

/** A simulator named by a plugin's manifest. */
export interface SimulatorInfo {
  /** Its name (`--sim <name>`). */
  readonly name: string;
  readonly packageName: string;
  readonly source: PluginSource;
}

/** A simulator module, imported. */
export interface LoadedSimulator extends SimulatorInfo {
  /** The module's `createSimulator`: a fresh simulated card (a `SimulatedCard` of @minidriver/sim). */
  readonly createSimulator: (options?: { readonly seed?: string }) => unknown;
}

/** One ATR pattern that matched, as reported by resolve/identify. */
export interface MatchedPattern {
  readonly packageName: string;
  readonly source: PluginSource;
  /** The pattern, `..` for ignored bytes. */
  readonly pattern: string;
  readonly exact: boolean;
  /** Mask bits set. */
  readonly specificity: number;
}

/** Which plugin a card goes to, and why. */
export interface Resolution {
  readonly packageName: string;
  /** The manifest's `name`. */
  readonly pluginName: string;
  /** The name passed to the plugin as CARD_DATA's card name: the pattern's name, else the manifest's. */
  readonly cardName: string;
  readonly source: PluginSource;
  /** `atr`: the ATR index; `aid-probe`: a SELECT succeeded; `aid-probe-cache`: an earlier probe of this ATR. */
  readonly method: 'atr' | 'aid-probe' | 'aid-probe-cache';
  /** The reason in words. */
  readonly reason: string;
  /** The AID that answered, for the probe methods. */
  readonly aid?: string;
  /** Every package whose pattern matched, best first (one entry per package). */
  readonly candidates: readonly MatchedPattern[];
  /** Set when two packages matched equally well (see precedence). */
  readonly conflict?: { readonly packages: readonly string[]; readonly message: string };
}

/** What identify() tells about an ATR. */
export interface Identification {
  /** The ATR parsed (convention, interface bytes, protocols, historical bytes, TCK). */
  readonly atr: ParsedAtr;
  /** The plugin that would be chosen, or undefined. */
  readonly resolution?: Resolution;
  /** Why nothing was chosen (no ATR match: AID probing needs the card), when resolution is undefined. */
  readonly unresolvedReason?: string;
  /** The card's names in pcsc-tools' database. */
  readonly names: readonly string[];
  /** Set when the database could not be read. */
  readonly databaseProblem?: string;
}

interface IndexValue {
  readonly record: PluginRecord;
  readonly patternIndex: number;
}

/** Probe results by `<ATR hex>|<plan key>`, for the life of the process. */
const probeCache = new Map<string, { packageName: string; aid: string } | null>();

/**
 * Finds, trusts, imports and opens the plugin for a card.
 *
 * Discovery reads package.json files only. Precedence (see precedence.ts): exact ATR before masked,
 * more specific mask before less, explicit registration before plugin directories before installed
 * dependencies; a remaining tie between packages is reported and broken by package name.
 */
export class Loader {
  private readonly options: LoaderOptions;
  private readonly applicationRoot: string;
  private readonly records = new Map<string, PluginRecord>();
  private readonly warningList: LoaderWarning[] = [];
  private readonly reportedConflicts = new Set<string>();
  private dependencyNames: ReadonlySet<string> = new Set();
  /** Packages the application vouched for (register with `trusted`, registerDependencies). */
  private readonly vouched = new Set<string>();
  private discovery: Promise<void> | undefined;
  private index: AtrIndex<IndexValue> | undefined;

  constructor(options: LoaderOptions = {}) {
    this.options = options;
    this.applicationRoot = resolvePath(options.applicationRoot ?? findApplicationRoot());
  }

  /** The directory whose package.json declares the plugins (given, or found from the entry point). */
  get root(): string {
    return this.applicationRoot;
  }

  /**
   * Why this loader knows the plugins it knows, in one sentence for people: where it looked, how many
   * plugins it found (and which), plugin packages installed but not declared as dependencies, and the
   * plugins the trust policy would refuse. Used by "no plugin for this card" errors.
   */
  async describeDiscovery(): Promise<string> {
    await this.ready();
    const records = [...this.records.values()];
    const parts: string[] = [];
    const declared = this.dependencyNames.size;
    if (records.length === 0) {
      parts.push(
        `0 plugins installed: the application root ${this.applicationRoot} ` +
          (declared === 0
            ? 'has no package.json dependencies'
            : `declares ${declared} dependenc${declared === 1 ? 'y' : 'ies'}, none a minidriver card plugin`),
      );
    } else {
      const names = records.map((record) => record.packageName).sort(compareNames);
      parts.push(`${records.length} plugin(s) known from ${this.applicationRoot}: ${names.join(', ')}`);
    }
    if (this.options.discoverInstalled !== false) {
      const undeclared = await findUndeclaredPlugins(this.applicationRoot, this.dependencyNames);
      if (undeclared.length > 0) {
        parts.push(
          `installed but not declared in ${this.applicationRoot}/package.json (so not used): ${undeclared.join(', ')}`,
        );
      }
    }
    if ((this.options.trust ?? 'installed') === 'installed') {
      const refused = records.filter(
        (record) =>
          record.module === undefined && record.source !== 'installed' && !this.dependencyNames.has(record.packageName),
      );
      if (refused.length > 0) {
        parts.push(
          `refused by trust policy 'installed' (not dependencies): ${refused.map((record) => record.packageName).join(', ')}`,
        );
      }
    }
    return parts.join('; ');
  }

  /** Warnings so far (a copy). */
  get warnings(): LoaderWarning[] {
    return [...this.warningList];
  }

  /**
   * Registers a plugin explicitly: a package name (resolved from the application root), a path to a
   * package directory, or a module object (`{ plugin, manifest }`, or a plugin with `options.manifest`).
   * A malformed manifest is skipped with a warning and undefined is returned.
   */
  async register(
    source: string | PluginModule,
    options: {
      readonly manifest?: PluginManifest;
      /**
       * The application vouches for this package as it does for its own dependencies (e.g. a user named it
       * on a command line): trust policy `'installed'` then admits it. An allowlist policy still applies.
       */
      readonly trusted?: boolean;
    } = {},
  ): Promise<PluginInfo | undefined> {
    const record =
      typeof source === 'string' ? await this.recordFromName(source) : this.recordFromModule(source, options.manifest);
    if (!record) return undefined;
    if (options.trusted) this.vouched.add(record.packageName);
    this.addRecord(record);
    return infoOf(record);
  }

  /**
   * Discovers the plugins declared as dependencies by `<projectDir>/package.json` (resolved from that
   * directory through node_modules), as for the application's own: source `installed`, admitted by trust
   * policy `'installed'`. Returns the plugins found; problems are warnings.
   */
  async registerDependencies(projectDir: string): Promise<PluginInfo[]> {
    const found = await discoverInstalled(resolvePath(this.applicationRoot, projectDir));
    for (const warning of found.warnings) this.warn(warning);
    for (const name of found.dependencyNames) this.vouched.add(name);
    for (const record of found.records) this.addRecord(record);
    return found.records.map(infoOf);
  }

  /** Runs discovery (once) and returns every known plugin, in package-name order. */
  async listPlugins(): Promise<PluginInfo[]> {
    await this.ready();
    return [...this.records.values()].sort((a, b) => compareNames(a.packageName, b.packageName)).map(infoOf);
  }

  /** Runs discovery once; later calls return the same promise. */
  ready(): Promise<void> {
    this.discovery ??= this.discover();
    return this.discovery;
  }

  /** Resolves an ATR through the ATR index (and this process's AID-probe cache); no card needed. */
  async resolve(atr: Uint8Array): Promise<Resolution | undefined> {
    requireParameter(atr instanceof Uint8Array, 'atr must be a Uint8Array');
    await this.ready();
    return this.resolveByAtr(atr) ?? this.resolveFromProbeCache(atr);
  }

  /**
   * The parsed ATR, the plugin that would be chosen and why, and the card's names from pcsc-tools'
   * database (read at run time from options.cardDatabase or /usr/share/pcsc/smartcard_list.txt).
   */
  async identify(atr: Uint8Array): Promise<Identification> {
    const parsed = parseAtr(atr);
    const resolution = await this.resolve(atr);
    let names: string[] = [];
    let databaseProblem: string | undefined;
    try {
      names = (await loadCardDatabase(this.options.cardDatabase ?? DEFAULT_CARD_DATABASE)).lookupNames(atr);
    } catch (error) {
      databaseProblem = problemOf(error);
    }
    const probing = this.probeSteps().length;
    return {
      atr: parsed,
      ...(resolution ? { resolution } : {}),
      ...(resolution
        ? {}
        : {
            unresolvedReason:
              probing > 0
                ? `no registered ATR matches; openCard would probe ${probing} AID(s) on the card`
                : 'no registered ATR matches and no plugin declares AIDs to probe',
          }),
      names,
      ...(databaseProblem === undefined ? {} : { databaseProblem }),
    };
  }

  /**
   * Chooses the plugin for the card behind `transport`: ATR index, then this process's probe cache, then
   * AID probing on the card. SCARD_E_UNKNOWN_CARD when nothing matches.
   */
  async choosePlugin(transport: Transport): Promise<Resolution> {
    await this.ready();
    const atr = transport.atr;
    const known = this.resolveByAtr(atr) ?? this.resolveFromProbeCache(atr);
    if (known) return known;
    const steps = this.probeSteps();
    const key = `${toHex(atr)}|${planKey(steps)}`;
    const outcome = await probeAids(transport, steps);
    const match = outcome.match;
    probeCache.set(key, match ? { packageName: match.record.packageName, aid: toHex(match.aid) } : null);
    if (!match) {
      throw new ScardError(
        'SCARD_E_UNKNOWN_CARD',
        `no plugin for ATR ${toHex(atr, ' ')}: no registered ATR matches and ${outcome.exchanges.length} AID probe(s) failed (${await this.describeDiscovery()})`,
      );
    }
    const tried = outcome.exchanges.map((exchange) => `${exchange.aid}=${exchange.statusWord.toString(16)}`).join(', ');
    return probeResolution(match, 'aid-probe', `no ATR match; SELECT ${toHex(match.aid)} succeeded (probes: ${tried})`);
  }

  /**
   * Imports the resolved plugin's module (once) after the trust policy allows it, and returns its plugin.
   * Refusals are SCARD_W_SECURITY_VIOLATION naming the package and the rule; nothing is imported then.
   */
  async loadPlugin(resolution: Pick<Resolution, 'packageName'>): Promise<MinidriverPlugin> {
    await this.ready();
    const record = this.records.get(resolution.packageName);
    if (!record) throw new ScardError('SCARD_E_INVALID_PARAMETER', `unknown plugin package ${resolution.packageName}`);
    await assertTrusted(record, this.options.trust ?? 'installed', new Set([...this.dependencyNames, ...this.vouched]));
    let plugin: MinidriverPlugin | undefined;
    let declared: unknown;
    try {
      const module = record.module ?? (await this.importRecord(record));
      plugin = pluginOf(module);
      declared = plugin?.cardDataVersions;
    } catch (error) {
      throw errorNamingPackage(record.packageName, error, 'loading its plugin');
    }
    if (!plugin) {
      throw new ScardError(
        'SCARD_E_UNEXPECTED',
        `${record.packageName}: its module exports neither "plugin" nor a default plugin with acquireContext`,
      );
    }
    const claimed = record.manifest.cardDataVersions;
    const versions = declared as { min?: unknown; current?: unknown } | undefined;
    if (versions?.min !== claimed.min || versions?.current !== claimed.current) {
      throw new ScardError(
        'SCARD_E_UNEXPECTED',
        `${record.packageName}: plugin.cardDataVersions ${JSON.stringify(declared) ?? 'undefined'} differ from its manifest's ${JSON.stringify(claimed)}`,
      );
    }
    return guardPlugin(plugin, record.packageName);
  }

  /**
   * Opens the card in `readerOrTransport` (a PC/SC reader name, or a Transport) with the plugin chosen
   * for it, and returns a CardSession at the negotiated CARD_DATA version. Only the chosen plugin's
   * module is imported. A reader opened here is closed again if opening the session fails.
   */
  async openCard(readerOrTransport: string | Transport, options: OpenCardOptions = {}): Promise<CardSession> {
    requireParameter(
      typeof readerOrTransport === 'string'
        ? readerOrTransport !== ''
        : typeof readerOrTransport?.transmit === 'function',
      'openCard needs a reader name or a Transport',
    );
    const owned = typeof readerOrTransport === 'string';
    const transport = owned ? await openReader(readerOrTransport) : readerOrTransport;
    let resolution: Resolution | undefined;
    try {
      resolution = await this.choosePlugin(transport);
      const plugin = await this.loadPlugin(resolution);
      return await CardSession.open(plugin, transport, {
        ...(options.version === undefined ? {} : { version: options.version }),
        cardName: resolution.cardName,
        ...(options.trace ? { trace: options.trace } : {}),
      });
    } catch (error) {
      if (owned) await transport.close().catch(() => undefined);
      throw resolution ? errorNamingPackage(resolution.packageName, error) : ScardError.from(error, 'openCard');
    }
  }

  /** The simulators the known plugins' manifests name (`simulator.name`), one per name, best source first. */
  async listSimulators(): Promise<SimulatorInfo[]> {
    await this.ready();
    const byName = new Map<string, PluginRecord>();
    const records = [...this.records.values()].sort(
      (a, b) => sourceRank(a.source) - sourceRank(b.source) || compareNames(a.packageName, b.packageName),
    );
    for (const record of records) {
      const name = record.manifest.simulator?.name;
      if (name !== undefined && !byName.has(name)) byName.set(name, record);
    }
    return [...byName].map(([name, record]) => ({ name, packageName: record.packageName, source: record.source }));
  }

  /**
   * Imports the simulator module a plugin's manifest names `name` (after the trust policy allows its
   * package, as for the plugin) and returns its `createSimulator`. Undefined when no manifest names it.
   */
  async loadSimulator(name: string): Promise<LoadedSimulator | undefined> {
    const info = (await this.listSimulators()).find((candidate) => candidate.name === name);
    if (!info) return undefined;
    const record = this.records.get(info.packageName) as PluginRecord;
    await assertTrusted(record, this.options.trust ?? 'installed', new Set([...this.dependencyNames, ...this.vouched]));
    const simulator = record.manifest.simulator as ManifestSimulator;
    const file = record.packageDir === undefined ? undefined : await readPackageJson(record.packageDir);
    if (!file) {
      throw new ScardError(
        'SCARD_E_FILE_NOT_FOUND',
        `${record.packageName}: no package directory to load its simulator from`,
      );
    }
    const path = resolvePackageSubpath(file, simulator.module, [
      ...(this.options.conditions ?? []),
      ...DEFAULT_CONDITIONS,
    ]);
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw errorNamingPackage(record.packageName, error, `importing its simulator ${path}`);
    }
    const create = module.createSimulator ?? (module.default as Record<string, unknown> | undefined)?.createSimulator;
    if (typeof create !== 'function') {
      throw new ScardError(
        'SCARD_E_UNEXPECTED',
        `${record.packageName}: its simulator module ${simulator.module} exports no createSimulator function`,
      );
    }
    return { ...info, createSimulator: create as LoadedSimulator['createSimulator'] };
  }

  /** Forgets this process's AID-probe results (all loaders share them). */
  static forgetProbeResults(): void {
    probeCache.clear();
  }

  private async discover(): Promise<void> {
    const fields = this.options.dependencyFields ?? DEFAULT_DEPENDENCY_FIELDS;
    const [installed, ...directories] = await Promise.all([
      this.options.discoverInstalled === false
        ? Promise.resolve({ records: [], warnings: [], dependencyNames: new Set<string>() })
        : discoverInstalled(this.applicationRoot, fields),
      ...(this.options.pluginDirectories ?? []).map((directory) =>
        discoverDirectory(resolvePath(this.applicationRoot, directory)),
      ),
    ]);
    this.dependencyNames = installed.dependencyNames;
    for (const result of [installed, ...directories]) {
      for (const warning of result.warnings) this.warn(warning);
      for (const record of result.records) this.addRecord(record);
    }
  }

  private addRecord(record: PluginRecord): void {
    const existing = this.records.get(record.packageName);
    if (existing) {
      const keepNew = sourceRank(record.source) <= sourceRank(existing.source);
      const kept = keepNew ? record : existing;
      const dropped = keepNew ? existing : record;
      if (kept.packageDir !== dropped.packageDir && dropped.packageDir !== undefined && kept.packageDir !== undefined) {
        this.warn({
          code: 'duplicate-package',
          packageName: record.packageName,
          message: `${record.packageName}: found in ${dropped.packageDir} (${dropped.source}) and ${kept.packageDir} (${kept.source}); using the ${kept.source} one`,
        });
      }
      if (!keepNew) return;
    }
    this.records.set(record.packageName, record);
    this.index = undefined;
  }

  private buildIndex(): AtrIndex<IndexValue> {
    if (this.index) return this.index;
    const index = new AtrIndex<IndexValue>();
    const records = [...this.records.values()].sort((a, b) => compareNames(a.packageName, b.packageName));
    for (const record of records) {
      record.patterns.forEach(({ pattern }, patternIndex) => {
        index.add(pattern, { record, patternIndex });
      });
    }
    this.index = index;
    return index;
  }

  private resolveByAtr(atr: Uint8Array): Resolution | undefined {
    const hits = this.buildIndex().lookup(atr);
    if (hits.length === 0) return undefined;
    const ranked = rankCandidates(
      hits.map((hit) => {
        const name = hit.value.record.patterns[hit.value.patternIndex]?.name;
        const candidate: AtrCandidate = {
          record: hit.value.record,
          pattern: hit.pattern,
          patternIndex: hit.value.patternIndex,
          ...(name === undefined ? {} : { patternName: name }),
        };
        return candidate;
      }),
    );
    const winner = ranked[0] as AtrCandidate;
    const tied = tiedWithWinner(ranked);
    let conflict: Resolution['conflict'];
    if (tied.length > 1) {
      const packages = tied.map((candidate) => candidate.record.packageName);
      const message =
        `ATR ${toHex(atr, ' ')} matches ${packages.join(' and ')} equally well ` +
        `(${winner.pattern.exact ? 'exact' : `${winner.pattern.specificity} mask bits`}, ${winner.record.source}); ` +
        `chose ${winner.record.packageName} by package name`;
      conflict = { packages, message };
      const key = `${toHex(atr)}|${packages.join(',')}`;
      if (!this.reportedConflicts.has(key)) {
        this.reportedConflicts.add(key);
        this.warn({ code: 'atr-conflict', packageName: winner.record.packageName, message });
      }
    }
    return {
      packageName: winner.record.packageName,
      pluginName: winner.record.manifest.name,
      cardName: winner.patternName ?? winner.record.manifest.name,
      source: winner.record.source,
      method: 'atr',
      reason: describeChoice(winner, ranked),
      candidates: ranked.map((candidate) => ({
        packageName: candidate.record.packageName,
        source: candidate.record.source,
        pattern: describeAtrPattern(candidate.pattern),
        exact: candidate.pattern.exact,
        specificity: candidate.pattern.specificity,
      })),
      ...(conflict ? { conflict } : {}),
    };
  }

  private resolveFromProbeCache(atr: Uint8Array): Resolution | undefined {
    const steps = this.probeSteps();
    const cached = probeCache.get(`${toHex(atr)}|${planKey(steps)}`);
    if (!cached) return undefined;
    const step = steps.find(
      (candidate) => candidate.record.packageName === cached.packageName && toHex(candidate.aid) === cached.aid,
    );
    if (!step) return undefined;
    return probeResolution(
      step,
      'aid-probe-cache',
      `no ATR match; an earlier probe of this ATR found AID ${cached.aid}`,
    );
  }

  private probeSteps(): ProbeStep[] {
    return planProbe([...this.records.values()]);
  }

  private async recordFromName(nameOrPath: string): Promise<PluginRecord | undefined> {
    const isPath = isAbsolute(nameOrPath) || nameOrPath.startsWith('.');
    const packageDir = isPath
      ? resolvePath(this.applicationRoot, nameOrPath)
      : await findPackageDir(nameOrPath, this.applicationRoot);
    if (!packageDir) throw new ScardError('SCARD_E_INVALID_PARAMETER', `plugin package ${nameOrPath} is not installed`);
    const file = await readPackageJson(packageDir);
    if (!file) throw new ScardError('SCARD_E_INVALID_PARAMETER', `${packageDir} has no package.json`);
    const warnings: LoaderWarning[] = [];
    const record = recordFromPackage(file, 'explicit', warnings, isPath ? undefined : nameOrPath);
    for (const warning of warnings) this.warn(warning);
    if (!record && warnings.length === 0) {
      this.warn({
        code: 'malformed-manifest',
        packageName: nameOrPath,
        message: `${nameOrPath}: registered explicitly but its package.json has no "minidriver" manifest`,
      });
    }
    return record;
  }

  private recordFromModule(module: PluginModule, manifest: PluginManifest | undefined): PluginRecord | undefined {
    const plugin = pluginOf(module);
    if (!plugin) throw new ScardError('SCARD_E_INVALID_PARAMETER', 'register(): the module provides no plugin');
    const candidate =
      manifest ?? ('manifest' in module ? (module as { manifest?: PluginManifest }).manifest : undefined);
    const label = `module:${plugin.name}`;
    if (candidate === undefined) {
      throw new ScardError(
        'SCARD_E_INVALID_PARAMETER',
        `register(): ${label} comes without a manifest (pass options.manifest)`,
      );
    }
    try {
      const validated = validateManifest(candidate);
      return { packageName: label, source: 'explicit', module, ...validated };
    } catch (error) {
      this.warn({
        code: 'malformed-manifest',
        packageName: label,
        message: `${label}: malformed manifest skipped: ${problemOf(error)}`,
      });
      return undefined;
    }
  }

  private async importRecord(record: PluginRecord): Promise<PluginModule> {
    const packageDir = record.packageDir as string;
    const file = await readPackageJson(packageDir);
    if (!file)
      throw new ScardError(
        'SCARD_E_FILE_NOT_FOUND',
        `${record.packageName}: package.json disappeared from ${packageDir}`,
      );
    const conditions = [...(this.options.conditions ?? []), ...DEFAULT_CONDITIONS];
    const entry = resolvePluginEntry(file, record.manifest.entry, conditions);
    try {
      return (await import(pathToFileURL(entry).href)) as PluginModule;
    } catch (error) {
      throw errorNamingPackage(record.packageName, error, `importing ${entry}`);
    }
  }

  private warn(warning: LoaderWarning): void {
    this.warningList.push(warning);
    if (this.options.onWarning) this.options.onWarning(warning);
    else process.emitWarning(warning.message, { type: 'MinidriverLoaderWarning', code: warning.code });
  }
}

function probeResolution(step: ProbeStep, method: 'aid-probe' | 'aid-probe-cache', reason: string): Resolution {
  return {
    packageName: step.record.packageName,
    pluginName: step.record.manifest.name,
    cardName: step.record.manifest.name,
    source: step.record.source,
    method,
    reason,
    aid: toHex(step.aid),
    candidates: [],
  };
}

function pluginOf(module: PluginModule | undefined): MinidriverPlugin | undefined {
  if (!module || typeof module !== 'object') return undefined;
  if (isPlugin(module)) return module;
  const { plugin, default: fallback } = module as { plugin?: unknown; default?: unknown };
  if (isPlugin(plugin)) return plugin;
  if (isPlugin(fallback)) return fallback;
  // A CommonJS module imported from ESM puts module.exports under default.
  const nested = (fallback as { plugin?: unknown } | undefined)?.plugin;
  return isPlugin(nested) ? nested : undefined;
}

function isPlugin(value: unknown): value is MinidriverPlugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MinidriverPlugin).acquireContext === 'function' &&
    typeof (value as MinidriverPlugin).name === 'string'
  );
}

function infoOf(record: PluginRecord): PluginInfo {
  return {
    packageName: record.packageName,
    ...(record.packageVersion === undefined ? {} : { packageVersion: record.packageVersion }),
    ...(record.packageDir === undefined ? {} : { packageDir: record.packageDir }),
    source: record.source,
    manifest: record.manifest,
  };
}

function sourceRank(source: PluginSource): number {
  return source === 'explicit' ? 0 : source === 'directory' ? 1 : 2;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

let defaultLoader: Loader | undefined;

/** The process's default loader (application root found from the entry point, trust 'installed'). */
export function getDefaultLoader(): Loader {
  defaultLoader ??= new Loader();
  return defaultLoader;
}

/** {@link Loader.openCard} on the default loader. */
export function openCard(readerOrTransport: string | Transport, options: OpenCardOptions = {}): Promise<CardSession> {
  return getDefaultLoader().openCard(readerOrTransport, options);
}

/** {@link Loader.identify} on the default loader. */
export function identify(atr: Uint8Array): Promise<Identification> {
  return getDefaultLoader().identify(atr);
}
