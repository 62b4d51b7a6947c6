/**
 * The release workflow's definition as it is deployed: timeouts, named retries and
 * catches, the rollback's failure, sentence-style state names, logging and tracing,
 * and the JSONPath-only constructs the rehearsal engine can run.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lambdas/domain/config';
import { worstCaseReleaseSeconds } from '../../lambdas/domain/policy';
import { WORKFLOW_ERRORS } from '../../lib/release-workflow';
import { allStates, type Asl, type AslState, committedConfig, isObject, resourcesOfType, stateMachineDefinition, synthesize } from './fixtures';

/** Standard workflows run for at most a year. */
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

describe('ReleaseWorkflow', () => {
  let template: Template;
  let asl: Asl;
  let states: Array<[string, AslState]>;
  let tasks: Array<[string, AslState]>;

  beforeAll(() => {
    ({ template } = synthesize());
    asl = stateMachineDefinition(template);
    states = allStates(asl);
    tasks = states.filter(([, state]) => state.Type === 'Task');
  });

  it('It should give every task a timeout, fixed or (the approval gate) read from the payload', () => {
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, task] of tasks) {
      const timeout = task.TimeoutSeconds ?? task.TimeoutSecondsPath;
      expect({ name, timeout }).toEqual({ name, timeout: typeof timeout === 'string' ? expect.stringMatching(/^\$\./) : expect.any(Number) });
    }
  });

  it("It should wait for approval on a task token, for the target's approval timeout", () => {
    const gates = tasks.filter(([, task]) => task.Resource?.endsWith(':states:::lambda:invoke.waitForTaskToken'));
    expect(gates.map(([name]) => name)).toEqual(['Wait for approval']);
    const [[, gate]] = gates as [[string, AslState]];
    expect(gate.TimeoutSecondsPath).toBe('$.plan.release.approval.timeoutSeconds');
    expect(gate.TimeoutSeconds).toBeUndefined();
    const payload = gate.Parameters?.Payload;
    expect(isObject(payload) ? payload['taskToken.$'] : undefined).toBe('$$.Task.Token');
  });

  it('It should retry every task on named errors only, never on States.ALL', () => {
    for (const [name, task] of tasks) {
      expect({ name, retriers: (task.Retry ?? []).length > 0 }).toEqual({ name, retriers: true });
      for (const retrier of task.Retry ?? []) {
        expect({ name, errors: retrier.ErrorEquals.length > 0 }).toEqual({ name, errors: true });
        expect({ name, errors: retrier.ErrorEquals }).not.toEqual({ name, errors: expect.arrayContaining(['States.ALL']) });
      }
    }
  });

  it('It should catch specific errors before States.ALL, which comes last and alone', () => {
    for (const [name, task] of tasks) {
      const catchers = task.Catch ?? [];
      catchers.forEach((catcher, i) => {
        if (!catcher.ErrorEquals.includes('States.ALL')) return;
        expect({ name, position: i, errors: catcher.ErrorEquals }).toEqual({ name, position: catchers.length - 1, errors: ['States.ALL'] });
      });
    }
  });

  it('It should end a rolled-back release as a failure named ReleaseRolledBack, with the reason as its cause', () => {
    const rolledBack = states.filter(([, s]) => s.Type === 'Fail' && s.Error === WORKFLOW_ERRORS.rolledBack);
    expect(WORKFLOW_ERRORS.rolledBack).toBe('ReleaseRolledBack');
    expect(rolledBack).toHaveLength(1);
    const [[, fail]] = rolledBack;
    expect(fail.CausePath).toEqual(expect.stringMatching(/^\$\./));
  });

  it('It should name every state as a sentence', () => {
    const badNames = states.map(([name]) => name).filter((name) => !/^[A-Z]/.test(name) || !name.includes(' '));
    expect(badNames).toEqual([]);
  });

  it('It should bound an execution by a timeout that covers the slowest configured release', () => {
    const slowest = Math.max(...parseConfig(committedConfig()).targets.map(worstCaseReleaseSeconds));
    expect(asl.TimeoutSeconds).toEqual(expect.any(Number));
    expect(asl.TimeoutSeconds).toBeGreaterThanOrEqual(slowest);
    expect(asl.TimeoutSeconds).toBeLessThanOrEqual(ONE_YEAR_SECONDS);
  });

  it('It should log every event with execution data to a log group with a retention, and trace with X-Ray', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
    });
    const [machine] = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'));
    const logging = machine.Properties.LoggingConfiguration;
    const destination = isObject(logging) && Array.isArray(logging.Destinations) ? logging.Destinations[0] : undefined;
    const logGroup = isObject(destination) && isObject(destination.CloudWatchLogsLogGroup) ? destination.CloudWatchLogsLogGroup.LogGroupArn : undefined;
    const logGroupId = isObject(logGroup) && Array.isArray(logGroup['Fn::GetAtt']) ? String(logGroup['Fn::GetAtt'][0]) : '';
    expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toEqual(expect.any(Number));
  });

  it('It should use JSONPath only: no JSONata query language and no Assign, which the rehearsal engine cannot run', () => {
    expect(asl.QueryLanguage).toBeUndefined();
    expect(states.filter(([, state]) => state.QueryLanguage !== undefined).map(([name]) => name)).toEqual([]);
    expect(states.filter(([, state]) => state.Assign !== undefined).map(([name]) => name)).toEqual([]);
  });
});
