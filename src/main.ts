import { loadConfig } from './config.js';
import { startGateway } from './server.js';
import { logger } from './lib/logger.js';
import { persistentSecret } from './bootstrap.js';

const config = loadConfig();
const gateway = await startGateway(config);

if (gateway.url) {
  logger.info({ url: gateway.url, role: config.ROLE }, 'audience gateway listening');
  process.stdout.write(`\nAudience Gateway is running at ${gateway.url}\n`);
  process.stdout.write(`  Segment destination endpoint: ${config.PUBLIC_URL ?? gateway.url}/v1/segment\n`);
  process.stdout.write(`  Admin page: ${gateway.url}/admin\n`);
}
const adminPassword = gateway.url ? persistentSecret(config, config.ADMIN_PASSWORD, 'admin-password') : undefined;
if (adminPassword?.created) {
  process.stdout.write(`  Admin page password (shown once, kept in ${config.DATA_DIR}/admin-password): ${adminPassword.value}\n`);
}
if (gateway.adminTokenCreated) {
  process.stdout.write(`  Admin token (shown once, kept in ${config.DATA_DIR}/admin-token): ${gateway.ctx.adminToken}\n\n`);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 20_000);
  force.unref();
  try {
    await gateway.stop();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
