/**
 * The world a rehearsal runs in: what exists in the simulated account before the
 * execution starts (model packages, the endpoint, the alarms as the team defined them,
 * the traffic), and the faults of the scenario, armed to fire at a step or a virtual
 * time. Everything here goes through the simulators' scenario API, never through the
 * product's code.
 */
import { targetName, type TargetConfig } from '../lambdas/domain/config';
import { planSteps } from '../lambdas/domain/policy';
import { releaseNames } from '../lambdas/domain/names';
import type { VirtualClock } from './clock';
import { REHEARSAL_ACCOUNT, REHEARSAL_REGION } from './definition';
import { InvalidScenarioError, type AlarmDefinition, type Fault, type Scenario, type Traffic } from './scenario';
import type { RunningSimulators } from './simulator';
import type { DataPlaneSimulator, TrafficBehaviour } from './simulator/dataplane';
import type { ModelPackageSnapshot } from './simulator/sagemaker';

/** The initial variant's name, as SageMaker's console and SDK examples name it. */
export const BASELINE_VARIANT = 'AllTraffic';

export interface FaultRecord {
  readonly index: number;
  readonly type: Fault['type'];
  /** Virtual epoch ms when it fired; undefined if it never did (the release ended first). */
  firedAt?: number;
  readonly trigger: string;
}

export interface AlarmSetup {
  readonly name: string;
  /** In the target's `alarms`: the release watches it. */
  readonly watched: boolean;
  /** Defined in the scenario: evaluated from the simulated metrics. */
  readonly definition?: AlarmDefinition;
  /** Removed by a `missing-alarm` fault. */
  readonly missing: boolean;
}

export interface World {
  readonly candidateArn: string;
  readonly candidateVariant: string;
  readonly startInput: unknown;
  readonly faults: readonly FaultRecord[];
  readonly alarms: readonly AlarmSetup[];
  /** Called once traffic has shifted to `step` (1-based). */
  onStep(step: number): void;
  /**
   * Registers version `version` of the target's group as Approved (or approves it again,
   * if it exists), answering traffic like the scenario's candidate unless `behaviour`
   * says otherwise, and returns the "Model Package State Change" event SageMaker emits.
   */
  approveVersion(version: number, behaviour?: Traffic['candidate']): ModelPackageStateChangeEvent;
}

/** The EventBridge event SageMaker emits when a model package's approval status changes. */
export interface ModelPackageStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'SageMaker Model Package State Change';
  readonly source: 'aws.sagemaker';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly ModelPackageGroupName: string;
    readonly ModelPackageVersion: number;
    readonly ModelPackageArn: string;
    readonly ModelPackageName: string;
    readonly ModelApprovalStatus: string;
    readonly ModelPackageStatus: 'Completed';
    /** ISO 8601, ms. */
    readonly CreationTime: string;
    /** When the approval status last changed (ISO 8601, ms): duplicate deliveries of one change share it. */
    readonly LastModifiedTime: string;
  };
}

/** The event for a package as it is now; `id` tells deliveries apart (EventBridge gives each its own). */
export function modelPackageStateChangeEvent(
  pkg: ModelPackageSnapshot,
  at: number,
  id = `rehearsal-${pkg.groupName}-v${pkg.version}-${at}`,
): ModelPackageStateChangeEvent {
  return {
    version: '0',
    id,
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: REHEARSAL_ACCOUNT,
    time: new Date(at).toISOString(),
    region: REHEARSAL_REGION,
    resources: [pkg.arn],
    detail: {
      ModelPackageGroupName: pkg.groupName,
      ModelPackageVersion: pkg.version,
      ModelPackageArn: pkg.arn,
      ModelPackageName: pkg.groupName,
      ModelApprovalStatus: pkg.status,
      ModelPackageStatus: 'Completed',
      CreationTime: new Date(pkg.creationTime).toISOString(),
      LastModifiedTime: new Date(pkg.lastModifiedTime).toISOString(),
    },
  };
}

export interface SeedOptions {
  readonly scenario: Scenario;
  readonly target: TargetConfig;
  readonly sims: RunningSimulators;
  readonly dataPlane: DataPlaneSimulator;
  readonly clock: VirtualClock;
  /** Reports a fault as it fires (for the timeline). */
  readonly onFault: (fault: Fault, detail: string) => void;
}

