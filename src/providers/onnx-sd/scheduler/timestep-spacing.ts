/**
 * Which training timesteps an N-step run visits, and the σ helpers built on them
 * (shared/onnx-sd.md §3.2). Each function restates one numpy expression of diffusers, rounding
 * included: numpy rounds halves to even (62.5·13 = 812.5 → 812), which matters for trailing
 * spacing with 16 steps.
 */
import type { ScheduleConfig } from './scheduler.js';
import type { TrainingSchedule } from './training-schedule.js';

type Spacing = ScheduleConfig['timestepSpacing'];

/** numpy's `round`: halves go to the even neighbour. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** numpy's `linspace(start, stop, count)` with endpoint: start + i·step, the last value exactly `stop`. */
export function linspace(start: number, stop: number, count: number): number[] {
  if (count === 1) return [start];
  const step = (stop - start) / (count - 1);
  const values = new Array<number>(count);
  for (let i = 0; i < count; i++) values[i] = i * step + start;
  values[count - 1] = stop;
  return values;
}

/**
 * Timesteps of the Euler family and DDIM: `linspace` keeps fractions for Euler (`round` false)
 * and rounds for DDIM; `leading` adds `steps_offset`; `trailing` ends on T−1.
 */
export function spacedTimesteps(
  spacing: Spacing,
  trainSteps: number,
  steps: number,
  stepsOffset: number,
  round: boolean,
): number[] {
  if (spacing === 'linspace') {
    const values = linspace(0, trainSteps - 1, steps).reverse();
    return round ? values.map(roundHalfEven) : values;
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(trainSteps / steps);
    const values: number[] = [];
    for (let i = steps - 1; i >= 0; i--) values.push(i * ratio + stepsOffset);
    return values;
  }
  return trailingTimesteps(trainSteps, steps);
}

/**
 * DPM-Solver multistep spaces N+1 points and drops the last (so `linspace` never reaches t = 0);
 * `trailing` is the same as for the other schedulers.
 */
export function dpmSolverTimesteps(
  spacing: Spacing,
  trainSteps: number,
  steps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    return linspace(0, trainSteps - 1, steps + 1)
      .map(roundHalfEven)
      .reverse()
      .slice(0, steps);
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(trainSteps / (steps + 1));
    const values: number[] = [];
    for (let i = steps; i >= 1; i--) values.push(i * ratio + stepsOffset);
    return values;
  }
  return trailingTimesteps(trainSteps, steps);
}

/**
 * `round(arange(T, 0, −T/N)) − 1`: always starts at T−1, the step SD-Turbo was distilled on.
 * numpy's arange fills T + i·δ with δ = (T + step) − T, not the step itself: for N = 48 the
 * third value is 937.4999… (→ 936), where T − 3·(T/N) would give 937.5 (→ 938 → 937). For
 * some N (61, 103, …) that arange even yields N + 1 values; diffusers then runs a stray extra
 * step at t = −1, which is not copied: N steps are N steps.
 */
function trailingTimesteps(trainSteps: number, steps: number): number[] {
  const delta = trainSteps + -(trainSteps / steps) - trainSteps;
  const values = new Array<number>(steps);
  for (let i = 0; i < steps; i++) values[i] = roundHalfEven(trainSteps + i * delta) - 1;
  return values;
}

/** σ at a (possibly fractional) timestep: numpy `interp` over the training σ table. */
export function sigmaAtTimestep(schedule: TrainingSchedule, timestep: number): number {
  const sigmas = schedule.sigmas;
  const last = sigmas.length - 1;
  if (timestep <= 0) return sigmas[0] as number;
  if (timestep >= last) return sigmas[last] as number;
  const low = Math.floor(timestep);
  const lowSigma = sigmas[low] as number;
  return lowSigma + ((sigmas[low + 1] as number) - lowSigma) * (timestep - low);
}

/** Karras et al. (2022) σ ramp, ρ = 7: dense near σ_min, where detail is formed. */
export function karrasSigmas(sigmaMax: number, sigmaMin: number, steps: number): number[] {
  const rho = 7;
  const maxInvRho = sigmaMax ** (1 / rho);
  const minInvRho = sigmaMin ** (1 / rho);
  return linspace(0, 1, steps).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

/**
 * diffusers' `_sigma_to_t`: the fractional timestep whose σ is `sigma`, interpolating linearly in
 * ln σ between the two neighbouring training timesteps (clamped to the table).
 */
export function timestepForSigma(schedule: TrainingSchedule, sigma: number): number {
  const logSigmas = schedule.logSigmas;
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // The last index whose ln σ is ≤ ours (0 when none is), kept below the top so high = low + 1 exists.
  let low = 0;
  for (let t = 0; t < logSigmas.length; t++) {
    if ((logSigmas[t] as number) <= logSigma) low = t;
  }
  low = Math.min(low, logSigmas.length - 2);
  const lowLog = logSigmas[low] as number;
  const highLog = logSigmas[low + 1] as number;
  const weight = Math.min(1, Math.max(0, (lowLog - logSigma) / (lowLog - highLog)));
  return (1 - weight) * low + weight * (low + 1);
}
