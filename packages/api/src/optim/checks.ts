import { ValueError } from '../core/errors.js';

// Hyperparameter checks shared by the optimizers and schedulers; messages name the optimizer and
// the option as the user spelled it.

export function checkFiniteNumber(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${owner}: ${name} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkNonNegative(owner: string, name: string, value: unknown): number {
  const n = checkFiniteNumber(owner, name, value);
  if (n < 0) throw new ValueError(`${owner}: ${name} must be >= 0, got ${n}`);
  return n;
}

export function checkPositive(owner: string, name: string, value: unknown): number {
  const n = checkFiniteNumber(owner, name, value);
  if (n <= 0) throw new ValueError(`${owner}: ${name} must be > 0, got ${n}`);
  return n;
}

/** A value in [0, 1): momentum-like coefficients (betas, alpha). */
export function checkUnitInterval(owner: string, name: string, value: unknown): number {
  const n = checkFiniteNumber(owner, name, value);
  if (n < 0 || n >= 1) throw new ValueError(`${owner}: ${name} must be in [0, 1), got ${n}`);
  return n;
}

export function checkPositiveInteger(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValueError(`${owner}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkBoolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValueError(`${owner}: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

export function checkBetas(owner: string, value: unknown): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new ValueError(`${owner}: betas must be a pair [beta1, beta2], got ${JSON.stringify(value)}`);
  }
  checkUnitInterval(owner, 'betas[0]', value[0]);
  checkUnitInterval(owner, 'betas[1]', value[1]);
  return value as unknown as readonly [number, number];
}
