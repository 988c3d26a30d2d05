import { expect } from 'chai';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

function ofType<E extends Error>(type: ErrorClass<E>, err: unknown): E {
  expect(err).to.be.instanceOf(type);
  return err as E;
}

/** Awaits `attempt` (a promise, or a function called first); expects it to fail with a `type`, and returns that error. */
export async function rejection<E extends Error>(
  type: ErrorClass<E>,
  attempt: Promise<unknown> | (() => unknown),
): Promise<E> {
  try {
    await (typeof attempt === 'function' ? attempt() : attempt);
  } catch (err) {
    return ofType(type, err);
  }
  throw new Error(`expected a ${type.name}, but it succeeded`);
}

/** Calls `fn`; expects it to throw a `type` at once, and returns that error. */
export function thrown<E extends Error>(type: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    return ofType(type, err);
  }
  throw new Error(`expected a ${type.name} to be thrown`);
}
