'use client';
// @ts-check
// Keeps the status panel in step with the editor's saves: the panel is a server component,
// which Payload's admin does not render again when a document is saved in place, so a save
// that sends the post to the engine (or fixes what the engine refused) would leave the panel
// showing the old state. This field renders nothing; after each save it asks Next.js to
// render the server components again. (The panel itself keeps refreshing while the engine
// works: engine-actions.mjs EngineRefresh.)

import { useDocumentInfo } from '@payloadcms/ui';
import { useRouter } from 'next/navigation.js';
import { useEffect, useRef } from 'react';

export function EngineLive() {
  const { lastUpdateTime } = useDocumentInfo();
  const router = useRouter();
  const seen = useRef(lastUpdateTime);
  useEffect(() => {
    if (lastUpdateTime !== seen.current) {
      seen.current = lastUpdateTime;
      router.refresh();
    }
  }, [lastUpdateTime, router]);
  return null;
}
