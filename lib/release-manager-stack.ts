/** The stack `cdk deploy` installs: one ReleaseManager with the project's targets, checked by cdk-nag. */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ReleaseManagerConfigInput } from '../lambdas/domain/config';
import { ReleaseManager } from './release-manager';

export interface ReleaseManagerStackProps extends StackProps {
  readonly config: ReleaseManagerConfigInput;
}

export class ReleaseManagerStack extends Stack {
  public readonly releaseManager: ReleaseManager;

  constructor(scope: Construct, id: string, props: ReleaseManagerStackProps) {
    super(scope, id, props);
    this.releaseManager = new ReleaseManager(this, 'ReleaseManager', { config: props.config });
  }
}
