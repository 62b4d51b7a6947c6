/**
 * Task "Clean up after the promotion": deletes the endpoint configs the endpoint no
 * longer uses. The baseline's model is kept so that an operator can release it again;
 * a baseline config the release manager did not create is left alone.
 */
import { ReleaseTaskInputSchema } from '../contracts';
import { deleteEndpointConfig, describeEndpoint } from '../aws/sagemaker';
import { isReleaseResourceName } from '../domain/names';
import { lambdaHandler, parseTaskInput } from './common';

export async function finishPromotion(event: unknown): Promise<{ action: string }> {
  const { release } = parseTaskInput(ReleaseTaskInputSchema, event);
  if (!release.baseline) return { action: 'nothing to clean up' };
  const running = (await describeEndpoint(release.endpointName))?.EndpointConfigName;
  const unused = [release.candidate.deployConfigName, release.baseline.configName].filter(
    (name) => name !== running && isReleaseResourceName(release.endpointName, name),
  );
  const results = await Promise.all(unused.map(async (name) => `${name} ${await deleteEndpointConfig(name)}`));
  return { action: results.length ? `endpoint configs: ${results.join(', ')}` : 'nothing to clean up' };
}

export const handler = lambdaHandler(finishPromotion);
