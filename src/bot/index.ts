/** The notification relay: notifier messages → Telegram chats and a JSON webhook (see relay.ts). */
export { Relay, type BotStats } from "./relay";
export { resolveBotSettings, type BotSettings } from "./settings";
export { formatNotice, payloadText, escapeHtml, TELEGRAM_MAX, type Notice } from "./format";
