/**
 * The release workflow: a Step Functions Standard state machine built as a CDK chain.
 * State names read as sentences; they are also the keys the rehearsal binds handlers
 * and virtual waits to. Every task has a timeout and named Retry policies; every
 * failure after the first change to the endpoint leads to the rollback, which ends
 * the execution FAILED with error ReleaseRolledBack.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { HandlerName } from './release-functions';
import { FORWARD_RETRIES, RETRY_ENDPOINT_BUSY, ROLLBACK_RETRIES } from './retry-policies';

export interface ReleaseWorkflowProps {
  readonly functions: Readonly<Record<HandlerName, IFunction>>;
  /** The execution timeout: the longest a release may take. */
  readonly executionTimeout: Duration;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** How long one task may run, Lambda cold start and SDK retries included. */
const TASK_TIMEOUT = Duration.seconds(90);

/** Where each part of the payload lives (see lambdas/contracts.ts). */
const RELEASE = '$.plan.release';
const POLL_SECONDS = '$.plan.release.endpointWait.pollSeconds';

/** Error names the workflow itself raises, for Fail states and docs. */
export const WORKFLOW_ERRORS = {
  rolledBack: 'ReleaseRolledBack',
  rollbackFailed: 'RollbackFailed',
  endpointChanged: 'EndpointChanged',
  resourceConflict: 'ResourceConflict',
} as const;

export class ReleaseWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ReleaseWorkflowProps) {
    super(scope, id);
    const fns = props.functions;

    // ---- Rollback: reconcile toward the baseline until it is read back ----
    const rolledBack = new sfn.Fail(this, 'Release rolled back', { error: WORKFLOW_ERRORS.rolledBack, causePath: '$.rollback.reason' });
    const rollbackFailed = new sfn.Fail(this, 'Rollback could not be completed', {
      error: WORKFLOW_ERRORS.rollbackFailed,
      causePath: '$.rollbackError.Cause',
    });
    const rollBack = this.invoke('Roll back to the baseline', fns['roll-back'], {
      payload: { 'release.$': RELEASE, 'failure.$': '$.failure', 'previous.$': '$.rollback' },
      keys: ['attempt', 'done', 'action', 'reason', 'observed'],
      resultPath: '$.rollback',
      retries: ROLLBACK_RETRIES,
    });
    rollBack.addCatch(rollbackFailed, { errors: [WORKFLOW_ERRORS.rollbackFailed], resultPath: '$.rollbackError' });
    rollBack.addCatch(rollbackFailed, { errors: [sfn.Errors.ALL], resultPath: '$.rollbackError' });
    const waitForRollback = new sfn.Wait(this, 'Wait for the rollback to apply', { time: sfn.WaitTime.secondsPath(POLL_SECONDS) });
    waitForRollback.next(rollBack);
    rollBack.next(
      new sfn.Choice(this, 'Is the baseline restored?').when(sfn.Condition.booleanEquals('$.rollback.done', true), rolledBack).otherwise(waitForRollback),
    );

