/**
 * The verdict of one alarm check during a bake. ALARM, and an alarm that does not
 * exist, are unhealthy: a missing alarm watches nothing, so ignoring it would let a
 * bad candidate through.
 */
import type { AlarmObservation, Release, Verdict } from '../contracts';

export function judgeAlarms(alarms: readonly AlarmObservation[], onInsufficientData: Release['onInsufficientData']): Verdict {
  const firing = alarms.filter((a) => a.state === 'ALARM');
  const missing = alarms.filter((a) => a.state === 'MISSING');
  if (firing.length > 0 || missing.length > 0) {
    const reasons = [
      ...firing.map((a) => `alarm ${a.name} is in ALARM${a.reason ? ` (${a.reason})` : ''}`),
      ...missing.map((a) => `alarm ${a.name} does not exist`),
    ];
    return { status: 'unhealthy', reason: reasons.join('; ') };
  }
  if (alarms.length === 0) {
    return decideInconclusive('no alarms are configured, so nothing was watched', onInsufficientData);
  }
  const insufficient = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA');
  if (insufficient.length > 0) {
    return decideInconclusive(
      `alarm${insufficient.length > 1 ? 's' : ''} ${insufficient.map((a) => a.name).join(', ')} in INSUFFICIENT_DATA`,
      onInsufficientData,
    );
  }
  return { status: 'healthy', reason: `all ${alarms.length} alarm${alarms.length > 1 ? 's' : ''} OK` };
}

function decideInconclusive(reason: string, onInsufficientData: Release['onInsufficientData']): Verdict {
  return onInsufficientData === 'roll-back'
    ? { status: 'unhealthy', reason: `${reason}; the target's policy (onInsufficientData: roll-back) fails closed` }
    : { status: 'inconclusive', reason: `${reason}; proceeding (onInsufficientData: proceed)` };
}
