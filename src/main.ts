// Bot entry: `node dist/src/main.js --config config.yaml` or `tsx src/main.ts --config config.yaml`.
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 start failed, 2 bad configuration.
import { ConfigError, loadConfig } from './config';
import { VoipBot } from './bot/bot';
import { adoptSdkLogging } from './bot/sdk-log';
import { describeError } from './bot/send';
import { createLogger } from './ops/log';
import { registerSecretValue, scrubText as scrub } from './ops/redact';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write('usage: mx-voiptest-bot --config FILE\n(secrets via MXV_ACCESS_TOKEN, MXV_PASSWORD, MXV_TURN_SHARED_SECRET or their _FILE variants;\n /healthz and /metrics on ops.listen / MXV_OPS_LISTEN, default 127.0.0.1:9464)\n');
    return 0;
  }
  const path = argValue('--config') ?? process.env.MXV_CONFIG;
  let config;
  try {
    config = loadConfig({ path });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Raw secret values are scrubbed from every log line, whichever library echoes them.
  for (const s of [config.homeserver.accessToken, config.homeserver.password, config.turn.sharedSecret]) registerSecretValue(s);
  const log = createLogger({ level: config.logging.level, format: config.logging.format });
  adoptSdkLogging(log);
  process.on('unhandledRejection', (e) => log.error('unhandled rejection', { error: scrub(describeError(e)) }));
  const bot = new VoipBot(config, log);
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) return;
    log.info('shutting down', { signal });
    stopping = bot.stop().then(() => process.exit(0), (e) => {
      log.error('shutdown failed', { error: describeError(e) });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await bot.start();
  } catch (e) {
    log.error('start failed', { error: scrub(describeError(e)) });
    await bot.stop(1000).catch(() => undefined);
    return 1;
  }
  return -1; // keep running
}

main().then((code) => {
  if (code >= 0) process.exit(code);
}, (e) => {
  process.stderr.write(`fatal: ${scrub(describeError(e))}\n`);
  process.exit(1);
});
