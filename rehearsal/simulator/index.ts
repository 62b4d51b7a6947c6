/** Local SageMaker and CloudWatch control-plane simulators for rehearsals. */
export { CloudWatchSimulator } from './cloudwatch';
export type { AlarmSnapshot, AlarmState, CloudWatchSimulatorOptions } from './cloudwatch';
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
  PutEndpointInput,
  PutEndpointVariant,
  PutModelPackageInput,
  SageMakerSimulatorOptions,
  Tag,
  Timings,
  VariantSnapshot,
} from './sagemaker';
export { startSimulators } from './server';
export type { RunningSimulators, StartSimulatorsOptions } from './server';
