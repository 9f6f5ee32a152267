export { SCHEMA, type BotConfig } from './schema';
export { loadConfig, defaultConfig, ConfigError, isValidCron, isValidTimezone, type LoadOptions } from './load';
export { renderSample } from './sample';
