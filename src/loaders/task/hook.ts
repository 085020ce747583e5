/**
 * Test hook for crash tests: with ALTREPODB_TEST_TASK_HOOK=<point> in the environment, the loader
 * stops at that point, prints "altrepodb-hook <point>" on stderr and waits to be killed.
 * Points: packages (package rows written), rows (iterations/plan rows written), logs (some log
 * rows written, the log not finished), states (everything but Tasks/TaskStates written).
 */
export async function hook(point: string): Promise<void> {
  if (process.env.ALTREPODB_TEST_TASK_HOOK !== point) return;
  process.stderr.write(`altrepodb-hook ${point}\n`);
  await new Promise(() => setInterval(() => {}, 1 << 30));
}
