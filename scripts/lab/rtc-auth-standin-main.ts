// Process entry of the lab stand-in for lk-jwt-service (see rtc-auth-standin.ts): lab only.
import { configFromEnv, createStandin } from './rtc-auth-standin';

const cfg = configFromEnv(process.env);
const colon = cfg.bind.lastIndexOf(':');
const host = cfg.bind.slice(0, colon) || '0.0.0.0';
const port = Number(cfg.bind.slice(colon + 1));
const server = createStandin(cfg);
server.listen(port, host);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
