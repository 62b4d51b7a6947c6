/**
 * The stack as a whole: the outputs the CLI looks up by export name, a state machine
 * name that is deterministic and valid, and a template without dependency cycles (the
 * state machine invokes functions whose policies name the state machine).
 */
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { ReleaseManager } from '../../lib/release-manager';
import { LIFECYCLE_EVENT_SOURCE } from '../../lib/release-notifications';
import { STACK_OUTPUTS, stackExportName } from '../../lib/release-manager-stack';
import { committedConfig, ENV, functionsByHandler, isObject, type Json, render, SKIP_BUNDLING, STACK_NAME, statesArn, synthesize } from './fixtures';

/** Logical ids a value refers to: Ref, Fn::GetAtt and ${...} in Fn::Sub (pseudo parameters left out). */
function references(value: Json | undefined, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, into));
  else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(v);
      else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string') into.add(v[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string') for (const m of text.matchAll(/\$\{([^}.!]+)[^}]*\}/g)) if (!m[1]!.startsWith('AWS::')) into.add(m[1]!);
        references(v, into);
      } else references(v, into);
    }
  }
  return into;
}

/** A dependency cycle among the template's resources, as a list of logical ids, or undefined. */
function findCycle(resources: Record<string, { Properties?: Json; DependsOn?: Json }>): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(resources)) {
    const deps = references(resource.Properties);
    for (const d of [resource.DependsOn ?? []].flat()) if (typeof d === 'string') deps.add(d);
    edges.set(
      id,
      [...deps].filter((d) => d in resources),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('ReleaseManagerStack', () => {
  let template: Template;
  let stack: ReturnType<typeof synthesize>['stack'];

  beforeAll(() => {
    ({ template, stack } = synthesize());
  });

  it('It should output the state machine ARN, the ledger table name and the event source under stable export names', () => {
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);
    const outputs = template.toJSON().Outputs as Record<string, { Value: Json; Export: { Name: string } }>;
    expect(Object.keys(outputs).sort()).toEqual(['EventSource', 'LedgerTableName', 'StateMachineArn']);
    expect(outputs[STACK_OUTPUTS.stateMachineArn]).toMatchObject({
      Value: { Ref: id(stack.releaseManager.stateMachine) },
      Export: { Name: `${STACK_NAME}-StateMachineArn` },
    });
    expect(outputs[STACK_OUTPUTS.ledgerTableName]).toMatchObject({
      Value: { Ref: id(stack.releaseManager.ledger.table) },
      Export: { Name: `${STACK_NAME}-LedgerTableName` },
    });
    expect(outputs[STACK_OUTPUTS.eventSource]).toMatchObject({ Value: LIFECYCLE_EVENT_SOURCE, Export: { Name: `${STACK_NAME}-EventSource` } });
    expect(stackExportName('Other', STACK_OUTPUTS.ledgerTableName)).toBe('Other-LedgerTableName');
  });

  it('It should have no dependency cycle among its resources', () => {
    const resources = template.toJSON().Resources as Record<string, { Properties?: Json; DependsOn?: Json }>;
    expect(findCycle(resources)).toBeUndefined();
    // The check itself finds a cycle when there is one.
    expect(findCycle({ A: { Properties: { X: { Ref: 'B' } } }, B: { Properties: { Y: { 'Fn::GetAtt': ['A', 'Arn'] } } } })).toEqual(['A', 'B', 'A']);
  });

  it('It should give the state machine the deterministic name its policies and start-release use', () => {
    const name = stack.releaseManager.stateMachineName;
    expect(name).toBe('SageMakerReleaseManager-DC65309E');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: name });
    const startRelease = functionsByHandler(template)['start-release']!;
    const variables = (startRelease.properties.Environment as { Variables: Record<string, Json> }).Variables;
    expect(render(variables.STATE_MACHINE_ARN)).toBe(statesArn('stateMachine', name));
    expect(render(stack.resolve(stack.releaseManager.stateMachineArn) as Json)).toBe(statesArn('stateMachine', name));
    // The same stack built again gets the same name.
    expect(synthesize().stack.releaseManager.stateMachineName).toBe(name);
  });

  it('It should give two release managers in one stack different state machine names of at most 80 characters', () => {
    const long = new Stack(new App({ context: SKIP_BUNDLING }), `A${'b'.repeat(127)}`, { env: ENV });
    const first = new ReleaseManager(long, 'First', { config: committedConfig() });
    const second = new ReleaseManager(long, 'Second', { config: committedConfig() });
    expect(first.stateMachineName).not.toBe(second.stateMachineName);
    for (const name of [first.stateMachineName, second.stateMachineName]) expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});
