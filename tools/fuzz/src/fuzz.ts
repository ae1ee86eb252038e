/**
 * The fuzz loop: each iteration runs one target's whole flow on a fresh copy of its prepared card, through
 * a transport whose answers a {@link ResponseMutator} corrupts. Every session call must end in a result or a
 * ScardError; anything else is a finding. A flow that keeps sending APDUs past its budget is a hang.
 *
 * @packageDocumentation
 */
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { interceptTransmit, ScardError } from '@minidriver/spec';
import { createResponseMutator, type Mutation } from './mutations.js';
import { createRandom } from './random.js';
import type { FuzzTarget } from './targets.js';

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  readonly seed: number | string;
  /** Stop after this many flows (default: unbounded, then `apdus` must be given). */
  readonly iterations?: number;
  /** Stop once this many APDUs were exchanged (default: unbounded). */
  readonly apdus?: number;
  /** Probability that one response is mutated (default 0.06: about two mutations per flow). */
  readonly rate?: number;
  /** APDUs one flow may send before it counts as a hang (default 20,000). */
  readonly flowApduBudget?: number;
  /** Called every `progressEvery` flows with the report so far. */
  readonly onProgress?: (report: FuzzReport) => void;
  readonly progressEvery?: number;
}

/** A throw that is not a ScardError: what the fuzzer exists to find. */
export interface FuzzFinding {
  readonly iteration: number;
  readonly step: string;
  readonly error: string;
}

/** What a run found. */
export interface FuzzReport {
  readonly target: string;
  readonly seed: number | string;
  iterations: number;
  apdus: number;
  mutatedResponses: number;
  readonly mutations: Readonly<Record<Mutation, number>>;
  /** Session calls that ended in a ScardError (expected under attack). */
  scardErrors: number;
  /** Session calls that succeeded. */
  successes: number;
  /** Session calls that threw something other than a ScardError. */
  nonScardErrors: number;
  /** Flows that exceeded their APDU budget. */
  hangs: number;
  /** The first findings (at most 20). */
  readonly findings: FuzzFinding[];
  /** Peak resident set size of the process during the run, in bytes. */
  peakRssBytes: number;
  durationMs: number;
}

class FlowBudgetExceeded extends ScardError {
  constructor() {
    super('SCARD_E_TIMEOUT', 'fuzz: the flow exceeded its APDU budget');
  }
}

/** Fuzzes `target` until `iterations` flows or `apdus` APDUs are done. */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  if (options.iterations === undefined && options.apdus === undefined) {
    throw new ScardError('SCARD_E_INVALID_PARAMETER', 'give iterations or apdus');
  }
  const random = createRandom(options.seed);
  const mutator = createResponseMutator(random, options.rate ?? 0.06);
  const budget = options.flowApduBudget ?? 20_000;
  const started = performance.now();
  const report: FuzzReport = {
    target: target.name,
    seed: options.seed,
    iterations: 0,
    apdus: 0,
    mutatedResponses: 0,
    mutations: mutator.counts,
    scardErrors: 0,
    successes: 0,
    nonScardErrors: 0,
    hangs: 0,
    findings: [],
    peakRssBytes: process.memoryUsage.rss(),
    durationMs: 0,
  };
  const done = () =>
    (options.iterations !== undefined && report.iterations >= options.iterations) ||
    (options.apdus !== undefined && report.apdus >= options.apdus);
  while (!done()) {
    const iteration = report.iterations++;
    mutator.reset();
    let flowApdus = 0;
    let overBudget = false;
    const transport = interceptTransmit(new SimTransport(target.newCard()), async (command, send) => {
      if (++flowApdus > budget) {
        overBudget = true;
        throw new FlowBudgetExceeded();
      }
      report.apdus++;
      const response = await send(command);
      const answer = mutator.mutate(response);
      if (answer !== response) report.mutatedResponses++;
      return answer;
    });
    const attempt = async (step: string, action: () => Promise<unknown>): Promise<boolean> => {
      try {
        await action();
        report.successes++;
        return true;
      } catch (error) {
        if (ScardError.isInstance(error)) report.scardErrors++;
        else {
          report.nonScardErrors++;
          if (report.findings.length < 20) {
            const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
            report.findings.push({ iteration, step, error: text });
          }
        }
        return false;
      }
    };
    let session: CardSession | undefined;
    if (await attempt('open', async () => (session = await CardSession.open(target.plugin, transport)))) {
      for (const step of target.steps) {
        if (overBudget) break;
        await attempt(step.name, () => step.run(session as CardSession));
      }
      await attempt('close', () => (session as CardSession).close());
    }
    if (overBudget) report.hangs++;
    report.peakRssBytes = Math.max(report.peakRssBytes, process.memoryUsage.rss());
    if (options.onProgress && options.progressEvery && report.iterations % options.progressEvery === 0) {
      report.durationMs = performance.now() - started;
      options.onProgress(report);
    }
  }
  report.durationMs = performance.now() - started;
  return report;
}