export function seedWorld({ scenario, target, sims, dataPlane, clock, onFault }: SeedOptions): World {
  const group = target.modelPackageGroupName;
  const endpoint = target.endpointName;
  if (scenario.baselineVersion !== null) {
    const baselineArn = sims.sagemaker.putModelPackage({ groupName: group, version: scenario.baselineVersion });
    sims.sagemaker.putEndpoint({
      name: endpoint,
      variants: [
        {
          variantName: BASELINE_VARIANT,
          modelPackageArn: baselineArn,
          instanceType: target.candidate.instanceType,
          instanceCount: target.candidate.instanceCount,
          weight: 1,
        },
      ],
      executionRoleArn: target.modelExecutionRoleArn,
    });
  }
  const candidateArn = sims.sagemaker.putModelPackage({ groupName: group, version: scenario.candidate.version, status: scenario.candidate.status });
  const candidateVariant = releaseNames(endpoint, candidateArn, scenario.candidate.version).candidateVariantName;
  const versionOf = (role: 'candidate' | 'baseline', index: number): number => {
    if (role === 'candidate') return scenario.candidate.version;
    if (scenario.baselineVersion === null) {
      throw new InvalidScenarioError(
        `Invalid scenario ${scenario.name}: faults[${index}].version: there is no baseline (baselineVersion is null); expected 'candidate'`,
      );
    }
    return scenario.baselineVersion;
  };

  seedTraffic(dataPlane, scenario.traffic, scenario.candidate.version);
  const alarms = seedAlarms(scenario, target, sims, candidateVariant);

  const steps = planSteps(target);
  const stepOutOfRange = (index: number, step: number) =>
    new InvalidScenarioError(
      `Invalid scenario ${scenario.name}: faults[${index}].atStep: target ${targetName(target)} has ${steps.length} step${steps.length === 1 ? '' : 's'} (${steps.map((s) => `${s.weightPercent} %`).join(', ')}), got ${step}`,
    );
  const unknownAlarm = (index: number, alarm: string, known: readonly string[]) =>
    new InvalidScenarioError(
      `Invalid scenario ${scenario.name}: faults[${index}].alarm: expected one of the target's or the scenario's alarms (${known.join(', ') || 'none'}), got '${alarm}'`,
    );
  const stepActions = new Map<number, Array<() => void>>();
  const startedAt = clock.now();
  const records: FaultRecord[] = [];
  const arm = (index: number, fault: Fault, trigger: { atStep?: number; afterSeconds?: number }, action: () => string, label?: string): void => {
    const record: FaultRecord = {
      index,
      type: fault.type,
      trigger: label ?? (trigger.atStep !== undefined ? `at step ${trigger.atStep}` : `${trigger.afterSeconds ?? 0} s after the start`),
    };
    records.push(record);
    const fire = () => {
      record.firedAt = clock.now();
      onFault(fault, action());
    };
    if (trigger.atStep !== undefined && trigger.atStep > steps.length) throw stepOutOfRange(index, trigger.atStep);
    if (trigger.atStep !== undefined) stepActions.set(trigger.atStep, [...(stepActions.get(trigger.atStep) ?? []), fire]);
    else clock.at(startedAt + (trigger.afterSeconds ?? 0) * 1000, fire);
  };
  const requireEndpoint = (index: number, fault: Fault) => {
    if (scenario.baselineVersion === null && fault.type !== 'endpoint-failed') {
      throw new InvalidScenarioError(`Invalid scenario ${scenario.name}: faults[${index}] (${fault.type}) needs an existing endpoint; baselineVersion is null`);
    }
  };
  const alarmNames = new Set(alarms.filter((a) => !a.missing).map((a) => a.name));

  for (const [index, fault] of scenario.faults.entries()) {
    switch (fault.type) {
      case 'error-spike': {
        const version = versionOf(fault.version, index);
        arm(index, fault, fault, () => {
          const before = dataPlane.behaviourOf(version);
          dataPlane.setBehaviour(version, {
            errorRate5xx: fault.errorRate5xx,
            ...(fault.errorRate4xx !== undefined ? { errorRate4xx: fault.errorRate4xx } : {}),
          });
          if (fault.forSeconds !== undefined) {
            clock.at(clock.now() + fault.forSeconds * 1000, () =>
              dataPlane.setBehaviour(version, { errorRate5xx: before.errorRate5xx, errorRate4xx: before.errorRate4xx }),
            );
          }
          return `${fault.version} (v${version}) answers ${percent(fault.errorRate5xx)} 5XX${fault.errorRate4xx !== undefined ? `, ${percent(fault.errorRate4xx)} 4XX` : ''}${until(fault.forSeconds)}`;
        });
        break;
      }
      case 'latency-regression': {
        const version = versionOf(fault.version, index);
        arm(index, fault, fault, () => {
          const before = dataPlane.behaviourOf(version);
          const factor = fault.factor ?? 3;
          const modelLatency = fault.latencyMs
            ? { p50Ms: fault.latencyMs.p50, p99Ms: fault.latencyMs.p99 }
            : { p50Ms: before.modelLatency.p50Ms * factor, p99Ms: before.modelLatency.p99Ms * factor };
          dataPlane.setBehaviour(version, { modelLatency });
          if (fault.forSeconds !== undefined)
            clock.at(clock.now() + fault.forSeconds * 1000, () => dataPlane.setBehaviour(version, { modelLatency: before.modelLatency }));
          return `${fault.version} (v${version}) model latency p50 ${Math.round(modelLatency.p50Ms)} ms, p99 ${Math.round(modelLatency.p99Ms)} ms${until(fault.forSeconds)}`;
        });
        break;
      }
      case 'candidate-never-healthy':
        sims.sagemaker.failDeploymentsOf(candidateArn, fault.reportFailureReason ? 'report-failure' : 'silent-revert');
        arm(index, fault, {}, () => 'every deployment of the candidate will fail');
        break;
      case 'insufficient-capacity':
        sims.sagemaker.failDeploymentsOf(candidateArn, 'insufficient-capacity');
        arm(index, fault, {}, () => `no ${target.candidate.instanceType} capacity for the candidate`);
        break;
      case 'endpoint-stuck-updating':
        sims.sagemaker.slowDeploymentsOf(candidateArn, fault.forSeconds);
        arm(index, fault, {}, () => `deployments of the candidate take ${fault.forSeconds} s`);
        break;
      case 'throttling-burst': {
        const sim = fault.service === 'sagemaker' ? sims.sagemaker : sims.cloudwatch;
        arm(index, fault, fault, () => {
          for (const operation of fault.operations) sim.throttle(operation, fault.times);
          return `the next ${fault.times} ${fault.service} ${fault.operations.join(', ')} call(s) are throttled`;
        });
        break;
      }
      case 'endpoint-failed':
        if (scenario.baselineVersion === null && fault.atStep === undefined) {
          throw new InvalidScenarioError(
            `Invalid scenario ${scenario.name}: faults[${index}] (endpoint-failed) at a time needs an existing endpoint; use atStep`,
          );
        }
        arm(index, fault, fault, () => {
          sims.sagemaker.failEndpoint(endpoint, fault.reason);
          return `endpoint ${endpoint} is Failed: ${fault.reason}`;
        });
        break;
      case 'endpoint-busy':
        requireEndpoint(index, fault);
        arm(index, fault, {}, () => {
          sims.sagemaker.holdEndpoint(endpoint, fault.status, fault.forSeconds);
          return `endpoint reports ${fault.status} for ${fault.forSeconds} s`;
        });
        break;
      case 'missing-alarm':
        if (!alarms.some((a) => a.name === fault.alarm)) {
          throw unknownAlarm(
            index,
            fault.alarm,
            alarms.map((a) => a.name),
          );
        }
        arm(index, fault, {}, () => `alarm ${fault.alarm} does not exist`);
        break;
      case 'no-traffic-to-candidate':
        arm(index, fault, {}, () => {
          dataPlane.setExcludedFromRouting(scenario.candidate.version, true);
          return 'clients send no request to the candidate variant';
        });
        break;
      case 'silent-revert': {
        requireEndpoint(index, fault);
        const weight = steps[fault.atStep - 1]?.weightPercent;
        if (weight === undefined) throw stepOutOfRange(index, fault.atStep);
        // Armed from the start, it reverts only the change that sets the candidate to the step's weight,
        // so a rollback before that step goes through.
        const record: FaultRecord = { index, type: fault.type, trigger: `the weight change of step ${fault.atStep}` };
        records.push(record);
        sims.sagemaker.revertNextWeightChange(endpoint, (desired) => {
          const total = [...desired.values()].reduce((sum, w) => sum + w, 0);
          const share = total > 0 ? ((desired.get(candidateVariant) ?? 0) / total) * 100 : 0;
          if (Math.abs(share - weight) > 0.5) return false;
          record.firedAt = clock.now();
          onFault(fault, `the shift to ${weight} % (step ${fault.atStep}) is accepted and will be silently reverted`);
          return true;
        });
        break;
      }
      case 'alarm':
        if (!alarmNames.has(fault.alarm)) {
          throw unknownAlarm(index, fault.alarm, [...alarmNames]);
        }
        arm(index, fault, fault, () => {
          sims.cloudwatch.scheduleAlarmState(fault.alarm, fault.state, clock.now(), fault.reason ?? `Rehearsal: ${fault.alarm} set to ${fault.state}`);
          return `alarm ${fault.alarm} forced to ${fault.state}`;
        });
        break;
    }
  }

  return {
    candidateArn,
    candidateVariant,
    startInput: startInput(scenario, sims, candidateArn, clock),
    faults: records,
    alarms,
    onStep(step) {
      const actions = stepActions.get(step);
      stepActions.delete(step);
      for (const action of actions ?? []) action();
    },
    approveVersion(version, behaviour = {}) {
      if (!Number.isInteger(version) || version < 1) throw new InvalidScenarioError(`approveVersion: expected a version >= 1, got ${version}`);
      const arn = `arn:aws:sagemaker:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:model-package/${group.toLowerCase()}/${version}`;
      const existing = sims.sagemaker.modelPackage(arn);
      const pkg = existing
        ? sims.sagemaker.setModelPackageStatus(arn, 'Approved')
        : sims.sagemaker.modelPackage(sims.sagemaker.putModelPackage({ groupName: group, version, status: 'Approved' }))!;
      dataPlane.setBehaviour(version, toBehaviour({ ...scenario.traffic.baseline, ...scenario.traffic.candidate, ...behaviour }));
      return modelPackageStateChangeEvent(pkg, clock.now());
    },
  };
}

