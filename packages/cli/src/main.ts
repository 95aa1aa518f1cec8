#!/usr/bin/env node
import { ConfigError, SETTINGS, loadConfig, startServer } from '@tessera/server';
import { openIndex } from '@tessera/index';

const USAGE = `usage: tessera <command>

commands:
  serve     start the DICOMweb server (migrations are applied first)
  migrate   apply pending index migrations and exit
  config    print the settings, their defaults and meaning

Configuration comes from environment variables (see \`tessera config\` or the README).`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  switch (command) {
    case 'serve': {
      const config = loadConfig();
      const server = await startServer(config);
      const stop = async (signal: string) => {
        server.app.log.info({ signal }, 'shutting down');
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      server.app.log.info({ index: server.index.description, blobStore: server.blobs.description }, `DICOMweb root ${server.url}/dicomweb`);
      return -1; // keep running
    }
    case 'migrate': {
      const config = loadConfig();
      const index = await openIndex(config.index);
      console.log(`index ${index.description} is at the latest schema`);
      await index.close();
      return 0;
    }
    case 'config':
      for (const [name, defaultValue, meaning] of SETTINGS) console.log(`${name.padEnd(30)} ${(defaultValue || '-').padEnd(14)} ${meaning}`);
      return 0;
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(`configuration error: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
