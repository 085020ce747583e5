/** AMQP (RabbitMQ) building blocks: connection with reconnect, topology, confirmed publishing. */
export { connectArgs, describeBroker, BrokerConfigError, type BrokerOptions } from "./options";
export { backoffDelay, sleep, whenAborted } from "./backoff";
export { connectBroker, BrokerUnavailable } from "./connect";
export { keepConnected, type KeepOptions, type LinkState, type Session } from "./keep";
export { publishConfirmed, drained, PublishFailed } from "./publish";
export { planTopology, declareTopology, deadQueueName, delayQueueName, TopologyError, type ServiceTopology, type Declaration } from "./topology";
export { queueDepths, type QueueDepth } from "./depth";
export type { ChannelModel, ConfirmChannel, Channel, ConsumeMessage, Message } from "amqplib";
