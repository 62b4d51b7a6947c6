/**
 * What a rehearsal measures, in the shape the summary, the charts, the cost estimate
 * and the JSON output share. Times are virtual seconds since the execution started.
 */

/** One minute of one variant's traffic, as the data plane served it. */
export interface VariantMinute {
  readonly variantName: string;
  /** Model package version the variant serves, when known. */
  readonly version?: number;
  /** Share of the endpoint's requests routed to the variant in this minute, percent (0-100). */
  readonly sharePercent: number;
  readonly invocations: number;
  readonly errors4xx: number;
  readonly errors5xx: number;
  /** ModelLatency percentiles in milliseconds; absent when the variant served no request. */
  readonly p50LatencyMs?: number;
  readonly p99LatencyMs?: number;
}

/** One minute of traffic on the released endpoint; `at` is the end of the minute. */
export interface SeriesPoint {
  readonly at: number;
  /** The candidate's share of traffic in percent; undefined before the candidate variant exists. */
  readonly candidateShare?: number;
  readonly candidate?: VariantMinute;
  readonly baseline?: VariantMinute;
}

export type MarkerKind = 'step' | 'fault' | 'alarm' | 'alarm-ok' | 'rollback' | 'promotion' | 'end';

/** A moment worth marking on a chart: a traffic step, an injected fault, an alarm transition, the rollback or promotion, the end. */
export interface Marker {
  readonly at: number;
  readonly kind: MarkerKind;
  readonly label: string;
}

/** What one rehearsal used: the inputs of the cost estimate. */
export interface Usage {
  /** Step Functions state transitions (every state entered, retries included). */
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Memory of the task functions, MB, as synthesized. */
  readonly lambdaMemoryMb: number;
  readonly sagemakerCalls: number;
  readonly cloudwatchCalls: number;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface CostEstimate {
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  /** Prices and assumptions the estimate rests on, for the summary and the docs. */
  readonly assumptions: readonly string[];
}

/** A state the execution went through, for the report's timeline table. */
export interface ReportTimelineLine {
  readonly at: number;
  readonly state: string;
  /** 'task' | 'wait' | 'error' | 'retry' | 'end', as in the engine's timeline. */
  readonly kind: string;
  readonly detail: string;
  /** Each variant's share of traffic after the state, percent. */
  readonly weights?: Record<string, number>;
}

/** Everything the terminal summary and the HTML report show about one rehearsal. */
export interface ReportInput {
  readonly scenarioName: string;
  readonly description?: string;
  readonly target: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  readonly virtualSeconds: number;
  readonly wallMilliseconds: number;
  readonly usage: Usage;
  readonly cost: CostEstimate;
  readonly series: readonly SeriesPoint[];
  readonly markers: readonly Marker[];
  /** The folded timeline (only states that did something). */
  readonly timeline: readonly ReportTimelineLine[];
}