function seedTraffic(dataPlane: DataPlaneSimulator, traffic: Traffic, candidateVersion: number): void {
  const baseline = toBehaviour(traffic.baseline);
  dataPlane.reset({ seed: traffic.seed, requestsPerSecond: traffic.requestsPerSecond, defaultBehaviour: baseline });
  dataPlane.setBehaviour(candidateVersion, toBehaviour({ ...traffic.baseline, ...traffic.candidate }));
}

function toBehaviour(b: Traffic['baseline']): TrafficBehaviour {
  return {
    errorRate4xx: b.errorRate4xx,
    errorRate5xx: b.errorRate5xx,
    modelLatency: { p50Ms: b.latencyMs.p50, p99Ms: b.latencyMs.p99 },
    overheadLatency: { p50Ms: b.overheadLatencyMs.p50, p99Ms: b.overheadLatencyMs.p99 },
  };
}

function seedAlarms(scenario: Scenario, target: TargetConfig, sims: RunningSimulators, candidateVariant: string): AlarmSetup[] {
  const missing = new Set(scenario.faults.flatMap((f) => (f.type === 'missing-alarm' ? [f.alarm] : [])));
  const names = [...new Set([...target.alarms, ...Object.keys(scenario.alarms)])];
  const setups: AlarmSetup[] = names.map((name) => ({
    name,
    watched: target.alarms.includes(name),
    ...(scenario.alarms[name] ? { definition: scenario.alarms[name] } : {}),
    missing: missing.has(name),
  }));
  for (const setup of setups) {
    if (setup.missing) continue;
    if (!setup.definition) {
      sims.cloudwatch.putAlarm(setup.name, 'OK');
      continue;
    }
    const d = setup.definition;
    const variant = d.variant === 'candidate' ? candidateVariant : d.variant === 'baseline' ? BASELINE_VARIANT : d.variant;
    const percentile = d.statistic.startsWith('p');
    sims.cloudwatch.defineAlarm({
      AlarmName: setup.name,
      AlarmDescription: `Rehearsal: ${d.metric} ${d.statistic} of variant ${variant} on ${target.endpointName}`,
      Namespace: 'AWS/SageMaker',
      MetricName: d.metric,
      Dimensions: [
        { Name: 'EndpointName', Value: target.endpointName },
        { Name: 'VariantName', Value: variant },
      ],
      ...(percentile ? { ExtendedStatistic: d.statistic } : { Statistic: d.statistic as 'Average' }),
      Period: d.periodSeconds,
      EvaluationPeriods: d.evaluationPeriods,
      ...(d.datapointsToAlarm !== undefined ? { DatapointsToAlarm: d.datapointsToAlarm } : {}),
      Threshold: d.threshold,
      ComparisonOperator: d.comparison,
      TreatMissingData: d.treatMissingData,
    });
  }
  return setups;
}

function startInput(scenario: Scenario, sims: RunningSimulators, candidateArn: string, clock: VirtualClock): unknown {
  if (typeof scenario.start === 'object') return scenario.start.raw;
  if (scenario.start === 'manual') return { action: 'release', modelPackageArn: candidateArn };
  return modelPackageStateChangeEvent(sims.sagemaker.modelPackage(candidateArn)!, clock.now(), `rehearsal-${scenario.name}`);
}

function percent(rate: number): string {
  return `${Math.round(rate * 10000) / 100} %`;
}

function until(forSeconds: number | undefined): string {
  return forSeconds === undefined ? '' : ` for ${forSeconds} s`;
}
