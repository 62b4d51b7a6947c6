/** Local SageMaker, CloudWatch, Step Functions and EventBridge simulators (and dynalite) for rehearsals. */
export { CloudWatchSimulator } from './cloudwatch';
export type { AlarmSnapshot, AlarmState, AlarmTransition, CloudWatchSimulatorOptions, PutMetricAlarmInputShape } from './cloudwatch';
export {
  EXTRA_EVALUATION_RANGE_PERIODS,
  STATIC_COMPARISON_OPERATORS,
  TREAT_MISSING_DATA,
  evaluateMetricAlarm,
  evaluationRangeLength,
  evaluationRangeStarts,
  isBreaching,
} from './alarm-evaluation';
export type {
  AlarmEvaluationConfig,
  AlarmEvaluationInput,
  AlarmEvaluationOutcome,
  RangeDatapoint,
  StaticComparisonOperator,
  TreatMissingData,
} from './alarm-evaluation';
export { MetricStore, STANDARD_STATISTICS, metricKey, parseStatistic, percentileOf, statisticValue } from './metrics';
export type { AggregateQuery, MetricIdentity, ParsedStatistic, PeriodAggregate, StandardStatistic, StoredDatapoint } from './metrics';
export { SimulatedServiceError, isSimulatedServiceError } from './errors';
export type { SimulatedServiceErrorOptions } from './errors';
export type { RecordedCall, SimulatedService } from './recorder';
export { DEFAULT_TIMINGS, SageMakerSimulator } from './sagemaker';
export type {
  DeploymentFaultMode,
  EndpointSnapshot,
  EndpointStatus,
  HeldEndpointStatus,
  ModelApprovalStatus,
  ModelPackageSnapshot,
  PutEndpointInput,
  PutEndpointVariant,
  PutModelPackageInput,
  SageMakerSimulatorOptions,
  Tag,
  Timings,
  VariantSnapshot,
} from './sagemaker';
export { startSimulators } from './server';
export type { RunningSimulators, SimulatorUrls, StartSimulatorsOptions } from './server';
export { EXECUTION_NAME_PATTERN, EXECUTION_STATUSES, StepFunctionsSimulator } from './stepfunctions';
export type {
  DefineStateMachineInput,
  ExecutionOutcome,
  ExecutionRunner,
  ExecutionSnapshot,
  ExecutionStatus,
  StepFunctionsCall,
  StepFunctionsSimulatorOptions,
  TaskTokenOutcome,
} from './stepfunctions';
export { EventBridgeSimulator } from './eventbridge';
export type { EventBridgeCall, EventBridgeSimulatorOptions, RecordedEvent } from './eventbridge';
export { createLedgerTable, recreateLedgerTable, startDynalite } from './dynamodb';
export type { LocalDynamo } from './dynamodb';