    const endpointChanged = new sfn.Fail(this, 'Stop because the endpoint was changed by someone else', {
      error: WORKFLOW_ERRORS.endpointChanged,
      causePath: '$.failure.Cause',
    });
    const resourceConflict = new sfn.Fail(this, 'Stop because a resource with the release name already exists', {
      error: WORKFLOW_ERRORS.resourceConflict,
      causePath: '$.failure.Cause',
    });
    /** Forward tasks: a changed endpoint stops without touching it; anything else rolls back. */
    const catchForward = (task: LambdaInvoke, options: { stopOnConflict?: boolean } = {}): LambdaInvoke => {
      task.addCatch(endpointChanged, { errors: [WORKFLOW_ERRORS.endpointChanged], resultPath: '$.failure' });
      // Before the endpoint is touched, a name clash stops the release: a rollback would delete what the clash is with.
      if (options.stopOnConflict) task.addCatch(resourceConflict, { errors: [WORKFLOW_ERRORS.resourceConflict], resultPath: '$.failure' });
      task.addCatch(rollBack, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.failure' });
      task.addCatch(rollBack, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
      return task;
    };
    const noteFailure = (name: string, error: string, causePath: string) =>
      new sfn.Pass(this, name, { parameters: { Error: error, 'Cause.$': causePath }, resultPath: '$.failure' }).next(rollBack);

    /** Wait, read the endpoint back, and branch on whether the last change took. */
    const waitUntil = (what: { wait: string; check: string; choice: string; note: string; error: string; expectPath: string }, next: sfn.IChainable) => {
      const wait = new sfn.Wait(this, what.wait, { time: sfn.WaitTime.secondsPath(POLL_SECONDS) });
      const check = catchForward(
        this.invoke(what.check, fns['check-endpoint'], {
          payload: { 'release.$': RELEASE, 'expect.$': what.expectPath, 'previous.$': '$.check' },
          keys: ['for', 'attempt', 'outcome', 'reason', 'observed'],
          resultPath: '$.check',
        }),
      );
      wait.next(check).next(
        new sfn.Choice(this, what.choice)
          .when(sfn.Condition.stringEquals('$.check.outcome', 'as-expected'), next)
          .when(sfn.Condition.stringEquals('$.check.outcome', 'in-progress'), wait)
          .otherwise(noteFailure(what.note, what.error, '$.check.reason')),
      );
      return wait;
    };

    // ---- Promotion ----
    const succeeded = new sfn.Succeed(this, 'Release succeeded');
    const finish = this.invoke('Clean up after the promotion', fns['finish-promotion'], {
      payload: { 'release.$': RELEASE },
      keys: ['action'],
      resultPath: '$.cleanup',
    });
    // The candidate is live by now: a failed cleanup is recorded, not rolled back.
    finish.addCatch(succeeded, { errors: [sfn.Errors.ALL], resultPath: '$.cleanupError' });
    finish.next(succeeded);
    const promote = catchForward(
      this.invoke('Promote the candidate', fns['promote-candidate'], {
        payload: { 'release.$': RELEASE },
        keys: ['expect', 'action'],
        resultPath: '$.promotion',
        extraRetries: [RETRY_ENDPOINT_BUSY],
      }),
    );
    promote.next(
      waitUntil(
        {
          wait: 'Wait for the promotion to apply',
          check: 'Is the candidate promoted?',
          choice: 'Did the promotion apply?',
          note: 'Note that the promotion did not apply',
          error: 'PromotionFailed',
          expectPath: '$.promotion.expect',
        },
        finish,
      ),
    );

    // ---- Traffic steps and bakes ----
    const evaluate = catchForward(
      this.invoke('Check the alarms', fns['evaluate-alarms'], {
        payload: { 'release.$': RELEASE, 'progress.$': '$.progress', 'previous.$': '$.bake' },
        keys: ['stepIndex', 'checksDone', 'verdict', 'alarms', 'bakeComplete', 'moreSteps'],
        resultPath: '$.bake',
      }),
    );
    const bake = new sfn.Wait(this, 'Bake the step', { time: sfn.WaitTime.secondsPath('$.progress.checkIntervalSeconds') });
    const shift = catchForward(
      this.invoke('Shift traffic to the next step', fns['shift-traffic'], {
        payload: { 'release.$': RELEASE, 'progress.$': '$.progress' },
        keys: ['stepIndex', 'weightPercent', 'checks', 'checkIntervalSeconds', 'isLastStep', 'expect', 'action'],
        resultPath: '$.progress',
        extraRetries: [RETRY_ENDPOINT_BUSY],
      }),
    );
    bake.next(evaluate).next(
      new sfn.Choice(this, 'Is the candidate healthy?')
        .when(
          sfn.Condition.stringEquals('$.bake.verdict.status', 'unhealthy'),
          noteFailure('Note that the candidate is unhealthy', 'CandidateUnhealthy', '$.bake.verdict.reason'),
        )
        .when(sfn.Condition.booleanEquals('$.bake.bakeComplete', false), bake)
        .when(sfn.Condition.booleanEquals('$.bake.moreSteps', true), shift)
        .otherwise(promote),
    );
    shift.next(
      waitUntil(
        {
          wait: 'Wait for the traffic shift to apply',
          check: 'Is traffic at the step weight?',
          choice: 'Did the traffic shift apply?',
          note: 'Note that the traffic shift did not apply',
          error: 'TrafficShiftFailed',
          expectPath: '$.progress.expect',
        },
        bake,
      ),
    );

    // ---- Candidate deployment ----
    const deploy = catchForward(
      this.invoke('Deploy the candidate variant at weight 0', fns['deploy-candidate'], {
        payload: { 'release.$': RELEASE },
        keys: ['expect', 'action'],
        resultPath: '$.deployment',
        extraRetries: [RETRY_ENDPOINT_BUSY],
      }),
    );
    deploy.next(
      waitUntil(
        {
          wait: 'Wait for the candidate to deploy',
          check: 'Is the candidate deployed?',
          choice: 'Did the candidate deploy?',
          note: 'Note that the candidate did not deploy',
          error: 'CandidateDeploymentFailed',
          expectPath: '$.deployment.expect',
        },
        shift,
      ),
    );
    const create = catchForward(
      this.invoke('Create the candidate model and endpoint config', fns['create-candidate'], {
        payload: { 'release.$': RELEASE },
        keys: ['action'],
        resultPath: '$.creation',
      }),
      { stopOnConflict: true },
    );
    create.next(deploy);

    // ---- Plan ----
    const plan = this.invoke('Plan the release', fns['plan-release'], {
      payload: { 'input.$': '$.input', 'attempts.$': '$.plan.attempts' },
      keys: ['decision', 'reason', 'attempts', 'pollSeconds', 'release'],
      resultPath: '$.plan',
    });
    const settle = new sfn.Wait(this, 'Wait for the endpoint to settle', { time: sfn.WaitTime.secondsPath('$.plan.pollSeconds') });
    settle.next(plan);
    plan.next(
      new sfn.Choice(this, 'What does the plan say?')
        .when(sfn.Condition.stringEquals('$.plan.decision', 'nothing-to-do'), new sfn.Succeed(this, 'Nothing to do'))
        .when(sfn.Condition.stringEquals('$.plan.decision', 'wait-for-endpoint'), settle)
        .otherwise(create),
    );

    const start = new sfn.Pass(this, 'Read the request', {
      parameters: {
        'input.$': '$',
        plan: { attempts: 0 },
        check: { for: 'none', attempt: 0 },
        progress: { stepIndex: -1 },
        bake: { stepIndex: -1, checksDone: 0 },
        rollback: { attempt: 0 },
      },
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(start.next(plan)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.executionTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'SageMaker Release Manager: releases an approved model package to its endpoint, with automatic rollback',
    });
  }

  private invoke(
    name: string,
    fn: IFunction,
    options: {
      payload: Record<string, unknown>;
      keys: readonly string[];
      resultPath: string;
      retries?: readonly sfn.RetryProps[];
      extraRetries?: readonly sfn.RetryProps[];
    },
  ): LambdaInvoke {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(options.payload),
      // Keep only the handler's declared output: the payload stays small and typed.
      resultSelector: Object.fromEntries(options.keys.map((k) => [`${k}.$`, `$.Payload.${k}`])),
      resultPath: options.resultPath,
      taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
      retryOnServiceExceptions: false,
    });
    for (const retry of [...(options.extraRetries ?? []), ...(options.retries ?? FORWARD_RETRIES)]) task.addRetry(retry);
    return task;
  }
}
