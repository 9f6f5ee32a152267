export { SCHEMA, type BotConfig } from './schema';
export { loadConfig, defaultConfig, ConfigError, isValidCron, isValidTimezone, isLoopbackListen, type LoadOptions } from './load';
export { renderSample } from './sample';
