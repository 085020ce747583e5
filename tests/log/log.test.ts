import { afterEach, expect, test } from "bun:test";
import { logger, setupLogging } from "../../src/log";

const captured: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);

function capture(fn: () => void): string[] {
  captured.length = 0;
  process.stderr.write = ((chunk: string) => {
    captured.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = realWrite;
  }
  return captured.map((l) => l.trimEnd());
}

afterEach(() => setupLogging({ level: "info", format: "text", journald: false }));

test("text lines carry level, component and fields; secrets are masked", () => {
  setupLogging({ level: "info", format: "text", journald: false, secrets: ["hunter2"] });
  const [line] = capture(() => logger("repo").info("loaded", { packages: 5, path: "/a b", url: "http://u:hunter2@h" }));
  expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ INFO  \[repo\] loaded packages=5 path="\/a b" url=http:\/\/u:\*\*\*@h$/);
});

test("json format gives one object per line", () => {
  setupLogging({ format: "json", level: "debug", journald: false });
  const lines = capture(() => {
    logger("task").warn("skipped", { file: "x.rpm", hash: 2n ** 63n });
    logger("task").debug("detail");
  });
  expect(lines.length).toBe(2);
  const rec = JSON.parse(lines[0]);
  expect(rec).toMatchObject({ level: "warn", component: "task", msg: "skipped", file: "x.rpm", hash: "9223372036854775808" });
  expect(JSON.parse(lines[1]).level).toBe("debug");
});

test("levels filter; journald gets syslog priorities", () => {
  setupLogging({ level: "warn", format: "text", journald: true });
  const lines = capture(() => {
    logger("x").info("hidden");
    logger("x").warn("w");
    logger("x").error("e");
  });
  expect(lines).toEqual(["<4>WARN  [x] w", "<3>ERROR [x] e"]);
});
