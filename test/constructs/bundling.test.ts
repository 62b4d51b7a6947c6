/**
 * The real bundle (esbuild, as `cdk synth` runs it): the functions that resolve a
 * target ship the validated targets as a file next to their code, and every function
 * bundles its SDK v3 clients instead of using the runtime's. Slow (about 20 s), so it
 * lives apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { parseConfig } from '../../lambdas/domain/config';
import { type HandlerName, TARGETS_FILE_USERS } from '../../lib/release-functions';
import { ReleaseManagerStack } from '../../lib/release-manager-stack';
import { committedConfig, ENV, STACK_NAME } from './fixtures';

const BUNDLING_TIMEOUT_MS = 120_000;

/** The shape of `<stack>.assets.json` that maps an asset hash to its directory in the assembly. */
interface AssetManifest {
  readonly files: Record<string, { readonly source: { readonly path: string } } | undefined>;
}

/** The part of the synthesized template this file reads: each function's code location. */
interface Template {
  readonly Resources: Record<string, { readonly Properties: { readonly Code: { readonly S3Key: string } } }>;
}

describe('ReleaseFunctions bundling', () => {
  const config = committedConfig();
  let assetDirs: Record<HandlerName, string>;

  beforeAll(() => {
    // A default App: bundling on, as `cdk synth` does it.
    const app = new App();
    const stack = new ReleaseManagerStack(app, STACK_NAME, { config, env: ENV });
    const assembly = app.synth();
    const manifest = JSON.parse(readFileSync(join(assembly.directory, `${STACK_NAME}.assets.json`), 'utf8')) as AssetManifest;
    const resources = (assembly.getStackByName(stack.stackName).template as Template).Resources;
    const functions = stack.releaseManager.functions;
    const entries = (Object.keys(functions) as HandlerName[]).map((name) => {
      const { S3Key } = resources[stack.getLogicalId(functions[name].node.defaultChild as CfnResource)].Properties.Code;
      const asset = manifest.files[S3Key.replace(/\.zip$/, '')];
      if (!asset) throw new Error(`no asset in the manifest for ${name}'s code ${S3Key}`);
      return [name, join(assembly.directory, asset.source.path)];
    });
    assetDirs = Object.fromEntries(entries) as Record<HandlerName, string>;
  }, BUNDLING_TIMEOUT_MS);

  it.each([...TARGETS_FILE_USERS])('It should ship the validated targets as targets.json next to the %s function code', (name) => {
    const dir = assetDirs[name];
    expect(existsSync(join(dir, 'index.js'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'targets.json'), 'utf8'))).toEqual(parseConfig(config));
  });

  it('It should bundle the SageMaker SDK client into the plan function', () => {
    const code = readFileSync(join(assetDirs['plan-release'], 'index.js'), 'utf8');
    expect(code).toContain('SageMakerClient');
  });

  it('It should give the targets file to the functions that resolve a target only', () => {
    expect([...TARGETS_FILE_USERS].sort()).toEqual(['operator-action', 'plan-release', 'take-lock']);
    const withTargets = Object.entries(assetDirs)
      .filter(([, dir]) => existsSync(join(dir, 'targets.json')))
      .map(([name]) => name);
    expect(withTargets.sort()).toEqual([...TARGETS_FILE_USERS].sort());
    for (const [name, dir] of Object.entries(assetDirs)) expect({ name, bundled: existsSync(join(dir, 'index.js')) }).toEqual({ name, bundled: true });
  });
});
