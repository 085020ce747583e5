/** `altrepodb bot`: the notification relay in the foreground (the daemon runs it too with [bot] enabled = true). */
import { defineCommand } from "citty";
import { Relay, resolveBotSettings } from "../bot";
import { sdNotify } from "../daemon/systemd";
import { log } from "../log";
import { cliConfig } from "./context";

const run = defineCommand({
  meta: {
    name: "run",
    description: "Relay the notifier's messages to Telegram chats and a webhook until SIGTERM/SIGINT (systemd Type=notify); the default",
    examples: ["altrepodb -c /etc/altrepodb/config.toml bot", "ALTREPODB_BOT_TOKEN=123:abc altrepodb bot"],
  },
  async run() {
    const config = cliConfig();
    const relay = new Relay(resolveBotSettings(config), log.child("bot"));
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const onSignal = (sig: NodeJS.Signals) => {
      log.info(`${sig} received: stopping the relay`);
      stop();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      relay.start();
      sdNotify(`READY=1\nSTATUS=relaying from ${relay.settings.topology.queue}\nMAINPID=${process.pid}`);
      await stopped;
      sdNotify("STOPPING=1");
      await relay.stop();
      const s = relay.stats();
      log.info(`bot stopped: ${s.received} received, ${s.relayed} relayed, ${s.refused} dead-lettered, ${s.retries} retries`);
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  },
});

export default defineCommand({
  meta: { name: "bot", description: "The notification relay: notifier messages to Telegram and a webhook" },
  default: "run",
  subCommands: { run },
});
