// @ts-check
// The admin's database before `next start`: Payload pushes the config's schema to SQLite in
// development only (a production server expects migrations), so the local stack pushes it
// here, as server.mjs does on its own start, then leaves. The config's onInit seeds users.
//   NODE_ENV=development node prepare-db.mjs   (env as server.mjs)
import { getPayload } from 'payload';

import config from './payload.config.mjs';

const payload = await getPayload({ config });
await payload.destroy();
process.exit(0);
