// A build that cannot go on: `docker build` exits 1 for it, as for a failing step.
export class BuildError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
